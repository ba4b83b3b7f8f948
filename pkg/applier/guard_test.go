package applier_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

var guard = membership.Guard{Share: 0.5, Min: 20, Window: 10 * time.Minute}

// guardedWorld is a plan in directory mode with n paid directory seats.
func guardedWorld(t *testing.T, dialect string, g membership.Guard, n, batch int) (*world, *applier.Applier) {
	t.Helper()
	r := store.Rules{TestModeLimit: 3, OnDirectoryDeleted: "free"}
	w := newWorld(t, dialect, r)
	app := w.applierWith(applier.Options{Rules: r, Guard: g, BatchSize: batch})
	w.app = app
	for i := range n {
		w.put(t, userEvent("created", fmt.Sprintf("directory_user_%03d", i), fmt.Sprintf("u%03d@acme.test", i), "active", 1))
	}
	w.drain(t)
	if paid := w.paid(t); paid != n {
		t.Fatalf("setup: %d paid seats, want %d", paid, n)
	}
	return w, app
}

func (w *world) paid(t *testing.T) int {
	t.Helper()
	n := 0
	for _, s := range w.seats(t) {
		if s != "" {
			n++
		}
	}
	return n
}

func (w *world) held(t *testing.T) []store.HeldChange {
	t.Helper()
	hs, err := w.st.HeldChanges(t.Context(), testPlan)
	if err != nil {
		t.Fatal(err)
	}
	return hs
}

// TestGuardHoldsBurst deactivates 30 of 40 paid users at once: the guard lets
// the burst go up to half of the plan, holds the rest, keeps applying the
// directory users' new state, and the admin's approval applies what waited.
func TestGuardHoldsBurst(t *testing.T) {
	t.Parallel()
	for _, batch := range []int{1, 100} {
		storetest.Each(t, func(t *testing.T, dialect string) {
			w, app := guardedWorld(t, dialect, guard, 40, batch)
			for i := range 30 {
				w.put(t, userEvent("updated", fmt.Sprintf("directory_user_%03d", i), fmt.Sprintf("u%03d@acme.test", i), "inactive", 2))
			}
			w.drain(t)
			if paid := w.paid(t); paid != 20 {
				t.Errorf("batch %d: %d paid after the burst, want 20 (20 revoked, 10 held)", batch, paid)
			}
			hs := w.held(t)
			if len(hs) != 1 || hs[0].Kind != membership.HoldBurst || hs[0].Size != 10 || len(hs[0].PreviewList()) != 10 {
				t.Fatalf("held changes = %+v, want one burst of 10", hs)
			}
			for i := range 30 {
				if u := w.dirUser(t, fmt.Sprintf("directory_user_%03d", i)); u.State != "inactive" || u.InA {
					t.Fatalf("directory user %d = %+v: later events must still be applied to directory users", i, u)
				}
			}
			if len(w.auditFor(t, testPlan, membership.ActionHeld, "")) != 1 {
				t.Errorf("want one %s audit entry", membership.ActionHeld)
			}
			h, err := app.DecideHeld(t.Context(), testPlan, hs[0].ID, true, "admin:admin@acme.test")
			if err != nil || h.State != "approved" {
				t.Fatalf("approve = %+v, %v", h, err)
			}
			if paid := w.paid(t); paid != 10 {
				t.Errorf("%d paid after approval, want 10", paid)
			}
			if len(w.held(t)) != 0 {
				t.Error("approved change still waiting")
			}
			if _, err := app.DecideHeld(t.Context(), testPlan, hs[0].ID, false, "admin:x@acme.test"); membership.ErrorCode(err) != "already_decided" {
				t.Errorf("deciding twice = %v, want already_decided", err)
			}
		})
	}
}

// TestGuardRejectKeepsSeats: rejecting a held burst leaves the seats.
func TestGuardRejectKeepsSeats(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w, app := guardedWorld(t, dialect, guard, 40, 100)
		for i := range 30 {
			w.put(t, userEvent("updated", fmt.Sprintf("directory_user_%03d", i), fmt.Sprintf("u%03d@acme.test", i), "inactive", 2))
		}
		w.drain(t)
		hs := w.held(t)
		if len(hs) != 1 {
			t.Fatalf("held = %+v", hs)
		}
		if _, err := app.DecideHeld(t.Context(), testPlan, hs[0].ID, false, "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		if paid := w.paid(t); paid != 20 {
			t.Errorf("%d paid after rejection, want 20 kept", paid)
		}
		if len(w.auditFor(t, testPlan, membership.ActionRejected, "")) != 1 {
			t.Error("rejection not audited")
		}
	})
}

// TestGuardDirectoryDeletedFree: deleting the directory with policy free would
// free every seat at once: they are kept as manual seats until approval.
func TestGuardDirectoryDeletedFree(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w, app := guardedWorld(t, dialect, guard, 30, 100)
		w.put(t, dirEvent("dsync.deleted", 5))
		w.drain(t)
		if p := w.plan(t); p.Mode != "manual" {
			t.Errorf("mode %s after deletion, want manual", p.Mode)
		}
		if paid := w.paid(t); paid != 30 {
			t.Errorf("%d paid, want all 30 kept while held", paid)
		}
		hs := w.held(t)
		if len(hs) != 1 || hs[0].Kind != membership.HoldDirectoryDeleted || hs[0].Size != 30 {
			t.Fatalf("held = %+v, want the directory deletion of 30 seats", hs)
		}
		if _, err := app.DecideHeld(t.Context(), testPlan, hs[0].ID, true, "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		if paid := w.paid(t); paid != 0 {
			t.Errorf("%d paid after approval, want 0", paid)
		}
	})
}

// TestGuardDowngrade: with Guard.Downgrade, a cutover downgrade that frees
// most of the plan is held too.
func TestGuardDowngrade(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		g := guard
		g.Downgrade = true
		r := store.Rules{TestModeLimit: 3, OnDirectoryDeleted: "keep"}
		w := newWorld(t, dialect, r)
		app := w.applierWith(applier.Options{Rules: r, Guard: g})
		w.app = app
		for i := range 30 {
			if _, err := app.AddManualSeat(t.Context(), testPlan, fmt.Sprintf("m%02d@acme.test", i), "", "admin:a@acme.test"); err != nil {
				t.Fatal(err)
			}
		}
		for i := range 4 {
			w.put(t, userEvent("created", fmt.Sprintf("directory_user_%d", i), fmt.Sprintf("u%d@acme.test", i), "active", 1))
		}
		w.drain(t)
		if p := w.plan(t); p.Mode != "directory" {
			t.Fatalf("mode %s, want directory", p.Mode)
		}
		if paid := w.paid(t); paid != 34 {
			t.Errorf("%d paid, want 34 while the downgrade is held", paid)
		}
		hs := w.held(t)
		if len(hs) != 1 || hs[0].Kind != membership.HoldDowngrade || hs[0].Size != 30 {
			t.Fatalf("held = %+v, want the downgrade of 30", hs)
		}
		if _, err := app.DecideHeld(t.Context(), testPlan, hs[0].ID, true, "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		if paid := w.paid(t); paid != 4 {
			t.Errorf("%d paid after approval, want exactly the 4 directory users", paid)
		}
	})
}

// TestGuardSweep: a reconciliation that would mark most paid users gone is held.
func TestGuardSweep(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w, app := guardedWorld(t, dialect, guard, 30, 100)
		var gone []membership.DirectoryUser
		for i := range 25 {
			gone = append(gone, *w.dirUser(t, fmt.Sprintf("directory_user_%03d", i)))
		}
		held, err := app.HoldSweep(t.Context(), testPlan, testDir, gone, t0.Add(time.Hour))
		if err != nil || !held {
			t.Fatalf("HoldSweep = %v, %v; want held", held, err)
		}
		if paid := w.paid(t); paid != 30 {
			t.Errorf("%d paid while the sweep waits, want 30", paid)
		}
		hs := w.held(t)
		if _, err := app.DecideHeld(t.Context(), testPlan, hs[0].ID, true, "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		if paid := w.paid(t); paid != 5 {
			t.Errorf("%d paid after approval, want 5", paid)
		}
		if u := w.dirUser(t, "directory_user_000"); !u.Deleted {
			t.Error("approved sweep did not mark the user gone")
		}
		if held, err := app.HoldSweep(t.Context(), testPlan, testDir, gone[:3], t0.Add(time.Hour)); err != nil || held {
			t.Errorf("a small sweep = %v, %v; want not held", held, err)
		}
	})
}
