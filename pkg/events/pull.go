package events

import (
	"context"
	"fmt"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
)

// PullOnce walks the Events API from the stored cursor to the end of the
// stream, oldest first. Each page's events commit in one transaction with the
// cursor's move to the page's last event, so the cursor never passes an event
// that is not in the inbox, and a failure leaves it at the last committed page.
// Without a cursor, or when WorkOS refuses it (expired past the retention
// window, or unknown), the walk starts at the retention window: events seen
// before come back as duplicates, which the inbox absorbs. It returns an error
// wrapping ErrBusy when another replica holds the poller's lease.
func (p *Poller) PullOnce(ctx context.Context) (Report, error) {
	var rep Report
	if err := p.lease(ctx); err != nil {
		return rep, err
	}
	after, err := p.st.EventCursor(ctx, CursorName)
	if err != nil {
		return rep, fmt.Errorf("pull events: %w", err)
	}
	rep.Cursor = after
	if after != "" && p.expired(ctx, after) {
		// WorkOS may answer an expired cursor with an empty page rather than an
		// error (reference §7.2, unverified): that would stall the poller
		// silently forever, so a cursor known to be too old is not even sent.
		if after, err = p.restart(ctx, &rep, "cursor event is older than the retention window", nil); err != nil {
			return rep, err
		}
	}
	for {
		q := workosapi.EventsQuery{Types: Types(), After: after, Limit: p.opts.PageSize}
		if after == "" {
			q.RangeStart = p.windowStart()
		}
		page, err := p.api.ListEvents(ctx, q)
		if err != nil {
			if after == "" || rep.Restarts > 0 || membership.ErrorCode(err) != "workos_invalid_request" {
				return rep, fmt.Errorf("pull events after %q: %w", after, err)
			}
			if after, err = p.restart(ctx, &rep, "WorkOS refused the cursor", err); err != nil {
				return rep, err
			}
			continue
		}
		rep.Pages++
		rep.Fetched += len(page.Events)
		// WorkOS's own after also covers envelopes the client skipped as unreadable.
		next := page.After
		if next == "" && len(page.Events) > 0 {
			next = page.Events[len(page.Events)-1].ID
		}
		if next == "" || next == after {
			return rep, nil
		}
		stored, dups, err := p.commit(ctx, page.Events, next)
		if err != nil {
			return rep, fmt.Errorf("pull events after %q: %w", after, err)
		}
		rep.Stored, rep.Duplicates, rep.Cursor, after = rep.Stored+stored, rep.Duplicates+dups, next, next
		if stored > 0 && p.opts.Kick != nil {
			p.opts.Kick()
		}
		if page.After == "" {
			return rep, nil
		}
		// A long walk may outlast the lease: renew it, and stop if it was lost.
		if err := p.lease(ctx); err != nil {
			return rep, err
		}
	}
}

// commit stores one page's events and moves the cursor in one transaction.
func (p *Poller) commit(ctx context.Context, evs []workosapi.Event, cursor string) (stored, dups int, err error) {
	duplicate := make([]bool, len(evs))
	err = p.st.Tx(ctx, func(tx *store.Store) error {
		stored, dups = 0, 0
		for i, ev := range evs {
			dup, err := tx.PutInbox(ctx, membership.InboxEvent{EventID: ev.ID, Type: ev.Type, CreatedAt: ev.CreatedAt,
				Payload: ev.Raw, Source: membership.SourceEventsAPI})
			if err != nil {
				return err
			}
			duplicate[i] = dup
			if dup {
				dups++
			} else {
				stored++
			}
		}
		return tx.SetEventCursor(ctx, CursorName, cursor)
	})
	if err == nil && p.opts.Observer != nil {
		for i, ev := range evs {
			status := "accepted"
			switch {
			case duplicate[i]:
				status = "duplicate"
			case !membership.IsKnownEventType(ev.Type):
				status = "ignored"
			}
			p.opts.Observer.EventReceived(string(membership.SourceEventsAPI), ev.Type, status)
		}
	}
	return stored, dups, err
}

// expired reports whether the cursor's event, as stored in the inbox, is older
// than the retention window. An event the inbox lacks or without a timestamp
// is left for WorkOS to judge.
func (p *Poller) expired(ctx context.Context, after string) bool {
	ev, err := p.st.InboxEvent(ctx, after)
	if err != nil || ev.EventCreatedAt == nil {
		return false
	}
	return ev.EventCreatedAt.Before(p.opts.Now().Add(-p.opts.Retention))
}

// restart forgets the cursor, so the walk (and the next one, should the window
// be empty) starts at the retention window.
func (p *Poller) restart(ctx context.Context, rep *Report, why string, cause error) (string, error) {
	attrs := []any{"cursor", rep.Cursor, "reason", why}
	if cause != nil {
		attrs = append(attrs, "err", cause)
	}
	p.opts.Log.WarnContext(ctx, "events cursor given up; restarting from the retention window", attrs...)
	if err := p.st.SetEventCursor(ctx, CursorName, ""); err != nil {
		return "", fmt.Errorf("pull events: %w", err)
	}
	rep.Restarts++
	rep.Cursor = ""
	return "", nil
}
