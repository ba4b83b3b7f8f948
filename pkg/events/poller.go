// Package events pulls Directory Sync events from the WorkOS Events API into
// the inbox: the second transport beside webhooks (SPEC §2). Both transports
// carry the same event ids, so the inbox's unique event id makes running them
// together produce duplicates, never a second apply.
package events

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
)

// Names of the poller's lease and cursor in the store.
const (
	LeaseName  = "events-poller"
	CursorName = "workos-events"
)

// windowMargin keeps range_start inside WorkOS's retention window despite
// clock skew and request latency; events that old are about to expire anyway.
const windowMargin = 5 * time.Minute

// ErrBusy means another replica holds the poller's lease: skip this round.
var ErrBusy = membership.Errorf(membership.Conflict, "events_poller_busy", "another replica is pulling WorkOS events")

// Types returns the event types the poller asks for: the Directory Sync types
// of the current WorkOS spec (reference §4.2). dsync.deactivated is handled when
// a webhook brings it but not requested: it is not in the spec's event union,
// and a filter WorkOS does not know risks a 422 that would stop all polling.
func Types() []string {
	return []string{"dsync.activated", "dsync.deleted",
		"dsync.user.created", "dsync.user.updated", "dsync.user.deleted",
		"dsync.group.created", "dsync.group.updated", "dsync.group.deleted",
		"dsync.group.user_added", "dsync.group.user_removed"}
}

// Options configures a Poller.
type Options struct {
	Holder    string        // this replica's lease holder id; "" means hostname plus a random suffix
	Lease     time.Duration // how long the lease lasts unless renewed; 0 means a minute
	PageSize  int           // events per request, 1–100; 0 means 100
	Retention time.Duration // how long WorkOS keeps events; 0 means 30 days
	Log       *slog.Logger
	Now       func() time.Time
	Kick      func() // called after new events are committed, to wake the local applier
	Observer  Observer
}

// Observer hears of every event a pull stored or found already stored, for
// metrics; *metrics.Metrics implements it. Calls must not block.
type Observer interface {
	// EventReceived reports one event: source "events_api", its type, and
	// accepted, duplicate or ignored.
	EventReceived(source, eventType, status string)
}

// Report counts what one PullOnce did.
type Report struct {
	Pages      int    // pages WorkOS answered
	Fetched    int    // events received
	Stored     int    // events new to the inbox
	Duplicates int    // events already in the inbox, from webhooks or an earlier pull
	Restarts   int    // times the cursor was given up and the walk restarted from the retention window
	Cursor     string // the cursor after the pull: the last event id stored
}

// Poller copies Events API pages into the inbox, advancing a persisted cursor.
type Poller struct {
	st   *store.Store
	api  *workosapi.Client
	opts Options
}

// New returns a Poller that stores into st what api lists.
func New(st *store.Store, api *workosapi.Client, opts Options) *Poller {
	if opts.Holder == "" {
		host, _ := os.Hostname()
		opts.Holder = host + "-" + rand.Text()[:8]
	}
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.PageSize <= 0 || opts.PageSize > 100 {
		opts.PageSize = 100
	}
	if opts.Retention <= 0 {
		opts.Retention = 30 * 24 * time.Hour
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Poller{st: st, api: api, opts: opts}
}

// Run pulls every interval until ctx ends, then gives the lease up so another
// replica can take over at once. Failures are logged and retried next tick.
// The lease is renewed on every tick, so with a lease longer than the interval
// one replica keeps polling; shorter, whichever replica ticks first polls.
func (p *Poller) Run(ctx context.Context, interval time.Duration) {
	defer func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := p.Release(ctx); err != nil {
			p.opts.Log.Warn("release events poller lease", "err", err)
		}
	}()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rep, err := p.PullOnce(ctx)
		switch {
		case errors.Is(err, ErrBusy):
			p.opts.Log.DebugContext(ctx, "events poller: lease held elsewhere")
		case err != nil && ctx.Err() == nil:
			p.opts.Log.WarnContext(ctx, "pull workos events", "err", err, "stored", rep.Stored)
		case rep.Stored > 0 || rep.Restarts > 0:
			p.opts.Log.InfoContext(ctx, "pulled workos events", "pages", rep.Pages, "stored", rep.Stored,
				"duplicates", rep.Duplicates, "restarts", rep.Restarts)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Release gives the lease up if this Poller holds it.
func (p *Poller) Release(ctx context.Context) error {
	return p.st.ReleaseLease(ctx, LeaseName, p.opts.Holder)
}

// lease takes or renews the lease; ErrBusy when another replica holds it.
func (p *Poller) lease(ctx context.Context) error {
	ok, err := p.st.TryLease(ctx, LeaseName, p.opts.Holder, p.opts.Lease)
	if err != nil {
		return fmt.Errorf("pull events: %w", err)
	}
	if !ok {
		return fmt.Errorf("pull events: %w", ErrBusy)
	}
	return nil
}

// windowStart is the oldest range_start WorkOS can still answer for.
func (p *Poller) windowStart() time.Time {
	margin := min(windowMargin, p.opts.Retention/2)
	return p.opts.Now().Add(-p.opts.Retention + margin)
}
