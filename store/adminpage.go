package store

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SeatChange is an audit entry that may have moved a paid seat of its plan,
// reduced to what the seat history of the admin page reads.
type SeatChange struct {
	ID         int64
	At         time.Time
	Action     string
	FromPlanID string
}

// seatActions are the audit actions that move a paid seat into or out of a
// plan (moved: either way, depending on from_plan_id).
var seatActions = []string{membership.ActionGranted, membership.ActionManualAdded, membership.ActionMovedToFree,
	membership.ActionManualRemoved, membership.ActionMoved}

// SeatChanges returns the plan's audit entries that may have moved a paid
// seat, newest first, at most limit of them; the audit_entries_plan index
// serves the order.
func (s *Store) SeatChanges(ctx context.Context, planID string, limit int) ([]SeatChange, error) {
	var rows []SeatChange
	err := s.q(ctx).Model(&AuditRow{}).Select("id, at, action, from_plan_id").
		Where("plan_id = ? AND action IN ?", planID, seatActions).Order("id DESC").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list seat changes: %w", translate(err))
	}
	return rows, nil
}

// AdminPlans returns the plans email administers, by id, at most limit.
func (s *Store) AdminPlans(ctx context.Context, email string, limit int) ([]PlanRow, error) {
	var rows []PlanRow
	err := s.q(ctx).Where("id IN (SELECT plan_id FROM plan_admins WHERE email = ?)", email).Order("id").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list plans of an admin: %w", translate(err))
	}
	return rows, nil
}
