package reconcile_test

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestReconcile_massSweepIsHeld: a listing that no longer shows most of the
// plan's paid users (a misconfigured IdP assignment) marks nobody gone; the
// sweep waits as a held change, and the admin's approval applies it.
func TestReconcile_massSweepIsHeld(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		b.app = applier.New(b.st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour,
			Guard: membership.Guard{Share: 0.5, Min: 20, Window: 10 * time.Minute}})
		b.rec = reconcile.New(b.st, b.app, b.wos, reconcile.Options{Holder: "replica-a", Lease: time.Minute})
		users := b.addUsers(0, 30)
		b.run(t)
		for _, u := range users[:25] {
			b.fake.DeleteUser(u.ID)
		}
		if rep := b.run(t); rep.Gone != 0 {
			t.Errorf("report = %+v, want nobody marked gone while held", rep)
		}
		if paid, _ := b.seats(t); paid != 30 {
			t.Errorf("%d paid while the sweep waits, want 30", paid)
		}
		hs, err := b.st.HeldChanges(t.Context(), testPlan)
		if err != nil || len(hs) != 1 || hs[0].Kind != membership.HoldReconcileSweep || hs[0].Size != 25 {
			t.Fatalf("held = %+v, %v; want the sweep of 25 seats", hs, err)
		}
		if _, err := b.app.DecideHeld(t.Context(), testPlan, hs[0].ID, true, "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		if paid, _ := b.seats(t); paid != 5 {
			t.Errorf("%d paid after approval, want 5", paid)
		}
		if u := b.user(t, users[0].ID); !u.Deleted {
			t.Errorf("user %s not marked gone after approval", users[0].ID)
		}
	})
}
