package applier_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// TestOverlappingBatchesDoNotDeadlock: four appliers claim small batches
// whose events belong to a dozen organizations in shuffled order, user runs
// broken up by directory events. Each batch takes its organizations' locks in
// one global order, so no two batches deadlock, no batch is rolled back, and
// no event is postponed.
func TestOverlappingBatchesDoNotDeadlock(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "postgres", store.Rules{TestModeLimit: 100, OnDirectoryDeleted: "keep"})
	const orgs = 12
	var evs []membership.InboxEvent
	for k := range orgs {
		org, dir, workos := fmt.Sprintf("org_ol%02d", k), fmt.Sprintf("directory_ol%02d", k), fmt.Sprintf("org_W_OL%02d", k)
		w.addPlan(t, org, fmt.Sprintf("plan_ol%02d", k), workos)
		evs = append(evs, dirEventFor(dir, workos, "dsync.activated", 1))
		for i := range 20 {
			id := fmt.Sprintf("directory_user_ol%02d_%02d", k, i)
			email := fmt.Sprintf("u%02d@%s.test", i, org)
			evs = append(evs, userEventFor(dir, workos, "created", id, email, "active", 1),
				userEventFor(dir, workos, "updated", id, email, "active", 2))
		}
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
	w.put(t, evs...)

	var deadlocks atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		app := w.applierWith(applier.Options{BatchSize: 10})
		wg.Go(func() {
			for {
				did, err := app.ApplyNext(t.Context())
				if store.IsTxConflict(err) {
					deadlocks.Add(1)
					continue
				}
				if err != nil {
					errs <- err
					return
				}
				if !did {
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("ApplyNext: %v", err)
	}
	if n := deadlocks.Load(); n > 0 {
		t.Errorf("%d batches rolled back as deadlock victims, want none", n)
	}
	for _, ev := range evs {
		if r := w.inbox(t, ev.EventID); r.Status == string(membership.OutcomePending) || r.Attempts != 0 {
			t.Errorf("%s: status %s after %d attempts (%s), want applied at the first", ev.EventID, r.Status, r.Attempts, r.LastError)
		}
	}
}
