package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// InboxWriter is group commit for the inbox: concurrent PutInbox calls share
// one transaction, so ingestion is bounded by how many events fit in a commit,
// not by the database's commit rate. A call returns only after its event is
// committed, as the webhook contract requires.
type InboxWriter struct {
	st       *Store
	reqs     chan putRequest
	maxBatch int
	maxWait  time.Duration
	writers  int
}

type putRequest struct {
	ev   membership.InboxEvent
	done chan putResult // buffered: the writer never blocks on a caller that left
}

type putResult struct {
	duplicate bool
	err       error
}

// NewInboxWriter returns a writer that commits up to maxBatch events at once,
// waiting at most maxWait for a batch to fill, with `writers` transactions in
// flight. Run must be running for PutInbox to return.
func (s *Store) NewInboxWriter(maxBatch int, maxWait time.Duration, writers int) *InboxWriter {
	if s.dialect == "sqlite" {
		writers = 1 // one connection: a second writer would only queue behind it
	}
	return &InboxWriter{st: s, reqs: make(chan putRequest), maxBatch: max(maxBatch, 1), maxWait: maxWait, writers: max(writers, 1)}
}

// PutInbox stores ev, deduplicated by event id, and reports whether it was
// already there. It implements the webhook handler's Inbox.
func (w *InboxWriter) PutInbox(ctx context.Context, ev membership.InboxEvent) (bool, error) {
	req := putRequest{ev: ev, done: make(chan putResult, 1)}
	select {
	case w.reqs <- req:
	case <-ctx.Done():
		return false, unavailableCtx(ctx)
	}
	select {
	case r := <-req.done:
		return r.duplicate, r.err
	case <-ctx.Done():
		// The event may still be committed; the sender retries and gets "duplicate".
		return false, unavailableCtx(ctx)
	}
}

func unavailableCtx(ctx context.Context) error {
	return fmt.Errorf("put inbox event: %w", &unavailableError{ctx.Err()})
}

// Run commits batches until ctx ends; requests still queued then are failed
// so their senders retry.
func (w *InboxWriter) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for range w.writers {
		wg.Go(func() { w.loop(ctx) })
	}
	wg.Wait()
}

func (w *InboxWriter) loop(ctx context.Context) {
	for {
		var first putRequest
		select {
		case first = <-w.reqs:
		case <-ctx.Done():
			return
		}
		batch := []putRequest{first}
		timer := time.NewTimer(w.maxWait)
	fill:
		for len(batch) < w.maxBatch {
			select {
			case r := <-w.reqs:
				batch = append(batch, r)
			case <-timer.C:
				break fill
			}
		}
		timer.Stop()
		// The commit finishes even during shutdown: its callers are waiting for it.
		dups, err := w.st.putInboxBatch(context.WithoutCancel(ctx), batch)
		for i, r := range batch {
			if err != nil {
				r.done <- putResult{err: err}
			} else {
				r.done <- putResult{duplicate: dups[i]}
			}
		}
	}
}

// putInboxBatch inserts the batch in one statement and one transaction and
// reports, per request, whether its event id was already stored (or came
// earlier in the same batch).
func (s *Store) putInboxBatch(ctx context.Context, batch []putRequest) ([]bool, error) {
	now := time.Now().UTC()
	// Rows go in event-id order: two transactions inserting overlapping ids
	// (the poller and a writer) then wait on each other instead of deadlocking.
	order := make([]putRequest, len(batch))
	copy(order, batch)
	slices.SortFunc(order, func(a, b putRequest) int { return strings.Compare(a.ev.EventID, b.ev.EventID) })
	n := len(order)
	ids, types, sources := make([]string, n), make([]string, n), make([]string, n)
	payloads, created := make([][]byte, n), make([]*time.Time, n)
	statuses, reasons, processed := make([]string, n), make([]string, n), make([]*time.Time, n)
	for i, r := range order {
		ids[i], types[i], sources[i], payloads[i] = r.ev.EventID, r.ev.Type, string(r.ev.Source), r.ev.Payload
		if !r.ev.CreatedAt.IsZero() {
			t := r.ev.CreatedAt.UTC()
			created[i] = &t
		}
		statuses[i] = string(membership.OutcomePending)
		if !membership.IsKnownEventType(r.ev.Type) {
			statuses[i], reasons[i], processed[i] = string(membership.OutcomeIgnored), "event type not handled", &now
		}
	}
	nows := make([]time.Time, n)
	for i := range nows {
		nows[i] = now
	}
	cte, args := s.rowsCTE("event_id, event_type, source, payload, event_created_at, received_at, status, reason, processed_at",
		ids, types, sources, payloads, created, nows, statuses, reasons, processed)
	fresh := make(map[string]bool, n)
	err := s.queryRows(ctx, cte+` INSERT INTO inbox_events (event_id, event_type, source, payload,
		event_created_at, received_at, status, reason, next_attempt_at, processed_at)
		SELECT event_id, event_type, source, payload, event_created_at, received_at, status, reason, received_at, processed_at
		FROM v WHERE true ON CONFLICT (event_id) DO NOTHING RETURNING event_id`, args, // WHERE: SQLite's upsert after a SELECT
		func(rows *sql.Rows) error {
			var id string
			err := rows.Scan(&id)
			fresh[id] = true
			return err
		})
	if err != nil {
		return nil, fmt.Errorf("put %d inbox events: %w", len(batch), err)
	}
	dups := make([]bool, len(batch))
	for i, r := range batch {
		dups[i] = !fresh[r.ev.EventID]
		delete(fresh, r.ev.EventID) // a second copy in the same batch is a duplicate
	}
	return dups, nil
}
