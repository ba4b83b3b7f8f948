package store

import (
	"context"
	"fmt"
)

// ActiveUsers returns how many users of a directory are in A now, from the
// counter TouchDirectory keeps (0 for an unknown directory).
func (s *Store) ActiveUsers(ctx context.Context, directoryID string) (int64, error) {
	var n int64
	if err := s.q(ctx).Raw("SELECT active_users FROM directories WHERE id = ?", directoryID).Find(&n).Error; err != nil {
		return 0, fmt.Errorf("count active users: %w", translate(err))
	}
	return n, nil
}

// PlanEventCounts returns the plan's events rejected, unmatched or failed so far
// (recorded with its plan), and the inbox-wide pending count.
func (s *Store) PlanEventCounts(ctx context.Context, planID string) (pending, failed int64, err error) {
	if err = s.q(ctx).Model(&InboxRow{}).Where("status = 'pending'").Count(&pending).Error; err != nil {
		return 0, 0, fmt.Errorf("count pending events: %w", translate(err))
	}
	if err = s.q(ctx).Raw(planFailedEvents, planID).Find(&failed).Error; err != nil {
		return 0, 0, fmt.Errorf("count failed events: %w", translate(err))
	}
	return pending, failed, nil
}

// planFailedEvents counts a plan's failed and rejected events; the statuses
// are literals, so even a generic plan proves the predicate of
// inbox_events_plan_parked (see migration 0006).
const planFailedEvents = "SELECT COUNT(*) FROM inbox_events WHERE plan_id = ? AND status IN ('failed', 'rejected')"
