package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// Reconciliation states. A run stays running until its listing and the
// marking of gone users are done, across failures and restarts: that row and
// its cursor are what the next run resumes from.
const (
	ReconcileRunning  = "running"
	ReconcileComplete = "complete"
	ReconcileFailed   = "failed"
)

// ReconciliationRow is the latest reconciliation run of one directory.
type ReconciliationRow struct {
	DirectoryID string `gorm:"primaryKey"`
	PlanID      string
	RunID       string
	State       string
	Cursor      string // list_metadata.after of the last page whose users were applied
	StartedAt   time.Time
	FinishedAt  *time.Time
	Listed      int
	Changed     int
	Gone        int
	Requests    int
	Error       string
	UpdatedAt   time.Time
}

// TableName implements gorm's Tabler.
func (ReconciliationRow) TableName() string { return "reconciliations" }

// StartReconciliation returns the directory's running reconciliation, to be
// resumed (resumed true), or else records a new run runID started at now with
// an empty cursor and drops seen ids a superseded run left behind.
func (s *Store) StartReconciliation(ctx context.Context, dirID, planID, runID string, now time.Time) (row ReconciliationRow, resumed bool, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		var rows []ReconciliationRow
		if err := tx.q(ctx).Raw("SELECT * FROM reconciliations WHERE directory_id = ?"+tx.forUpdate(), dirID).Find(&rows).Error; err != nil {
			return err
		}
		if len(rows) > 0 && rows[0].State == ReconcileRunning && rows[0].PlanID == planID {
			row, resumed = rows[0], true
			return nil
		}
		now = now.UTC()
		row = ReconciliationRow{DirectoryID: dirID, PlanID: planID, RunID: runID, State: ReconcileRunning,
			StartedAt: now, UpdatedAt: now}
		if err := tx.q(ctx).Exec("DELETE FROM reconcile_seen WHERE directory_id = ?", dirID).Error; err != nil {
			return err
		}
		if len(rows) > 0 {
			return tx.q(ctx).Exec(`UPDATE reconciliations SET plan_id = ?, run_id = ?, state = ?, cursor = '', started_at = ?,
				finished_at = NULL, listed = 0, changed = 0, gone = 0, requests = 0, error = '', updated_at = ? WHERE directory_id = ?`,
				planID, runID, ReconcileRunning, now, now, dirID).Error
		}
		return tx.q(ctx).Create(&row).Error
	})
	if err != nil {
		return row, false, fmt.Errorf("start reconciliation of %s: %w", dirID, translate(err))
	}
	return row, resumed, nil
}

// SaveReconciliation writes the run's cursor, counts, state and error, and
// records the ids of the users the page listed, in one transaction: a resumed
// run never trusts a cursor whose users were not recorded as seen. A finished
// run (complete or failed) also drops its seen ids. It fails with Conflict
// when the run is no longer the directory's running one (another replica took
// it over after this one's lease ran out).
func (s *Store) SaveReconciliation(ctx context.Context, r ReconciliationRow, seen []string) error {
	err := s.Tx(ctx, func(tx *Store) error {
		if len(seen) > 0 {
			vals := strings.TrimSuffix(strings.Repeat("(?, ?, ?),", len(seen)), ",")
			args := make([]any, 0, 3*len(seen))
			for _, id := range seen {
				args = append(args, r.DirectoryID, r.RunID, id)
			}
			// A page listed again after a crash is already recorded.
			if err := tx.q(ctx).Exec("INSERT INTO reconcile_seen (directory_id, run_id, user_id) VALUES "+vals+
				" ON CONFLICT DO NOTHING", args...).Error; err != nil {
				return err
			}
		}
		res := tx.q(ctx).Exec(`UPDATE reconciliations SET state = ?, cursor = ?, finished_at = ?, listed = ?, changed = ?,
			gone = ?, requests = ?, error = ?, updated_at = ? WHERE directory_id = ? AND run_id = ? AND state = ?`,
			r.State, r.Cursor, r.FinishedAt, r.Listed, r.Changed, r.Gone, r.Requests, r.Error, time.Now().UTC(),
			r.DirectoryID, r.RunID, ReconcileRunning)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return membership.Errorf(membership.Conflict, "reconcile_running",
				"the reconciliation of directory %s was taken over by another replica", r.DirectoryID)
		}
		if r.State == ReconcileRunning {
			return nil
		}
		return tx.q(ctx).Exec("DELETE FROM reconcile_seen WHERE directory_id = ? AND run_id = ?", r.DirectoryID, r.RunID).Error
	})
	if err != nil {
		return fmt.Errorf("save reconciliation of %s: %w", r.DirectoryID, translate(err))
	}
	return nil
}

// UnseenDirectoryUsers returns up to limit live users of the directory, with
// ids after `after`, that run runID has not listed.
func (s *Store) UnseenDirectoryUsers(ctx context.Context, dirID, runID, after string, limit int) ([]membership.DirectoryUser, error) {
	var rows []UserRow
	err := s.q(ctx).Raw(`SELECT * FROM directory_users du WHERE du.directory_id = ? AND du.id > ? AND NOT du.deleted
		AND NOT EXISTS (SELECT 1 FROM reconcile_seen rs WHERE rs.directory_id = du.directory_id AND rs.run_id = ? AND rs.user_id = du.id)
		ORDER BY du.id LIMIT ?`, dirID, after, runID, limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list unseen directory users: %w", translate(err))
	}
	out := make([]membership.DirectoryUser, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// LiveDirectoryUsers counts the directory's users that are not deleted.
func (s *Store) LiveDirectoryUsers(ctx context.Context, dirID string) (int64, error) {
	var n int64
	if err := s.q(ctx).Model(&UserRow{}).Where("directory_id = ? AND NOT deleted", dirID).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count directory users: %w", translate(err))
	}
	return n, nil
}

// PlanReconciliations returns the latest reconciliation of each directory the
// plan's reconciliations covered, ordered by directory id.
func (s *Store) PlanReconciliations(ctx context.Context, planID string) ([]ReconciliationRow, error) {
	var rows []ReconciliationRow
	if err := s.q(ctx).Where("plan_id = ?", planID).Order("directory_id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list reconciliations: %w", translate(err))
	}
	return rows, nil
}
