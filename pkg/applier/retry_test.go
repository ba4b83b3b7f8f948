package applier_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// failWritesOf makes the database refuse to store directory users whose email
// starts with prefix. It stands for any failure the applier cannot classify (a
// lock timeout, a serialization failure, a bug): not a decoding error, and not
// the database being unreachable. The returned func removes the fault.
func failWritesOf(t *testing.T, w *world, prefix string) (heal func()) {
	t.Helper()
	if w.dialect == "postgres" {
		w.exec(t, `CREATE FUNCTION seatsync_test_fault() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN
				IF NEW.email LIKE '`+prefix+`%' THEN RAISE EXCEPTION 'simulated write failure'; END IF;
				RETURN NEW;
			END $$`)
		w.exec(t, `CREATE TRIGGER seatsync_test_fault BEFORE INSERT OR UPDATE ON directory_users
			FOR EACH ROW EXECUTE FUNCTION seatsync_test_fault()`)
		return func() { w.exec(t, "DROP TRIGGER seatsync_test_fault ON directory_users") }
	}
	for _, op := range []string{"INSERT", "UPDATE"} {
		w.exec(t, `CREATE TRIGGER seatsync_test_fault_`+op+` BEFORE `+op+` ON directory_users
			WHEN NEW.email LIKE '`+prefix+`%' BEGIN SELECT RAISE(ABORT, 'simulated write failure'); END`)
	}
	return func() {
		w.exec(t, "DROP TRIGGER seatsync_test_fault_INSERT")
		w.exec(t, "DROP TRIGGER seatsync_test_fault_UPDATE")
	}
}

// TestTransientFailureRetried: a failing event is retried with a growing delay,
// its attempts and last error are recorded, the events behind it go on, and it
// is parked as failed after MaxAttempts — or applies once the fault is gone.
func TestTransientFailureRetried(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.app = w.applierWith(applier.Options{MaxAttempts: 3})
		ctx := t.Context()
		heal := failWritesOf(t, w, "poison")

		doomed := userEvent("created", "u_p1", "poison1@acme.test", "active", 1)
		healed := userEvent("created", "u_p2", "poison2@acme.test", "active", 1)
		good := []membership.InboxEvent{
			userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1),
		}
		w.put(t, doomed)

		// attempt applies the due events and checks the failing ones were postponed
		// by the backoff of their attempt: 2 s after the first, 4 s after the second.
		attempt := func(n int, ids ...string) {
			t.Helper()
			before := time.Now()
			w.drain(t)
			after := time.Now()
			delay := time.Second << n
			for _, id := range ids {
				r := w.wantOutcome(t, id, membership.OutcomePending, "retrying")
				if r.Attempts != n || !strings.Contains(r.LastError, "simulated write failure") || r.ProcessedAt != nil {
					t.Fatalf("%s after attempt %d: attempts %d, last error %q, processed %v", id, n, r.Attempts, r.LastError, r.ProcessedAt)
				}
				if r.NextAttemptAt.Before(before.Add(delay-time.Millisecond)) || r.NextAttemptAt.After(after.Add(delay+time.Millisecond)) {
					t.Fatalf("%s after attempt %d: next attempt in %v, want %v", id, n, r.NextAttemptAt.Sub(before), delay)
				}
			}
		}
		attempt(1, doomed.EventID)
		// The failed attempt was the directory's first event: nothing of the
		// link survives its rolled-back savepoint.
		if d := w.directory(t, testDir); d != nil {
			t.Errorf("directory linked by a failed attempt: %+v", d)
		}
		if p := w.plan(t); p.Mode != "manual" {
			t.Errorf("plan mode %s after a failed attempt, want manual", p.Mode)
		}
		if a := w.audit(t, testPlan); len(a) != 0 {
			t.Errorf("audit after a failed attempt: %+v", a)
		}

		// The events behind a failing one go on.
		w.put(t, good...)
		w.put(t, healed)
		attempt(1, healed.EventID)
		w.wantOutcome(t, doomed.EventID, membership.OutcomePending, "retrying") // still in its backoff
		for _, ev := range good {
			w.wantOutcome(t, ev.EventID, membership.OutcomeApplied, "")
		}
		// Nothing is due before the backoff ends.
		if did, err := w.app.ApplyNext(ctx); err != nil || did {
			t.Fatalf("ApplyNext = %v, %v; postponed events are not due yet", did, err)
		}

		w.makeDue(t, doomed.EventID, healed.EventID)
		attempt(2, doomed.EventID, healed.EventID)

		// Third failure = MaxAttempts: parked as failed with its error.
		w.makeDue(t, doomed.EventID)
		w.drain(t)
		r := w.wantOutcome(t, doomed.EventID, membership.OutcomeFailed, "failed")
		if r.Attempts != 3 || !strings.Contains(r.LastError, "simulated write failure") || r.ProcessedAt == nil {
			t.Errorf("parked event: attempts %d, last error %q, processed %v", r.Attempts, r.LastError, r.ProcessedAt)
		}
		w.wantOutcome(t, healed.EventID, membership.OutcomePending, "retrying")

		// The fault goes away: the other one applies on its next attempt.
		heal()
		w.makeDue(t, healed.EventID, doomed.EventID)
		w.drain(t)
		r = w.wantOutcome(t, healed.EventID, membership.OutcomeApplied, "")
		if r.Attempts != 2 || r.LastError != "" {
			t.Errorf("healed event: attempts %d, last error %q", r.Attempts, r.LastError)
		}
		w.wantOutcome(t, doomed.EventID, membership.OutcomeFailed, "failed") // parked stays parked

		want := map[string]string{"alice@acme.test": testPlan + "/directory", "bob@acme.test": testPlan + "/directory",
			"poison2@acme.test": testPlan + "/directory"}
		got := w.seats(t)
		if len(got) != len(want) {
			t.Errorf("seats = %v, want %v", got, want)
		}
		for e, s := range want {
			if got[e] != s {
				t.Errorf("%s = %q, want %q", e, got[e], s)
			}
		}
		// A failed attempt leaves nothing behind: its savepoint was rolled back.
		if u := w.dirUser(t, "u_p1"); u != nil {
			t.Errorf("failed event stored %+v", u)
		}
		if d := w.directory(t, testDir); d.UsersAdded != 3 {
			t.Errorf("users added = %d, want 3 (failed attempts count nobody)", d.UsersAdded)
		}
	})
}
