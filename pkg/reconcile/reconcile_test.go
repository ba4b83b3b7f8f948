package reconcile_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestReconcile_paginates2500Users lists 2,500 users on Postgres, the
// production database. On SQLite, where every snapshot costs a few
// milliseconds of pure-Go SQL parsing (far more under -race), the same path
// runs over 250 users.
func TestReconcile_paginates2500Users(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		n := 2500
		if dialect == "sqlite" {
			n = 250
		}
		pagesWant := n / 100
		b := setup(t, dialect)
		b.addUsers(0, n)
		var pages []reconcile.Progress
		var midway []store.ReconciliationRow
		rep, err := b.rec.Run(t.Context(), testPlan, func(p reconcile.Progress) {
			pages = append(pages, p)
			if len(pages) == 2 { // what the plan status reads while the run goes on
				midway, _ = b.st.PlanReconciliations(t.Context(), testPlan)
			}
		})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		if len(midway) != 1 || midway[0].State != store.ReconcileRunning || midway[0].Listed != 200 || midway[0].Requests != 2 {
			t.Errorf("after two pages the stored progress is %+v, want running with 200 listed", midway)
		}
		t.Logf("%s: %d users reconciled in %s with %d requests (%d GET /directory_users, %d GET /directories)",
			dialect, n, rep.Duration.Round(time.Millisecond), rep.Requests, b.userRequests(), b.fake.Requests("/directories"))
		if dialect == "sqlite" {
			pagesWant = 3 // 100, 100, 50
		}
		want := reconcile.Report{Directories: 1, Listed: n, Changed: n, Requests: pagesWant + 1, Duration: rep.Duration}
		if rep != want {
			t.Errorf("report = %+v, want %+v", rep, want)
		}
		if got := b.userRequests(); got != pagesWant {
			t.Errorf("GET /directory_users requests = %d, want %d (%d users, limit 100)", got, pagesWant, n)
		}
		for _, c := range b.fake.Calls("/directory_users") {
			if c.Query.Get("limit") != "100" || c.Query.Get("order") != "asc" {
				t.Fatalf("query = %v, want limit 100, order asc", c.Query)
			}
		}
		if len(pages) != pagesWant+1 || pages[pagesWant-1].Listed != n || pages[pagesWant].Phase != "done" {
			t.Errorf("progress: %d reports, want %d pages and done", len(pages), pagesWant)
		}
		if paid, free := b.seats(t); paid != int64(n) || free != 0 {
			t.Errorf("seats = %d paid, %d free; want %d paid", paid, free, n)
		}
		if m, ok := b.member(t, "u123@acme.test"); !ok || m.PlanID != testPlan || m.Source != membership.SourceDirectory {
			t.Errorf("member u123 = %+v (exists %v), want a directory seat on %s", m, ok, testPlan)
		}
		row := b.row(t)
		if row.State != store.ReconcileComplete || row.Listed != n || row.Changed != n || row.Gone != 0 ||
			row.Requests != pagesWant || row.FinishedAt == nil || row.Error != "" {
			t.Errorf("row = %+v", row)
		}
		// The run's seen ids are gone with it: every user is unseen by another run id.
		if unseen, err := b.st.UnseenDirectoryUsers(t.Context(), b.dir, row.RunID, "", 10); err != nil || len(unseen) != 10 {
			t.Errorf("UnseenDirectoryUsers after the run: %d, %v; want its seen ids dropped", len(unseen), err)
		}
	})
}

func TestReconcile_rateLimitStorm(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite").withPageSize(50)
	b.addUsers(0, 125)
	// Four 429s in a row on the first page, then again on the third, each
	// asking to wait a second: within the client's five retries.
	b.fake.FailNext("GET", "/directory_users", 4, http.StatusTooManyRequests, "1")
	storm := true
	rep, err := b.rec.Run(t.Context(), testPlan, func(p reconcile.Progress) {
		if p.Listed == 100 && storm {
			storm = false
			b.fake.FailNext("GET", "/directory_users", 4, http.StatusTooManyRequests, "1")
		}
	})
	if err != nil {
		t.Fatalf("Run through a 429 storm: %v", err)
	}
	if rep.Listed != 125 || rep.Changed != 125 || rep.Requests != 3+8+1 {
		t.Errorf("report = %+v, want 125 listed and changed, 12 requests", rep)
	}
	waits := b.sleeps.all()
	if len(waits) != 8 {
		t.Fatalf("waits = %v, want 8", waits)
	}
	for _, w := range waits {
		if w != time.Second {
			t.Errorf("wait %s, want the Retry-After of 1s", w)
		}
	}
	if paid, _ := b.seats(t); paid != 125 {
		t.Errorf("paid seats = %d, want 125", paid)
	}
}

func TestReconcile_outageMidListingResumes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect).withPageSize(50)
		b.addUsers(0, 500)
		// After the fourth page WorkOS fails longer than the client retries.
		injected := false
		_, err := b.rec.Run(t.Context(), testPlan, func(p reconcile.Progress) {
			if p.Listed == 200 && !injected {
				injected = true
				b.fake.FailNext("GET", "/directory_users", maxRetries+1, http.StatusInternalServerError, "")
			}
		})
		wantCode(t, err, membership.Upstream, "workos_unavailable")
		row := b.row(t)
		if row.State != store.ReconcileRunning || row.Listed != 200 || row.Cursor == "" || row.FinishedAt != nil ||
			row.Requests != 4+maxRetries+1 || row.Error == "" {
			t.Fatalf("after the outage: row = %+v, want running at 200 listed with the error", row)
		}
		if paid, _ := b.seats(t); paid != 200 {
			t.Errorf("paid seats after the outage = %d, want 200", paid)
		}
		before := b.userRequests()
		rep := b.run(t)
		if got := b.userRequests() - before; got != 6 {
			t.Errorf("resume sent %d list requests, want 6 (pages 5-10, not a full listing of 10)", got)
		}
		if rep.Resumed != 1 || rep.Listed != 500 || rep.Changed != 500 || rep.Gone != 0 {
			t.Errorf("resumed report = %+v, want 500 listed and changed over both parts", rep)
		}
		row = b.row(t)
		if row.State != store.ReconcileComplete || row.Listed != 500 || row.Error != "" || row.Requests != 4+maxRetries+1+6 {
			t.Errorf("after the resume: row = %+v", row)
		}
		if paid, _ := b.seats(t); paid != 500 {
			t.Errorf("paid seats = %d, want 500", paid)
		}
	})
}

func TestReconcile_interruptedByCancelResumes(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite").withPageSize(50)
	b.addUsers(0, 150)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	_, err := b.rec.Run(ctx, testPlan, func(p reconcile.Progress) {
		if p.Listed == 50 {
			cancel() // a shutdown, as SIGTERM does
		}
	})
	if err == nil {
		t.Fatal("Run after cancel: no error")
	}
	if row := b.row(t); row.State != store.ReconcileRunning || row.Listed != 50 {
		t.Fatalf("row = %+v, want running at 50", row)
	}
	rep := b.run(t)
	if rep.Resumed != 1 || rep.Listed != 150 || rep.Changed != 150 {
		t.Errorf("report = %+v", rep)
	}
}

func TestReconcile_userDeletedUpstreamIsMarkedGone(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		users := b.addUsers(0, 20)
		b.run(t)
		if m, _ := b.member(t, "u5@acme.test"); m.PlanID != testPlan {
			t.Fatalf("u5 before: %+v, want a seat", m)
		}
		// Deprovisioned in WorkOS; the dsync.user.deleted webhook never came.
		b.fake.DeleteUser(users[5].ID)
		rep := b.run(t)
		if rep.Listed != 19 || rep.Changed != 0 || rep.Gone != 1 {
			t.Errorf("report = %+v, want 19 listed, 1 gone", rep)
		}
		if u := b.user(t, users[5].ID); !u.Deleted || u.InA {
			t.Errorf("stored user = %+v, want deleted", u)
		}
		if m, ok := b.member(t, "u5@acme.test"); !ok || m.PlanID != "" {
			t.Errorf("u5 = %+v, want kept as a free member", m)
		}
		if paid, free := b.seats(t); paid != 19 || free != 1 {
			t.Errorf("seats = %d paid, %d free; want 19 and 1", paid, free)
		}
		if row := b.row(t); row.Gone != 1 || row.State != store.ReconcileComplete {
			t.Errorf("row = %+v", row)
		}
		// Gone stays gone: the next run finds nothing to mark.
		if rep := b.run(t); rep.Gone != 0 || rep.Listed != 19 {
			t.Errorf("third run = %+v", rep)
		}
	})
}

func TestReconcile_newerEventWinsOverSnapshot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		b := setup(t, dialect)
		users := b.addUsers(0, 5)
		// Deactivated in the IdP an hour after the data the listing shows: the
		// event arrived, and the listing (a cached view, or a lagging replica
		// of WorkOS) still says active.
		ev := b.userEvent(users[2], "inactive", time.Now().Add(time.Hour))
		if _, err := b.st.PutInbox(t.Context(), ev); err != nil {
			t.Fatal(err)
		}
		if err := b.app.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		rep := b.run(t)
		if rep.Listed != 5 || rep.Changed != 4 || rep.Gone != 0 {
			t.Errorf("report = %+v, want 5 listed, 4 changed (the newer event stands)", rep)
		}
		if u := b.user(t, users[2].ID); u.State != "inactive" || u.InA {
			t.Errorf("u2 = %+v, want still inactive", u)
		}
		if m, ok := b.member(t, "u2@acme.test"); ok && m.PlanID != "" {
			t.Errorf("u2 = %+v, want no paid seat", m)
		}
		if paid, _ := b.seats(t); paid != 4 {
			t.Errorf("paid = %d, want 4", paid)
		}
	})
}

func TestReconcile_twoReplicas(t *testing.T) {
	t.Parallel()
	b := setup(t, "postgres")
	b.addUsers(0, 300)
	b.fake.SetLatency(5 * time.Millisecond) // long enough for the runs to overlap
	second := storetest.OpenWith(t, b.opts)
	_, other := b.replica(second, "replica-b")
	type result struct {
		rep reconcile.Report
		err error
	}
	results := make([]result, 2)
	var wg sync.WaitGroup
	for i, r := range []*reconcile.Reconciler{b.rec, other} {
		wg.Go(func() {
			rep, err := r.Run(t.Context(), testPlan, nil)
			results[i] = result{rep, err}
		})
	}
	wg.Wait()
	ok := 0
	for i, r := range results {
		switch {
		case r.err == nil:
			ok++
			if r.rep.Listed != 300 || r.rep.Resumed != 0 {
				t.Errorf("replica %d: report = %+v, want 300 listed once", i, r.rep)
			}
		case membership.ErrorCode(r.err) != "reconcile_running" || membership.ErrorKind(r.err) != membership.Conflict:
			t.Errorf("replica %d: err = %v, want Conflict reconcile_running", i, r.err)
		}
	}
	if ok == 0 {
		t.Fatal("neither replica reconciled")
	}
	t.Logf("%d of 2 replicas ran (the other found the lease held)", ok)
	if row := b.row(t); row.State != store.ReconcileComplete || row.Listed != 300 {
		t.Errorf("row = %+v", row)
	}
	if paid, _ := b.seats(t); paid != 300 {
		t.Errorf("paid = %d, want 300", paid)
	}
}

func TestReconcile_leaseHeldElsewhere(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	b.addUsers(0, 3)
	b.run(t) // links the directory
	take := func(ttl time.Duration) {
		t.Helper()
		if ok, err := b.st.TryLease(t.Context(), "reconcile:"+b.dir, "replica-z", ttl); !ok || err != nil {
			t.Fatalf("TryLease = %v, %v", ok, err)
		}
	}
	take(time.Minute)
	_, err := b.rec.Run(t.Context(), testPlan, nil)
	wantCode(t, err, membership.Conflict, "reconcile_running")
	// replica-z died without releasing: once its lease has run out (set here
	// to have ended a second ago) the directory is free again.
	take(-time.Second)
	if rep := b.run(t); rep.Listed != 3 {
		t.Errorf("report = %+v", rep)
	}
}

func TestReconcile_planWithoutWorkOSOrganization(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	if _, err := b.st.PutPlan(t.Context(), membership.PlanSpec{ID: "plan_bare", OrganizationID: testOrg, Name: "Bare"}); err != nil {
		t.Fatal(err)
	}
	_, err := b.rec.Run(t.Context(), "plan_bare", nil)
	wantCode(t, err, membership.Invalid, "scim_not_configured")
	if got := err.Error(); got != "scim_not_configured: plan has no WorkOS organization; configure SCIM first" {
		t.Errorf("err = %q", got)
	}
	_, err = b.rec.Run(t.Context(), "plan_nope", nil)
	if membership.ErrorKind(err) != membership.NotFound {
		t.Errorf("unknown plan: err = %v, want NotFound", err)
	}
	if b.fake.Requests("/") != 0 {
		t.Errorf("WorkOS was called %d times", b.fake.Requests("/"))
	}
}

func TestReconcile_cursorRefusedStartsOver(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite").withPageSize(50)
	b.addUsers(0, 75)
	injected := false
	_, err := b.rec.Run(t.Context(), testPlan, func(p reconcile.Progress) {
		if !injected {
			injected = true
			b.fake.FailNext("GET", "/directory_users", 1, http.StatusUnprocessableEntity, "")
		}
	})
	wantCode(t, err, membership.Upstream, "workos_invalid_request")
	if row := b.row(t); row.State != store.ReconcileFailed || row.FinishedAt == nil || row.Error == "" {
		t.Fatalf("row = %+v, want failed", row)
	}
	before := b.userRequests()
	rep := b.run(t)
	if rep.Resumed != 0 || rep.Listed != 75 || b.userRequests()-before != 2 {
		t.Errorf("report = %+v after %d requests, want a fresh run of 2 pages", rep, b.userRequests()-before)
	}
}
