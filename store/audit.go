package store

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// AuditRow is an audit entry as stored.
type AuditRow struct {
	ID          int64 `gorm:"primaryKey"`
	PlanID      string
	At          time.Time
	Actor       string
	Action      string
	MemberEmail string
	FromPlanID  string
	EventID     string
	Reason      string
}

// TableName implements gorm's Tabler.
func (AuditRow) TableName() string { return "audit_entries" }

// AddAudit writes audit entries; callers pass the transaction of the change.
func (s *Store) AddAudit(ctx context.Context, entries ...membership.AuditEntry) error {
	if len(entries) == 0 {
		return nil
	}
	rows := make([]AuditRow, len(entries))
	for i, e := range entries {
		rows[i] = AuditRow{PlanID: e.PlanID, At: e.At.UTC(), Actor: e.Actor, Action: e.Action, MemberEmail: e.MemberEmail,
			FromPlanID: e.FromPlanID, EventID: e.EventID, Reason: e.Reason}
	}
	if err := s.q(ctx).Create(&rows).Error; err != nil {
		return fmt.Errorf("add audit entries: %w", translate(err))
	}
	return nil
}

// Audit returns a plan's audit entries newest first, with ids below `before`
// (0 = from the newest).
func (s *Store) Audit(ctx context.Context, planID string, before int64, limit int) ([]AuditRow, error) {
	q := s.q(ctx).Where("plan_id = ?", planID).Order("id DESC").Limit(limit)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var rows []AuditRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list audit: %w", translate(err))
	}
	return rows, nil
}
