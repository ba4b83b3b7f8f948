package applier_test

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestDowngradeSchedulerRunsOnce: two appliers (on Postgres each with its own
// connection pool, like two replicas) find the same due downgrade at the same
// moment; exactly one runs it.
func TestDowngradeSchedulerRunsOnce(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		grace := 10 * time.Minute
		w := newWorld(t, dialect, store.Rules{TestModeLimit: 1, CutoverGrace: grace, OnDirectoryDeleted: "keep"})
		ctx := t.Context()
		if _, err := w.app.AddManualSeat(ctx, testPlan, "carol@acme.test", "Carol", "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1))
		p := w.plan(t)
		if p.Mode != "directory" || p.DowngradeDueAt == nil || !p.DowngradeDueAt.Equal(t0.Add(grace)) {
			t.Fatalf("plan after cutover: mode %s due %v", p.Mode, p.DowngradeDueAt)
		}
		if got := w.seat(t, "carol@acme.test"); got != testPlan+"/manual" {
			t.Fatalf("carol = %s during the grace, want her manual seat", got)
		}

		// Both appliers must have seen the plan as due before either runs it.
		var seen sync.WaitGroup
		seen.Add(2)
		hook := func(ctx context.Context, planID string) error {
			seen.Done()
			done := make(chan struct{})
			go func() { seen.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				t.Error("the other applier never found the downgrade due")
			}
			return nil
		}
		second := w.st
		if dialect == "postgres" {
			second = storetest.OpenWith(t, w.opts)
		}
		w.now = t0.Add(grace)
		apps := []*applier.Applier{
			applier.New(w.st, applier.Options{Rules: w.rules, Now: func() time.Time { return t0.Add(grace) }, BeforeDowngrade: hook}),
			applier.New(second, applier.Options{Rules: w.rules, Now: func() time.Time { return t0.Add(grace) }, BeforeDowngrade: hook}),
		}
		// On Postgres, hold the organization lock until both transactions wait
		// for it: both have read the plan before either can run the downgrade.
		release := func() {}
		if dialect == "postgres" {
			release = holdOrganizationLock(t, w, 2)
		}
		ran := make([]int, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, app := range apps {
			wg.Go(func() { ran[i], errs[i] = app.RunDueDowngrades(ctx) })
		}
		release()
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("applier %d: %v", i, err)
			}
		}
		if ran[0]+ran[1] != 1 {
			t.Fatalf("downgrades run = %v, want exactly one", ran)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionDowngrade, "")); n != 1 {
			t.Errorf("downgrade audit entries = %d, want 1", n)
		}
		moved := w.auditFor(t, testPlan, membership.ActionMovedToFree, "carol@acme.test")
		if len(moved) != 1 || moved[0].Reason != "not assigned in the directory after cutover" {
			t.Errorf("carol moved_to_free audit = %+v, want one", moved)
		}
		if got := w.seat(t, "carol@acme.test"); got != "free" {
			t.Errorf("carol = %s after the downgrade, want free", got)
		}
		for _, e := range []string{"alice@acme.test", "bob@acme.test"} {
			if got := w.seat(t, e); got != testPlan+"/directory" {
				t.Errorf("%s = %s, want kept", e, got)
			}
		}
		p = w.plan(t)
		if p.DowngradeDueAt != nil || p.DowngradedAt == nil || !p.DowngradedAt.Equal(t0.Add(grace)) {
			t.Errorf("plan after downgrade: due %v downgraded %v", p.DowngradeDueAt, p.DowngradedAt)
		}
		// Nothing is left to run.
		for _, app := range apps {
			if n, err := app.RunDueDowngrades(ctx); err != nil || n != 0 {
				t.Errorf("RunDueDowngrades again = %d, %v; want 0", n, err)
			}
		}
	})
}

// TestDowngradeAfterGraceUsesStateAtThatTime: the downgrade is computed from the
// directory state when the grace ends, so a manual holder whose own event
// arrived during the grace keeps the seat, and one who left in the meantime does not.
func TestDowngradeAfterGraceUsesStateAtThatTime(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		grace := 10 * time.Minute
		w := newWorld(t, dialect, store.Rules{TestModeLimit: 1, CutoverGrace: grace, OnDirectoryDeleted: "keep"})
		ctx := t.Context()
		for _, e := range []string{"carol@acme.test", "dave@acme.test"} {
			if _, err := w.app.AddManualSeat(ctx, testPlan, e, "", "admin:admin@acme.test"); err != nil {
				t.Fatal(err)
			}
		}
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1))
		// During the grace: carol's own event arrives; bob leaves.
		w.now = t0.Add(5 * time.Minute)
		w.step(t, userEvent("created", "u_carol", "carol@acme.test", "active", 1),
			userEvent("updated", "u_bob", "bob@acme.test", "inactive", 2))
		if n, err := w.app.RunDueDowngrades(ctx); err != nil || n != 0 {
			t.Fatalf("RunDueDowngrades during the grace = %d, %v", n, err)
		}
		if got := w.seat(t, "dave@acme.test"); got != testPlan+"/manual" {
			t.Errorf("dave = %s during the grace, want his manual seat", got)
		}
		w.now = t0.Add(grace)
		if n, err := w.app.RunDueDowngrades(ctx); err != nil || n != 1 {
			t.Fatalf("RunDueDowngrades at due = %d, %v", n, err)
		}
		want := map[string]string{"alice@acme.test": testPlan + "/directory", "carol@acme.test": testPlan + "/directory",
			"bob@acme.test": "free", "dave@acme.test": "free"}
		for e, s := range want {
			if got := w.seat(t, e); got != s {
				t.Errorf("%s = %s, want %s", e, got, s)
			}
		}
	})
}

// holdOrganizationLock locks the test organization's row from a connection of
// its own. The returned func waits until `waiters` other transactions are
// blocked on a lock, then releases it.
func holdOrganizationLock(t *testing.T, w *world, waiters int) (release func()) {
	t.Helper()
	ctx := t.Context()
	db, err := sql.Open("pgx", w.opts.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT id FROM organizations WHERE id = $1 FOR UPDATE", testOrg); err != nil {
		t.Fatal(err)
	}
	return func() {
		t.Helper()
		defer func() { _ = tx.Rollback() }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			err := db.QueryRowContext(ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&n)
			if err != nil {
				t.Error(err)
				return
			}
			if n >= waiters {
				return
			}
			if time.Now().After(deadline) {
				t.Errorf("%d transactions wait for the organization lock, want %d", n, waiters)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
