package store

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// notInA matches members of plan ? whose email no directory user in A of the
// plan's live directories carries.
const notInA = `NOT EXISTS (SELECT 1 FROM directory_users du JOIN directories d ON d.id = du.directory_id
	WHERE d.plan_id = ? AND d.state <> 'deleted' AND du.email = members.email AND du.in_a AND NOT du.deleted)`

// Downgrade moves every paid member of the plan who is not in A to free, and
// audits each move: the cutover downgrade of SPEC §3, one set-based statement
// (an audit insert beside it) whatever the plan's size.
func (s *Store) Downgrade(ctx context.Context, planID string, at time.Time, eventID, reason string) (int64, error) {
	n, err := s.downgrade(ctx, planID, at, eventID, reason)
	if err != nil {
		return 0, err
	}
	return n, s.movePlanSeatsToFree(ctx, planID, n)
}

// movePlanSeatsToFree counts n members of the plan moved to free.
func (s *Store) movePlanSeatsToFree(ctx context.Context, planID string, n int64) error {
	var orgID string
	if err := s.q(ctx).Raw("SELECT organization_id FROM plans WHERE id = ?", planID).Find(&orgID).Error; err != nil {
		return fmt.Errorf("count seats: %w", translate(err))
	}
	return s.moveSeats(ctx, orgID, planID, "", false, n)
}

func (s *Store) downgrade(ctx context.Context, planID string, at time.Time, eventID, reason string) (int64, error) {
	now := at.UTC()
	if s.dialect == "postgres" {
		res := s.q(ctx).Exec(`WITH moved AS (
			UPDATE members SET plan_id = NULL, source = '', updated_at = ? WHERE plan_id = ? AND `+notInA+`
			RETURNING email)
			INSERT INTO audit_entries (plan_id, at, actor, action, member_email, from_plan_id, event_id, reason)
			SELECT ?, ?, 'system', ?, email, ?, ?, ? FROM moved`,
			now, planID, planID, planID, now, membership.ActionMovedToFree, planID, eventID, reason)
		if res.Error != nil {
			return 0, fmt.Errorf("downgrade plan %s: %w", planID, translate(res.Error))
		}
		return res.RowsAffected, nil
	}
	err := s.q(ctx).Exec(`INSERT INTO audit_entries (plan_id, at, actor, action, member_email, from_plan_id, event_id, reason)
		SELECT ?, ?, 'system', ?, email, ?, ?, ? FROM members WHERE plan_id = ? AND `+notInA,
		planID, now, membership.ActionMovedToFree, planID, eventID, reason, planID, planID).Error
	if err != nil {
		return 0, fmt.Errorf("downgrade plan %s: audit: %w", planID, translate(err))
	}
	res := s.q(ctx).Exec(`UPDATE members SET plan_id = NULL, source = '', updated_at = ? WHERE plan_id = ? AND `+notInA,
		now, planID, planID)
	if res.Error != nil {
		return 0, fmt.Errorf("downgrade plan %s: %w", planID, translate(res.Error))
	}
	return res.RowsAffected, nil
}

// ReleaseDirectorySeats applies a directory deletion to the plan's
// directory-sourced seats: with keep they become manual seats; with free they
// move to free, except seats an admin had given before the directory.
func (s *Store) ReleaseDirectorySeats(ctx context.Context, planID, policy string, at time.Time, eventID string) error {
	now := at.UTC()
	audit := func(action, reason, where string) error {
		return s.q(ctx).Exec(`INSERT INTO audit_entries (plan_id, at, actor, action, member_email, from_plan_id, event_id, reason)
			SELECT ?, ?, 'system', ?, email, ?, ?, ? FROM members WHERE plan_id = ? AND source = 'directory' AND `+where,
			planID, now, action, planID, eventID, reason, planID).Error
	}
	manualBefore := "manual_plan_id = plan_id"
	notManualBefore := "(manual_plan_id IS NULL OR manual_plan_id <> plan_id)"
	steps := []struct {
		run func() error
	}{
		{func() error {
			if policy == "free" {
				return audit(membership.ActionMovedToFree, "directory deleted; seats.on_directory_deleted is free", notManualBefore)
			}
			return audit(membership.ActionSourceChanged, "directory deleted; seat kept as manual", "1=1")
		}},
		{func() error {
			if policy != "free" {
				return nil
			}
			return audit(membership.ActionSourceChanged, "directory deleted; seat given by an admin before the directory kept", manualBefore)
		}},
		{func() error {
			if policy != "free" {
				return nil
			}
			res := s.q(ctx).Exec(`UPDATE members SET plan_id = NULL, source = '', updated_at = ?
				WHERE plan_id = ? AND source = 'directory' AND `+notManualBefore, now, planID)
			if res.Error != nil {
				return res.Error
			}
			return s.movePlanSeatsToFree(ctx, planID, res.RowsAffected)
		}},
		{func() error {
			return s.q(ctx).Exec(`UPDATE members SET source = 'manual', manual_plan_id = plan_id, updated_at = ?
				WHERE plan_id = ? AND source = 'directory'`, now, planID).Error
		}},
	}
	for _, st := range steps {
		if err := st.run(); err != nil {
			return fmt.Errorf("release directory seats of plan %s: %w", planID, translate(err))
		}
	}
	return nil
}
