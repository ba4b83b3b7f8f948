package applier_test

import (
	"fmt"
	"maps"
	"sync"
	"testing"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// history is 500 events of one plan: 250 users created, 150 of them updated
// (deactivated, renamed or re-emailed) and the other 100 deleted.
func history() []membership.InboxEvent {
	var evs []membership.InboxEvent
	for i := range 250 {
		email := fmt.Sprintf("user%03d@acme.test", i)
		if i < 3 {
			email = fmt.Sprintf("manual%d@acme.test", i)
		}
		id := fmt.Sprintf("directory_user_%03d", i)
		evs = append(evs, userEvent("created", id, email, "active", 1))
		switch {
		case i < 150 && i%3 == 0:
			evs = append(evs, userEvent("updated", id, email, "inactive", 2))
		case i < 150 && i%3 == 1:
			evs = append(evs, userEvent("updated", id, fmt.Sprintf("renamed%03d@acme.test", i), "active", 2))
		case i < 150:
			evs = append(evs, userEvent("updated", id, email, "active", 2))
		default:
			evs = append(evs, userEvent("deleted", id, email, "active", 2))
		}
	}
	return evs
}

// concurrentWorld is a Postgres world with 5 manual seats and the history stored.
func concurrentWorld(t *testing.T) *world {
	w := newWorld(t, "postgres", store.Rules{TestModeLimit: 10, OnDirectoryDeleted: "keep"})
	for i := range 5 {
		if _, err := w.app.AddManualSeat(t.Context(), testPlan, fmt.Sprintf("manual%d@acme.test", i), "", "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
	}
	w.put(t, history()...)
	return w
}

// TestConcurrentAppliers: 4 workers over 500 events of one plan on Postgres
// apply every event exactly once and end where a single worker ends.
func TestConcurrentAppliers(t *testing.T) {
	t.Parallel()
	var single, concurrent map[string]string
	var singleAdded, concurrentAdded int
	t.Run("single", func(t *testing.T) {
		t.Parallel()
		w := concurrentWorld(t)
		w.drain(t)
		single = w.seats(t)
		singleAdded = w.directory(t, testDir).UsersAdded
	})
	t.Run("concurrent", func(t *testing.T) {
		t.Parallel()
		w := concurrentWorld(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		applied := make([]int, 4)
		for k := range 4 {
			// Each worker is its own Applier, as on its own replica.
			// Small batches make the workers' claims interleave.
			app := w.applierWith(applier.Options{BatchSize: 7})
			wg.Go(func() {
				for {
					did, err := app.ApplyNext(ctx)
					if err != nil {
						errs <- err
						return
					}
					if !did {
						return
					}
					applied[k]++
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("ApplyNext: %v", err)
		}
		counts, err := w.st.InboxCounts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("batches claimed per worker %v; outcomes %v", applied, counts)
		if counts["applied"]+counts["stale"] != 500 || counts["pending"] != 0 {
			t.Errorf("inbox outcomes = %v, want 500 applied or stale", counts)
		}
		for _, ev := range history() {
			if r := w.inbox(t, ev.EventID); r.Attempts != 0 || r.ProcessedAt == nil || r.PlanID != testPlan {
				t.Errorf("%s: status %s attempts %d processed %v plan %q", ev.EventID, r.Status, r.Attempts, r.ProcessedAt, r.PlanID)
			}
		}
		type key struct{ event, member, action string }
		seen := map[key]int{}
		for _, a := range w.audit(t, testPlan) {
			if a.EventID == "" {
				continue
			}
			k := key{a.EventID, a.MemberEmail, a.Action}
			if seen[k]++; seen[k] == 2 {
				t.Errorf("audit entry %+v written twice", k)
			}
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionCutover, "")); n != 1 {
			t.Errorf("cutover entries = %d, want 1", n)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionDirectoryLinked, "")); n != 1 {
			t.Errorf("directory_linked entries = %d, want 1", n)
		}
		if p := w.plan(t); p.Mode != "directory" || p.DowngradedAt == nil {
			t.Errorf("plan mode %s downgraded %v, want directory, downgraded", p.Mode, p.DowngradedAt)
		}
		concurrent = w.seats(t)
		concurrentAdded = w.directory(t, testDir).UsersAdded
	})
	t.Cleanup(func() {
		if t.Failed() {
			return
		}
		// Seats must be equal. Free member records may differ: a user whose
		// created event arrives after their deletion never had a seat, so no
		// member record was made for them.
		if !maps.Equal(paidOnly(single), paidOnly(concurrent)) {
			for e, s := range single {
				if concurrent[e] != s {
					t.Errorf("%s: concurrent %q, single %q", e, concurrent[e], s)
				}
			}
			for e, s := range concurrent {
				if single[e] != s {
					t.Errorf("%s: concurrent %q, single %q", e, s, single[e])
				}
			}
		}
		if singleAdded != 250 || concurrentAdded != 250 {
			t.Errorf("users added: single %d, concurrent %d; want 250", singleAdded, concurrentAdded)
		}
		// 150 updated: 50 deactivated, 100 active (50 under a new email); 100 deleted.
		if paid := len(paidOnly(concurrent)); paid != 100 {
			t.Errorf("paid seats = %d, want 100", paid)
		}
	})
}

// paidOnly drops the free members of a seats map.
func paidOnly(seats map[string]string) map[string]string {
	out := map[string]string{}
	for e, s := range seats {
		if s != "" {
			out[e] = s
		}
	}
	return out
}
