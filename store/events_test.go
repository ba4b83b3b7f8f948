package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// putParked stores one event per outcome, event_<outcome>, parked in it
// (pending ones stay as stored).
func putParked(t *testing.T, s *store.Store, outcomes ...membership.Outcome) {
	t.Helper()
	now := time.Now()
	for _, o := range outcomes {
		id := "event_" + string(o)
		if _, err := s.PutInbox(t.Context(), membership.InboxEvent{EventID: id, Type: "dsync.user.created",
			Payload: []byte(`{}`), Source: membership.SourceWebhook, CreatedAt: now}); err != nil {
			t.Fatalf("PutInbox(%s): %v", id, err)
		}
		ev, err := s.InboxEvent(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch o {
		case membership.OutcomePending:
		case membership.OutcomeFailed, membership.OutcomeUnmatched:
			err = s.Park(t.Context(), ev.ID, o, 10, "failed", "boom", now)
		default:
			err = s.Finish(t.Context(), ev.ID, o, "why "+string(o), "plan_x", "directory_x", now)
		}
		if err != nil {
			t.Fatalf("park %s: %v", id, err)
		}
	}
}

func TestStore_ListEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		for i := range 5 {
			putParked(t, s, membership.Outcome(fmt.Sprint("x", i)))
		}
		putParked(t, s, membership.OutcomeFailed)
		// Oldest first, in pages of two, following the cursor to the end.
		var got []string
		after := int64(0)
		for range 10 {
			page, next, err := s.ListEvents(t.Context(), "", after, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range page {
				got = append(got, e.EventID+"/"+e.Status)
			}
			if next == 0 {
				break
			}
			after = next
		}
		want := "[event_x0/x0 event_x1/x1 event_x2/x2 event_x3/x3 event_x4/x4 event_failed/failed]"
		if fmt.Sprint(got) != want {
			t.Errorf("ListEvents pages = %v, want %s", got, want)
		}
		failed, next, err := s.ListEvents(t.Context(), "failed", 0, 10)
		if err != nil || next != 0 || len(failed) != 1 {
			t.Fatalf(`ListEvents("failed") = %+v, %d, %v; want one event, no next page`, failed, next, err)
		}
		if f := failed[0]; f.EventID != "event_failed" || f.Attempts != 10 || f.LastError != "boom" || f.Reason != "failed" ||
			f.EventType != "dsync.user.created" || f.ReceivedAt.IsZero() {
			t.Errorf("failed event = %+v", f)
		}
	})
}

func TestStore_RetryEvents(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		all := []membership.Outcome{membership.OutcomePending, membership.OutcomeApplied, membership.OutcomeIgnored,
			membership.OutcomeStale, membership.OutcomeRejected, membership.OutcomeUnmatched, membership.OutcomeConflict,
			membership.OutcomeFailed}
		putParked(t, s, all...)
		ids := make([]string, len(all))
		for i, o := range all {
			ids[i] = "event_" + string(o)
		}
		now := time.Now().Add(time.Minute).Truncate(time.Second)

		// Only the four parked outcomes move; the duplicate id counts once.
		got, err := s.RetryEvents(t.Context(), store.RetrySelection{EventIDs: append(ids, ids[0])}, "service:ops", now)
		if err != nil || got != (store.RetryResult{Retried: 4, Skipped: 4}) {
			t.Fatalf("RetryEvents(every outcome) = %+v, %v; want 4 retried, 4 skipped", got, err)
		}
		for _, o := range all {
			ev, err := s.InboxEvent(t.Context(), "event_"+string(o))
			if err != nil {
				t.Fatal(err)
			}
			parked := o != membership.OutcomePending && o != membership.OutcomeApplied && o != membership.OutcomeIgnored &&
				o != membership.OutcomeStale
			switch {
			case parked && (ev.Status != "pending" || ev.Attempts != 0 || ev.ProcessedAt != nil ||
				ev.Reason != "retried by service:ops" || !ev.NextAttemptAt.Equal(now)):
				t.Errorf("%s after retry = status %s attempts %d processed %v reason %q next %v; want pending, reset, due %v",
					o, ev.Status, ev.Attempts, ev.ProcessedAt, ev.Reason, ev.NextAttemptAt, now)
			case !parked && ev.Status != string(o):
				t.Errorf("%s after retry = %s; want it untouched", o, ev.Status)
			}
		}
		// Twice is once: everything named is skipped now.
		if got, err := s.RetryEvents(t.Context(), store.RetrySelection{EventIDs: ids}, "service:ops", now); err != nil ||
			got != (store.RetryResult{Skipped: len(ids)}) {
			t.Fatalf("second RetryEvents = %+v, %v; want all %d skipped", got, err, len(ids))
		}

		// An unknown id refuses the whole request.
		putParked(t, s, "failed2")
		if err := s.Park(t.Context(), mustRowID(t, s, "event_failed2"), membership.OutcomeFailed, 3, "failed", "x", now); err != nil {
			t.Fatal(err)
		}
		_, err = s.RetryEvents(t.Context(), store.RetrySelection{EventIDs: []string{"event_failed2", "event_nope"}}, "service:ops", now)
		if membership.ErrorCode(err) != "event_not_found" {
			t.Fatalf("RetryEvents(unknown id) = %v; want event_not_found", err)
		}
		if ev, _ := s.InboxEvent(t.Context(), "event_failed2"); ev.Status != "failed" {
			t.Fatalf("event_failed2 = %s after a refused retry; want failed", ev.Status)
		}

		// By outcome: every failed event, and only those.
		if got, err := s.RetryEvents(t.Context(), store.RetrySelection{Status: "failed"}, "service:ops", now); err != nil ||
			got != (store.RetryResult{Retried: 1}) {
			t.Fatalf("RetryEvents(failed) = %+v, %v; want 1 retried", got, err)
		}
		for _, bad := range []string{"stale", "applied", "pending", ""} {
			if _, err := s.RetryEvents(t.Context(), store.RetrySelection{Status: bad}, "service:ops", now); membership.ErrorCode(err) != "invalid_outcome" {
				t.Errorf("RetryEvents(status %q) = %v; want invalid_outcome", bad, err)
			}
		}
	})
}

func mustRowID(t *testing.T, s *store.Store, eventID string) int64 {
	t.Helper()
	ev, err := s.InboxEvent(t.Context(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	return ev.ID
}

// TestParkedEventIndexes checks that listing parked events and counting a
// plan's failed ones read the small partial indexes of migration 0006, not
// every event, even in the generic plan of a cached statement (Postgres).
// SQLite cannot prove an IN predicate from an equality, so there only the
// results are checked.
func TestParkedEventIndexes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		w := s.NewInboxWriter(256, time.Millisecond, 2)
		wctx, stop := context.WithCancel(ctx)
		var running sync.WaitGroup
		running.Go(func() { w.Run(wctx) })
		var puts sync.WaitGroup
		for g := range 32 {
			puts.Go(func() {
				for i := g; i < 3000; i += 32 {
					if _, err := w.PutInbox(ctx, membership.InboxEvent{EventID: fmt.Sprintf("event_%04d", i), Type: "dsync.user.created",
						Payload: []byte(`{}`), Source: membership.SourceWebhook}); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		puts.Wait()
		stop()
		running.Wait()
		now := time.Now()
		var done []store.Finished
		for id := int64(1); id <= 3000; id++ {
			o := membership.OutcomeApplied
			if id%600 == 0 {
				o = membership.OutcomeRejected
			}
			done = append(done, store.Finished{ID: id, Outcome: o, PlanID: "p", DirID: "d"})
		}
		if err := s.FinishBatch(ctx, done, now); err != nil {
			t.Fatal(err)
		}
		rejected, _, err := s.ListEvents(ctx, "rejected", 0, 50)
		if err != nil || len(rejected) != 5 {
			t.Fatalf("ListEvents(rejected) = %d events, %v; want 5", len(rejected), err)
		}
		if _, failed, err := s.PlanEventCounts(ctx, "p"); err != nil || failed != 5 {
			t.Fatalf("PlanEventCounts(p) failed = %d, %v; want 5", failed, err)
		}
		if dialect != "postgres" {
			return
		}
		for name, explain := range map[string]func() (string, error){
			"inbox_events_parked":      func() (string, error) { return s.ListEventsPlan(ctx, "rejected") },
			"inbox_events_plan_parked": func() (string, error) { return s.PlanFailedEventsPlan(ctx) },
		} {
			plan, err := explain()
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(plan, name) {
				t.Errorf("the query does not use %s:\n%s", name, plan)
			}
		}
	})
}
