package store

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// InboxRow is an inbox event as stored.
type InboxRow struct {
	ID             int64 `gorm:"primaryKey"`
	EventID        string
	EventType      string
	Source         string
	Payload        []byte
	EventCreatedAt *time.Time
	ReceivedAt     time.Time
	Status         string
	Reason         string
	Attempts       int
	NextAttemptAt  time.Time
	LastError      string
	DirectoryID    string
	PlanID         string
	ProcessedAt    *time.Time
}

// TableName implements gorm's Tabler.
func (InboxRow) TableName() string { return "inbox_events" }

// PutInbox stores ev unless an event with its id is already there. Unknown
// event types are stored as ignored, so they are acknowledged and never retried.
func (s *Store) PutInbox(ctx context.Context, ev membership.InboxEvent) (duplicate bool, err error) {
	dups, err := s.putInboxBatch(ctx, []putRequest{{ev: ev}})
	if err != nil {
		return false, err
	}
	return dups[0], nil
}

// Finish records an event's final outcome.
func (s *Store) Finish(ctx context.Context, id int64, o membership.Outcome, reason, planID, dirID string, now time.Time) error {
	err := s.q(ctx).Model(&InboxRow{}).Where("id = ?", id).Updates(map[string]any{
		"status": string(o), "reason": reason, "plan_id": planID, "directory_id": dirID,
		"processed_at": now.UTC(), "last_error": "",
	}).Error
	if err != nil {
		return fmt.Errorf("finish inbox event %d: %w", id, translate(err))
	}
	return nil
}

// Postpone keeps an event pending until next, counting the attempt and its error.
func (s *Store) Postpone(ctx context.Context, id int64, attempts int, next time.Time, reason, lastErr string) error {
	err := s.q(ctx).Model(&InboxRow{}).Where("id = ?", id).Updates(map[string]any{
		"attempts": attempts, "next_attempt_at": next.UTC(), "reason": reason, "last_error": lastErr,
	}).Error
	if err != nil {
		return fmt.Errorf("postpone inbox event %d: %w", id, translate(err))
	}
	return nil
}

// Park ends an event as failed or unmatched after its retry bound.
func (s *Store) Park(ctx context.Context, id int64, o membership.Outcome, attempts int, reason, lastErr string, now time.Time) error {
	err := s.q(ctx).Model(&InboxRow{}).Where("id = ?", id).Updates(map[string]any{
		"status": string(o), "attempts": attempts, "reason": reason, "last_error": lastErr, "processed_at": now.UTC(),
	}).Error
	if err != nil {
		return fmt.Errorf("park inbox event %d: %w", id, translate(err))
	}
	return nil
}

// WakeWaiting makes events that wait for a plan or directory due now, and
// gives unmatched ones another chance: a plan just got linked.
func (s *Store) WakeWaiting(ctx context.Context, now time.Time) error {
	err := s.q(ctx).Exec(`UPDATE inbox_events SET status = 'pending', next_attempt_at = ?, processed_at = NULL
		WHERE status IN ('pending', 'unmatched') AND reason LIKE 'waiting%'`, now.UTC()).Error
	if err != nil {
		return fmt.Errorf("wake waiting events: %w", translate(err))
	}
	return nil
}

// InboxEvent returns the stored event with the given WorkOS event id.
func (s *Store) InboxEvent(ctx context.Context, eventID string) (*InboxRow, error) {
	var r InboxRow
	if err := s.q(ctx).Where("event_id = ?", eventID).Take(&r).Error; err != nil {
		return nil, fmt.Errorf("get inbox event %s: %w", eventID, translate(err))
	}
	return &r, nil
}

// InboxCounts returns how many events are in each status.
func (s *Store) InboxCounts(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		Status string
		N      int64
	}
	if err := s.q(ctx).Raw("SELECT status, COUNT(*) AS n FROM inbox_events GROUP BY status").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("count inbox events: %w", translate(err))
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, nil
}

// Backlog summarizes the pending inbox for monitoring.
type Backlog struct {
	Pending int64 // events not applied yet
	Waiting int64 // of those, events waiting for their plan to be linked (SPEC §4.1)
	// Oldest is the received_at of the oldest pending event that is not
	// waiting for its plan; zero when there is none.
	Oldest time.Time
}

// InboxBacklog returns the pending inbox's size and age. Both queries filter on
// status = 'pending', which the partial index inbox_events_pending serves:
// they read only pending rows, however long the processed history grows.
// Events waiting for a plan are left out of Oldest: they wait legitimately,
// until applier.unmatched_after, and would otherwise look like a stuck applier.
func (s *Store) InboxBacklog(ctx context.Context) (Backlog, error) {
	var b Backlog
	var n struct{ Pending, Waiting int64 }
	err := s.q(ctx).Raw(`SELECT COUNT(*) AS pending, COALESCE(SUM(CASE WHEN reason LIKE 'waiting%' THEN 1 ELSE 0 END), 0) AS waiting
		FROM inbox_events WHERE status = 'pending'`).Find(&n).Error
	if err != nil {
		return b, fmt.Errorf("inbox backlog: %w", translate(err))
	}
	b.Pending, b.Waiting = n.Pending, n.Waiting
	if b.Pending == b.Waiting {
		return b, nil
	}
	var oldest []struct{ ReceivedAt time.Time }
	err = s.q(ctx).Raw(`SELECT received_at FROM inbox_events WHERE status = 'pending' AND reason NOT LIKE 'waiting%'
		ORDER BY received_at LIMIT 1`).Find(&oldest).Error
	if err != nil {
		return b, fmt.Errorf("inbox backlog: %w", translate(err))
	}
	if len(oldest) > 0 {
		b.Oldest = oldest[0].ReceivedAt
	}
	return b, nil
}
