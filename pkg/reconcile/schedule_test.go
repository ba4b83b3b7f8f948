package reconcile_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store"
)

// A manual seat holder whose dsync.user.created never arrived keeps the seat
// at the cutover downgrade: the reconciliation run before it lists them.
func TestReconcile_beforeDowngrade(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	if _, err := b.app.AddManualSeat(ctx, testPlan, "boss@acme.test", "Boss", "service"); err != nil {
		t.Fatal(err)
	}
	users := b.addUsers(0, 12)
	b.fake.AddUsers(b.dir, workostest.User{Email: "boss@acme.test", FirstName: "Boss"})
	for _, u := range users { // every webhook but the boss's
		if _, err := b.st.PutInbox(ctx, b.userEvent(u, "active", time.Now())); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.app.Drain(ctx); err != nil {
		t.Fatal(err)
	}
	plan, err := b.st.Plan(ctx, testPlan)
	if err != nil || plan.Mode != string(membership.ModeDirectory) || plan.DowngradeDueAt == nil {
		t.Fatalf("plan = %+v, %v; want directory mode with a downgrade due", plan, err)
	}
	later := applier.New(b.st, applier.Options{Rules: rules, Now: func() time.Time { return time.Now().Add(11 * time.Minute) },
		BeforeDowngrade: b.rec.BeforeDowngrade})
	if n, err := later.RunDueDowngrades(ctx); err != nil || n != 1 {
		t.Fatalf("RunDueDowngrades = %d, %v; want 1", n, err)
	}
	if m, _ := b.member(t, "boss@acme.test"); m.PlanID != testPlan || m.Source != membership.SourceDirectory {
		t.Errorf("boss = %+v, want a directory seat kept through the downgrade", m)
	}
	if row := b.row(t); row.State != store.ReconcileComplete || row.Listed != 13 || row.Changed != 1 {
		t.Errorf("row = %+v, want 13 listed, 1 changed (the boss)", row)
	}
	// Nothing due any more: the hook does not reconcile again.
	before := b.userRequests()
	if err := b.rec.BeforeDowngrade(ctx, testPlan); err != nil || b.userRequests() != before {
		t.Errorf("hook without a due downgrade: %v, %d requests", err, b.userRequests()-before)
	}
}

// The hook waits for a reconciliation another replica is running instead of
// failing (which would let the downgrade go ahead on stale state) or listing twice.
func TestReconcile_beforeDowngradeWaitsForOtherReplica(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ctx := t.Context()
	b.addUsers(0, 12)
	b.run(t) // cuts over: a downgrade is due in 10 minutes
	if ok, err := b.st.TryLease(ctx, "reconcile:"+b.dir, "replica-z", time.Minute); !ok || err != nil {
		t.Fatalf("TryLease = %v, %v", ok, err)
	}
	done := make(chan error, 1)
	go func() { done <- b.rec.BeforeDowngrade(ctx, testPlan) }()
	select {
	case err := <-done:
		t.Fatalf("hook returned %v while the other replica reconciles", err)
	case <-time.After(1500 * time.Millisecond):
	}
	before := b.userRequests()
	if err := b.st.ReleaseLease(ctx, "reconcile:"+b.dir, "replica-z"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("hook: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("hook still waiting 30s after the lease was released")
	}
	if got := b.userRequests() - before; got != 0 {
		t.Errorf("hook listed %d pages after waiting, want none", got)
	}
}

func TestReconcile_every(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	b.addUsers(0, 3)
	// A plan without a WorkOS organization, and one whose organization has no directory yet, are skipped.
	for _, p := range []membership.PlanSpec{{ID: "plan_bare", OrganizationID: testOrg, Name: "Bare"},
		{ID: "plan_new", OrganizationID: testOrg, Name: "New", WorkOSOrganizationID: "org_NEW"}} {
		if _, err := b.st.PutPlan(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { b.rec.Every(ctx, 20*time.Millisecond) })
	defer func() { cancel(); wg.Wait() }()
	deadline := time.Now().Add(time.Minute)
	for {
		rows, err := b.st.PlanReconciliations(t.Context(), testPlan)
		if err != nil {
			t.Fatal(err)
		}
		// Two complete runs show the schedule repeats.
		if len(rows) == 1 && rows[0].State == store.ReconcileComplete && b.userRequests() >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no two scheduled reconciliations within a minute: %+v", rows)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Round one lists plan_acme's and plan_new's directories, round two plan_acme's again.
	if n := b.fake.Requests("/directories"); n < 3 {
		t.Errorf("GET /directories = %d, want both linked plans listed each round", n)
	}
}
