package events_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/events"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestPullOnce_pageWalk(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		ids := b.emit(250, time.Hour)
		b.fake.Emit("connection.activated", b.clock.Now().Add(-time.Minute), map[string]any{"id": "conn_1"}) // not dsync: filtered out
		p := b.poller(events.Options{PageSize: 100})

		rep, err := p.PullOnce(t.Context())
		want := events.Report{Pages: 3, Fetched: 250, Stored: 250, Cursor: ids[249]}
		if err != nil || rep != want {
			t.Fatalf("PullOnce = %+v, %v; want %+v", rep, err, want)
		}
		if got := b.inboxIDs(t); !slices.Equal(got, sorted(ids)) {
			t.Fatalf("inbox holds %d events, want the 250 emitted", len(got))
		}
		if got := b.cursor(t); got != ids[249] {
			t.Errorf("cursor = %q, want %q", got, ids[249])
		}
		if n := b.kicks.Load(); n != 3 {
			t.Errorf("Kick called %d times, want once per page with new events (3)", n)
		}
		ev, err := b.st.InboxEvent(t.Context(), ids[0])
		if err != nil {
			t.Fatal(err)
		}
		if ev.Source != string(membership.SourceEventsAPI) || ev.EventType != "dsync.user.created" || ev.EventCreatedAt == nil {
			t.Errorf("stored event = %+v, want source events_api, its type and created_at", ev)
		}

		calls := b.fake.Calls("/events")
		first := calls[0].Query
		if first.Get("after") != "" || first.Get("limit") != "100" || !slices.Equal(first["events"], events.Types()) {
			t.Errorf("first request %v: want no after, limit 100 and every dsync type as a repeated events key", first)
		}
		start, err := time.Parse(time.RFC3339Nano, first.Get("range_start"))
		if wantStart := b.clock.Now().Add(-30*24*time.Hour + 5*time.Minute); err != nil || !start.Equal(wantStart) {
			t.Errorf("range_start = %q, want %s (the retention window plus a margin)", first.Get("range_start"), wantStart)
		}
		if got := calls[1].Query; got.Get("after") != ids[99] || got.Get("range_start") != "" {
			t.Errorf("second request %v: want after=%s and no range_start", got, ids[99])
		}

		rep, err = p.PullOnce(t.Context())
		if want := (events.Report{Pages: 1, Cursor: ids[249]}); err != nil || rep != want {
			t.Fatalf("second PullOnce = %+v, %v; want %+v", rep, err, want)
		}
		if calls := b.fake.Calls("/events"); len(calls) != 4 || calls[3].Query.Get("after") != ids[249] {
			t.Errorf("second PullOnce sent %d requests in all (want 4), last %v", len(calls), calls[len(calls)-1].Query)
		}
	})
}

func TestPullOnce_payloadVerbatim(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	raw := []byte(`{ "object": "event", "id": "event_01VERBATIM", "event": "dsync.user.deleted",
  "data": {"id": "directory_user_1", "state": "inactive", "unknown_field": [1, 2]},
  "created_at": "` + b.clock.Now().Add(-time.Hour).Format(time.RFC3339) + `" }`)
	b.fake.AddEvent(raw)
	if _, err := b.poller(events.Options{}).PullOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	ev, err := b.st.InboxEvent(t.Context(), "event_01VERBATIM")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ev.Payload, raw) {
		t.Errorf("payload =\n%s\nwant the envelope byte for byte:\n%s", ev.Payload, raw)
	}
}

// A page whose transaction fails stores nothing and leaves the cursor at the
// last committed page; the next pull resumes there and loses nothing.
func TestPullOnce_cursorAfterCommitOnly(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		t.Run("insert fails mid-page", func(t *testing.T) {
			t.Parallel()
			b := setup(t, dialect)
			ids := b.emit(250, time.Hour)
			heal := b.failAt(t, ids[149]) // the 50th event of the second page
			p := b.poller(events.Options{PageSize: 100})

			rep, err := p.PullOnce(t.Context())
			if err == nil || rep.Stored != 100 || rep.Cursor != ids[99] {
				t.Fatalf("PullOnce = %+v, %v; want an error after the first page", rep, err)
			}
			if got := b.cursor(t); got != ids[99] {
				t.Fatalf("cursor = %q after a failed page, want %q (the last committed page)", got, ids[99])
			}
			if got := b.inboxIDs(t); !slices.Equal(got, sorted(ids[:100])) {
				t.Fatalf("inbox holds %d events, want the first page's 100: the failed page rolls back whole", len(got))
			}

			heal()
			rep, err = p.PullOnce(t.Context())
			if want := (events.Report{Pages: 2, Fetched: 150, Stored: 150, Cursor: ids[249]}); err != nil || rep != want {
				t.Fatalf("retry = %+v, %v; want %+v", rep, err, want)
			}
			if got := b.inboxIDs(t); !slices.Equal(got, sorted(ids)) {
				t.Fatalf("inbox holds %d events after the retry, want 250", len(got))
			}
		})
		t.Run("WorkOS fails on the second page", func(t *testing.T) {
			t.Parallel()
			b := setup(t, dialect)
			ids := b.emit(250, time.Hour)
			var once sync.Once
			// Kick runs after the first page's commit, on this goroutine.
			p := b.poller(events.Options{PageSize: 100, Kick: func() {
				once.Do(func() { b.fake.FailNext(http.MethodGet, "/events", 1, http.StatusServiceUnavailable, "") })
			}})
			rep, err := p.PullOnce(t.Context())
			if want := (events.Report{Pages: 1, Fetched: 100, Stored: 100, Cursor: ids[99]}); rep != want ||
				membership.ErrorCode(err) != "workos_unavailable" {
				t.Fatalf("PullOnce = %+v, %v; want %+v and workos_unavailable", rep, err, want)
			}
			if got := b.cursor(t); got != ids[99] {
				t.Fatalf("cursor = %q, want %q", got, ids[99])
			}
			rep, err = p.PullOnce(t.Context())
			if want := (events.Report{Pages: 2, Fetched: 150, Stored: 150, Cursor: ids[249]}); err != nil || rep != want {
				t.Fatalf("retry = %+v, %v; want %+v", rep, err, want)
			}
			if got := b.inboxIDs(t); !slices.Equal(got, sorted(ids)) {
				t.Fatalf("inbox holds %d events after the retry, want 250", len(got))
			}
		})
	})
}

// WorkOS refuses a cursor it does not know: the walk restarts at the retention
// window, and events the inbox already has come back as duplicates.
func TestPullOnce_unknownCursor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		old := b.emit(10, 2*time.Hour)
		p := b.poller(events.Options{})
		if _, err := p.PullOnce(t.Context()); err != nil {
			t.Fatal(err)
		}
		if err := b.st.SetEventCursor(t.Context(), events.CursorName, "event_UNKNOWN"); err != nil {
			t.Fatal(err)
		}
		fresh := b.emit(2, time.Hour)
		before := len(b.fake.Calls("/events"))

		rep, err := p.PullOnce(t.Context())
		want := events.Report{Pages: 1, Fetched: 12, Stored: 2, Duplicates: 10, Restarts: 1, Cursor: fresh[1]}
		if err != nil || rep != want {
			t.Fatalf("PullOnce = %+v, %v; want %+v", rep, err, want)
		}
		calls := b.fake.Calls("/events")[before:]
		if len(calls) != 2 || calls[0].Query.Get("after") != "event_UNKNOWN" ||
			calls[1].Query.Get("after") != "" || calls[1].Query.Get("range_start") == "" {
			t.Errorf("requests = %v; want the refused cursor, then range_start without after", calls)
		}
		if got := b.inboxIDs(t); !slices.Equal(got, sorted(append(old, fresh...))) {
			t.Errorf("inbox = %v, want every event once", got)
		}
		if got := b.cursor(t); got != fresh[1] {
			t.Errorf("cursor = %q, want %q", got, fresh[1])
		}
	})
}

// A cursor whose event has aged out of the retention window is not sent (WorkOS
// might answer it with an empty page): the walk restarts at the window, and
// events webhooks delivered meanwhile are duplicates.
func TestPullOnce_expiredCursor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		const retention = 30 * 24 * time.Hour
		b := setup(t, dialect, workostest.WithEventRetention(retention))
		first := b.emit(3, time.Hour)
		p := b.poller(events.Options{Retention: retention})
		if _, err := p.PullOnce(t.Context()); err != nil {
			t.Fatal(err)
		}

		b.clock.Add(31 * 24 * time.Hour) // the poller was off for a month
		later := b.emit(5, time.Hour)
		for _, id := range later[:3] { // webhooks brought these
			raw := []byte(`{"id":"` + id + `","event":"dsync.user.created","data":{}}`)
			if _, err := b.st.PutInbox(t.Context(), membership.InboxEvent{EventID: id, Type: "dsync.user.created",
				Payload: raw, Source: membership.SourceWebhook}); err != nil {
				t.Fatal(err)
			}
		}
		before := len(b.fake.Calls("/events"))

		rep, err := p.PullOnce(t.Context())
		want := events.Report{Pages: 1, Fetched: 5, Stored: 2, Duplicates: 3, Restarts: 1, Cursor: later[4]}
		if err != nil || rep != want {
			t.Fatalf("PullOnce = %+v, %v; want %+v", rep, err, want)
		}
		if calls := b.fake.Calls("/events")[before:]; len(calls) != 1 || calls[0].Query.Get("after") != "" {
			t.Errorf("requests = %v; want one, from the window, without the expired cursor", calls)
		}
		if got := b.inboxIDs(t); !slices.Equal(got, sorted(append(first, later...))) {
			t.Errorf("inbox = %v, want every event once", got)
		}
	})
}

// Two replicas' pollers: only the lease holder pulls; the other skips with
// ErrBusy until the lease is released.
func TestPullOnce_lease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		ids := b.emit(120, time.Hour)
		b.fake.SetLatency(30 * time.Millisecond) // so the two pulls overlap
		a := b.poller(events.Options{Holder: "replica-a", PageSize: 50})
		c := b.poller(events.Options{Holder: "replica-b", PageSize: 50})

		var wg sync.WaitGroup
		reps := make([]events.Report, 2)
		errs := make([]error, 2)
		start := make(chan struct{})
		for i, p := range []*events.Poller{a, c} {
			wg.Go(func() {
				<-start
				reps[i], errs[i] = p.PullOnce(context.Background())
			})
		}
		close(start)
		wg.Wait()
		busy := 0
		for i, err := range errs {
			switch {
			case errors.Is(err, events.ErrBusy):
				busy++
				if reps[i].Pages != 0 {
					t.Errorf("the busy poller still pulled %d pages", reps[i].Pages)
				}
			case err != nil:
				t.Fatalf("PullOnce: %v", err)
			}
		}
		if busy != 1 || reps[0].Stored+reps[1].Stored != 120 {
			t.Fatalf("reports %+v, errors %v; want one pull storing 120 and one ErrBusy", reps, errs)
		}
		if got := b.inboxIDs(t); !slices.Equal(got, sorted(ids)) {
			t.Errorf("inbox holds %d events, want 120", len(got))
		}

		holder, other := a, c
		if errors.Is(errs[0], events.ErrBusy) {
			holder, other = c, a
		}
		if _, err := other.PullOnce(t.Context()); !errors.Is(err, events.ErrBusy) || membership.ErrorKind(err) != membership.Conflict {
			t.Fatalf("other PullOnce = %v, want ErrBusy (Conflict): the lease outlives one pull", err)
		}
		if err := holder.Release(t.Context()); err != nil {
			t.Fatal(err)
		}
		if rep, err := other.PullOnce(t.Context()); err != nil || rep.Cursor != ids[119] {
			t.Fatalf("PullOnce after release = %+v, %v; want it to take over at the cursor", rep, err)
		}
	})
}

// Run pulls on every tick, wakes the applier, and gives the lease up on exit.
func TestRun(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	p := b.poller(events.Options{Holder: "replica-a"})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); p.Run(ctx, 10*time.Millisecond) }()

	ids := b.emit(3, time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for len(b.inboxIDs(t)) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("Run stored %v, want %v", b.inboxIDs(t), ids)
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if b.kicks.Load() == 0 {
		t.Error("Run never kicked the applier")
	}
	if _, err := b.poller(events.Options{Holder: "replica-b"}).PullOnce(t.Context()); err != nil {
		t.Fatalf("another replica's PullOnce after Run ended = %v; want the lease released", err)
	}
}

func TestTypes(t *testing.T) {
	t.Parallel()
	for _, typ := range events.Types() {
		if !membership.IsKnownEventType(typ) {
			t.Errorf("Types() asks for %s, which the applier does not handle", typ)
		}
	}
	if n := len(events.Types()); n != 10 {
		t.Errorf("len(Types()) = %d, want the ten dsync types of the WorkOS spec", n)
	}
}
