package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// EventSummary is an inbox event without its payload, as operators list it.
type EventSummary struct {
	ID          int64
	EventID     string
	EventType   string
	Source      string
	ReceivedAt  time.Time
	Status      string
	Reason      string
	Attempts    int
	LastError   string
	PlanID      string
	DirectoryID string
}

// ListEvents returns up to limit inbox events after the position after (0 for
// the start), oldest first, only those in status unless it is "". next is the
// position to pass as after for the following page, 0 when there is none.
func (s *Store) ListEvents(ctx context.Context, status string, after int64, limit int) (events []EventSummary, next int64, err error) {
	q, args := listEventsQuery(status, after, limit+1)
	if err := s.q(ctx).Raw(q, args...).Find(&events).Error; err != nil {
		return nil, 0, fmt.Errorf("list inbox events: %w", translate(err))
	}
	if len(events) > limit {
		events = events[:limit]
		next = events[limit-1].ID
	}
	return events, next, nil
}

// listEventsQuery is ListEvents' query and its arguments, reading up to n
// events. A parked status is written as a literal, so that even a generic
// plan proves the predicate of inbox_events_parked (the only index on
// status: see migration 0006).
func listEventsQuery(status string, after int64, n int) (string, []any) {
	q := "SELECT id, event_id, event_type, source, received_at, status, reason, attempts, last_error, plan_id, directory_id " +
		"FROM inbox_events WHERE id > ?"
	args := []any{after}
	switch {
	case slices.Contains(RetryableStatuses, status):
		q += " AND status = '" + status + "'"
	case status != "":
		q += " AND status = ?"
		args = append(args, status)
	}
	return q + " ORDER BY id LIMIT ?", append(args, n)
}

// RetryableStatuses are the parked outcomes an operator may send back to the
// appliers. stale is not among them: a stale event is older than what is
// stored, so running it again can only be stale again; applied and ignored
// events are done, and pending ones are already queued.
var RetryableStatuses = []string{
	string(membership.OutcomeFailed), string(membership.OutcomeRejected),
	string(membership.OutcomeUnmatched), string(membership.OutcomeConflict),
}

// parked is the predicate of inbox_events_parked, with literals for the same reason.
var parked = "status IN ('" + strings.Join(RetryableStatuses, "', '") + "')"

// RetrySelection names the events RetryEvents re-queues: the events with the
// given WorkOS event ids, or else every event in Status.
type RetrySelection struct {
	EventIDs []string
	Status   string
}

// RetryResult counts what RetryEvents did: Retried events went back to
// pending; Skipped ones were named but not parked (pending, applied, ignored
// or stale), so nothing changed for them.
type RetryResult struct {
	Retried int
	Skipped int
}

// RetryEvents puts parked events back to pending, due at now, with their
// attempts reset, processed_at cleared and the reason "retried by <actor>";
// last_error stays until the next run replaces it. It is idempotent: an event
// that is not parked any more is skipped, so retrying twice re-queues once.
// Re-running never applies a change twice either, since the appliers' version
// checks make an already applied change stale. Unknown event ids are a
// NotFound error and nothing is retried.
func (s *Store) RetryEvents(ctx context.Context, sel RetrySelection, actor string, now time.Time) (RetryResult, error) {
	var res RetryResult
	fields := map[string]any{"status": string(membership.OutcomePending), "attempts": 0, "next_attempt_at": now.UTC(),
		"reason": "retried by " + actor, "processed_at": nil}
	err := s.Tx(ctx, func(tx *Store) error {
		q := tx.q(ctx).Model(&InboxRow{}).Where(parked)
		if len(sel.EventIDs) == 0 {
			if !slices.Contains(RetryableStatuses, sel.Status) {
				return membership.Errorf(membership.Invalid, "invalid_outcome", "outcome %q cannot be retried", sel.Status)
			}
			r := q.Where("status = '" + sel.Status + "'").Updates(fields) // a parked status: a literal, like parked
			res.Retried = int(r.RowsAffected)
			return r.Error
		}
		ids := slices.Compact(slices.Sorted(slices.Values(sel.EventIDs)))
		var found []string
		if err := tx.q(ctx).Model(&InboxRow{}).Where("event_id IN ?", ids).Pluck("event_id", &found).Error; err != nil {
			return err
		}
		if len(found) < len(ids) {
			for _, id := range ids {
				if !slices.Contains(found, id) {
					return membership.Errorf(membership.NotFound, "event_not_found", "no inbox event %s", id)
				}
			}
		}
		r := q.Where("event_id IN ?", ids).Updates(fields)
		res.Retried, res.Skipped = int(r.RowsAffected), len(ids)-int(r.RowsAffected)
		return r.Error
	})
	if err != nil {
		return RetryResult{}, fmt.Errorf("retry inbox events: %w", translate(err))
	}
	return res, nil
}
