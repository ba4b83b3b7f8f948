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
	n := len(entries)
	plans, actors, actions, emails := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	froms, events, reasons, ats := make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	for i, e := range entries {
		plans[i], actors[i], actions[i], emails[i] = e.PlanID, e.Actor, e.Action, e.MemberEmail
		froms[i], events[i], reasons[i], ats[i] = e.FromPlanID, e.EventID, e.Reason, e.At.UTC()
	}
	const cols = "plan_id, at, actor, action, member_email, from_plan_id, event_id, reason"
	cte, args := s.rowsCTE(cols, plans, ats, actors, actions, emails, froms, events, reasons)
	if err := s.execRows(ctx, cte+" INSERT INTO audit_entries ("+cols+") SELECT * FROM v", args); err != nil {
		return fmt.Errorf("add audit entries: %w", err)
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
