package reconcile_test

import (
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/reconcile"
)

// TestOptions_Progress: the Progress option hears every run, including one
// started without a progress callback (the schedule, the downgrade hook),
// and a caller's own callback still hears it too.
func TestOptions_Progress(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	b.addUsers(0, 5)
	var mu sync.Mutex
	var heard []reconcile.Progress
	rec := reconcile.New(b.st, b.app, b.wos, reconcile.Options{Holder: "replica-a", Lease: time.Minute, PageSize: 2,
		Progress: func(p reconcile.Progress) {
			mu.Lock()
			defer mu.Unlock()
			heard = append(heard, p)
		}})
	if _, err := rec.Run(t.Context(), testPlan, nil); err != nil {
		t.Fatal(err)
	}
	if len(heard) == 0 {
		t.Fatal("Progress heard nothing of a run without a callback")
	}
	if last := heard[len(heard)-1]; last.Phase != "done" || last.Listed != 5 || last.PlanID != testPlan || last.DirectoryID != b.dir {
		t.Errorf("last progress = %+v, want done with 5 listed for %s/%s", last, testPlan, b.dir)
	}
	n := len(heard)
	own := 0
	if _, err := rec.Run(t.Context(), testPlan, func(reconcile.Progress) { own++ }); err != nil {
		t.Fatal(err)
	}
	if own == 0 || len(heard)-n != own {
		t.Errorf("second run: the caller heard %d reports, the option %d; want the same, more than 0", own, len(heard)-n)
	}
}
