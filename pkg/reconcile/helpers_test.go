package reconcile_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

const (
	testOrg   = "acme"
	testPlan  = "plan_acme"
	workosOrg = "org_ACME"
)

var rules = store.Rules{TestModeLimit: 10, CutoverGrace: 10 * time.Minute, OnDirectoryDeleted: "keep"}

// sleeps records the WorkOS client's back-off waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// bundle is a store with organization acme and plan_acme linked to org_ACME,
// a fake WorkOS with one directory of that organization, and a Reconciler.
type bundle struct {
	st     *store.Store
	opts   store.Options // how st was opened, for a second replica
	app    *applier.Applier
	fake   *workostest.Server
	wos    *workosapi.Client
	sleeps *sleeps
	dir    string
	rec    *reconcile.Reconciler
	// pageSize is the Reconciler's page size; 0 means its default of 100.
	pageSize int
}

// maxRetries is the WorkOS client's retry bound in these tests.
const maxRetries = 5

func setup(t *testing.T, dialect string) *bundle {
	t.Helper()
	opts := storetest.Options(t, dialect)
	if dialect == "postgres" {
		// Crash durability is not under test: commits need not wait for the disk.
		u, err := url.Parse(opts.URL)
		if err != nil {
			t.Fatal(err)
		}
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += "options=-c%20synchronous_commit%3Doff" // pgx reads %20, not +, as a space
		opts.URL = u.String()
	}
	b := &bundle{st: storetest.OpenWith(t, opts), opts: opts, fake: workostest.New(t), sleeps: &sleeps{}}
	ctx := t.Context()
	if err := b.st.PutOrganization(ctx, membership.Organization{ID: testOrg, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.st.PutPlan(ctx, membership.PlanSpec{ID: testPlan, OrganizationID: testOrg, Name: "Team",
		WorkOSOrganizationID: workosOrg, Admins: []string{"admin@acme.test"}}); err != nil {
		t.Fatal(err)
	}
	b.dir = b.fake.AddDirectory(workosOrg, workostest.Directory{}).ID
	wos, err := workosapi.New(workosapi.Options{APIKey: b.fake.APIKey, Endpoint: b.fake.URL, Sleep: b.sleeps.sleep, MaxRetries: maxRetries})
	if err != nil {
		t.Fatal(err)
	}
	b.wos = wos
	b.app, b.rec = b.replica(b.st, "replica-a")
	return b
}

// replica returns an applier and a Reconciler over st, as another replica would run them.
func (b *bundle) replica(st *store.Store, holder string) (*applier.Applier, *reconcile.Reconciler) {
	app := applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour})
	return app, reconcile.New(st, app, b.wos, reconcile.Options{Holder: holder, Lease: time.Minute, PageSize: b.pageSize})
}

// withPageSize makes the bundle's Reconciler list n users a page: more pages
// from fewer users, which keeps the SQLite tests quick under -race.
func (b *bundle) withPageSize(n int) *bundle {
	b.pageSize = n
	b.app, b.rec = b.replica(b.st, "replica-a")
	return b
}

// addUsers adds n active users u<from>…@acme.test to the fake directory.
func (b *bundle) addUsers(from, n int) []workostest.User {
	users := make([]workostest.User, n)
	for i := range users {
		users[i] = workostest.User{Email: fmt.Sprintf("U%d@Acme.test", from+i), FirstName: "F", LastName: fmt.Sprint(from + i)}
	}
	return b.fake.AddUsers(b.dir, users...)
}

// userRequests counts the fake's GET /directory_users requests, retries included.
func (b *bundle) userRequests() int { return b.fake.Requests("/directory_users") }

func (b *bundle) run(t *testing.T) reconcile.Report {
	t.Helper()
	rep, err := b.rec.Run(t.Context(), testPlan, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return rep
}

func (b *bundle) row(t *testing.T) store.ReconciliationRow {
	t.Helper()
	rows, err := b.st.PlanReconciliations(t.Context(), testPlan)
	if err != nil || len(rows) != 1 {
		t.Fatalf("PlanReconciliations = %v, %v; want one row", rows, err)
	}
	return rows[0]
}

// seats returns the plan's paid and free seat counts.
func (b *bundle) seats(t *testing.T) (paid, free int64) {
	t.Helper()
	paid, free, err := b.st.SeatCounts(t.Context(), testPlan, testOrg)
	if err != nil {
		t.Fatal(err)
	}
	return paid, free
}

// member returns the member with email; ok false when there is none.
func (b *bundle) member(t *testing.T, email string) (membership.Member, bool) {
	t.Helper()
	ms, err := b.st.Members(t.Context(), testOrg, []string{email})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := ms[email]
	return m, ok
}

func (b *bundle) user(t *testing.T, id string) membership.DirectoryUser {
	t.Helper()
	u, err := b.st.DirectoryUser(t.Context(), id)
	if err != nil || u == nil {
		t.Fatalf("DirectoryUser(%s) = %v, %v", id, u, err)
	}
	return *u
}

// userEvent is a dsync.user.updated inbox event for a fake user, its data updated at `at`.
func (b *bundle) userEvent(u workostest.User, state string, at time.Time) membership.InboxEvent {
	id := "event_" + u.ID + "_" + state
	data := map[string]any{"object": "directory_user", "id": u.ID, "directory_id": b.dir, "organization_id": workosOrg,
		"email": u.Email, "first_name": u.FirstName, "last_name": u.LastName, "state": state,
		"created_at": u.CreatedAt, "updated_at": at.UTC().Format(time.RFC3339Nano)}
	body, _ := json.Marshal(map[string]any{"object": "event", "id": id, "event": "dsync.user.updated", "data": data,
		"created_at": at.UTC().Format(time.RFC3339Nano)})
	return membership.InboxEvent{EventID: id, Type: "dsync.user.updated", CreatedAt: at, Payload: body, Source: membership.SourceWebhook}
}

func wantCode(t *testing.T, err error, kind membership.Kind, code string) {
	t.Helper()
	if membership.ErrorKind(err) != kind || membership.ErrorCode(err) != code {
		t.Fatalf("err = %v (kind %s), want kind %s code %s", err, membership.ErrorKind(err), kind, code)
	}
}
