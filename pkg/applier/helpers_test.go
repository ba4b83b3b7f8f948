package applier_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"  // database/sql driver "sqlite", for world.exec
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx", for world.exec

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

const (
	testOrg   = "acme"
	testPlan  = "plan_acme"
	workosOrg = "org_ACME"
	testDir   = "directory_ACME"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// world is a store with one organization and one plan linked to a WorkOS organization.
type world struct {
	st      *store.Store
	app     *applier.Applier
	now     time.Time
	dialect string
	opts    store.Options // how st was opened, for a second pool or a raw connection
	rules   store.Rules
}

func newWorld(t *testing.T, dialect string, rules store.Rules) *world {
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
	w := &world{st: storetest.OpenWith(t, opts), now: t0, dialect: dialect, opts: opts, rules: rules}
	ctx := t.Context()
	if err := w.st.PutOrganization(ctx, membership.Organization{ID: testOrg, Name: "Acme"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.PutPlan(ctx, membership.PlanSpec{ID: testPlan, OrganizationID: testOrg, Name: "Team",
		WorkOSOrganizationID: workosOrg, Admins: []string{"admin@acme.test"}}); err != nil {
		t.Fatal(err)
	}
	w.app = applier.New(w.st, applier.Options{Rules: rules, Now: func() time.Time { return w.now }, UnmatchedAfter: time.Hour})
	return w
}

// userEvent builds a dsync.user.* envelope; v orders the user's changes.
func userEvent(typ, id, email, state string, v int) membership.InboxEvent {
	at := t0.Add(time.Duration(v) * time.Minute)
	data := map[string]any{"object": "directory_user", "id": id, "directory_id": testDir, "organization_id": workosOrg,
		"email": email, "first_name": "F" + id, "last_name": "L", "state": state,
		"created_at": t0.Format(time.RFC3339Nano), "updated_at": at.Format(time.RFC3339Nano)}
	return envelope(fmt.Sprintf("event_%s_%s_%d", typ, id, v), "dsync.user."+typ, data, at)
}

func dirEvent(typ string, v int, domains ...string) membership.InboxEvent {
	at := t0.Add(time.Duration(v) * time.Minute)
	ds := []map[string]string{}
	for _, d := range domains {
		ds = append(ds, map[string]string{"object": "organization_domain", "domain": d})
	}
	data := map[string]any{"object": "directory", "id": testDir, "organization_id": workosOrg, "type": "okta scim v2.0",
		"name": "Acme Okta", "state": "active", "domains": ds, "created_at": t0.Format(time.RFC3339Nano), "updated_at": at.Format(time.RFC3339Nano)}
	return envelope(fmt.Sprintf("event_%s_%d", typ, v), typ, data, at)
}

func envelope(id, typ string, data map[string]any, at time.Time) membership.InboxEvent {
	body, _ := json.Marshal(map[string]any{"object": "event", "id": id, "event": typ, "data": data, "created_at": at.Format(time.RFC3339Nano)})
	return membership.InboxEvent{EventID: id, Type: typ, CreatedAt: at, Payload: body, Source: membership.SourceWebhook}
}

func (w *world) put(t *testing.T, evs ...membership.InboxEvent) {
	t.Helper()
	for _, ev := range evs {
		if _, err := w.st.PutInbox(t.Context(), ev); err != nil {
			t.Fatalf("PutInbox(%s): %v", ev.EventID, err)
		}
	}
}

func (w *world) drain(t *testing.T) {
	t.Helper()
	if err := w.app.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

// seats returns email → "plan/source" for every member of the organization ("" = free).
func (w *world) seats(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	after := ""
	for {
		page, err := w.st.PlanMembers(t.Context(), testPlan, testOrg, "", after, 1000)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range page.Members {
			d := m.Domain()
			out[d.Email] = ""
			if d.PlanID != "" {
				out[d.Email] = d.PlanID + "/" + string(d.Source)
			}
		}
		if page.After == "" {
			return out
		}
		after = page.After
	}
}

func (w *world) plan(t *testing.T) store.PlanRow {
	t.Helper()
	p, err := w.st.Plan(t.Context(), testPlan)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// applierWith returns another Applier over the world's store and clock; zero
// fields take the world's rules, clock and an hour for UnmatchedAfter.
func (w *world) applierWith(o applier.Options) *applier.Applier {
	if o.Rules == (store.Rules{}) {
		o.Rules = w.rules
	}
	if o.Now == nil {
		o.Now = func() time.Time { return w.now }
	}
	if o.UnmatchedAfter == 0 {
		o.UnmatchedAfter = time.Hour
	}
	return applier.New(w.st, o)
}

// addPlan creates an organization (unless it exists) and a plan linked to a WorkOS organization.
func (w *world) addPlan(t *testing.T, orgID, planID, workosOrgID string, domains ...string) {
	t.Helper()
	ctx := t.Context()
	if _, err := w.st.Organization(ctx, orgID); err != nil {
		if err := w.st.PutOrganization(ctx, membership.Organization{ID: orgID, Name: orgID, Domains: domains}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := w.st.PutPlan(ctx, membership.PlanSpec{ID: planID, OrganizationID: orgID, Name: planID,
		WorkOSOrganizationID: workosOrgID, Admins: []string{"admin@" + orgID + ".test"}}); err != nil {
		t.Fatal(err)
	}
}

// userData is a directory user object (reference §5.3) updated at `at`.
func userData(dir, org, id, email, state string, at time.Time) map[string]any {
	return map[string]any{"object": "directory_user", "id": id, "directory_id": dir, "organization_id": org,
		"idp_id": "idp_" + id, "email": email, "first_name": "F" + id, "last_name": "L", "state": state,
		"raw_attributes": map[string]any{}, "custom_attributes": map[string]any{},
		"created_at": t0.Format(time.RFC3339Nano), "updated_at": at.Format(time.RFC3339Nano)}
}

// userEventFor is userEvent for any directory and WorkOS organization.
func userEventFor(dir, org, typ, id, email, state string, v int) membership.InboxEvent {
	at := t0.Add(time.Duration(v) * time.Minute)
	return envelope(fmt.Sprintf("event_%s_%s_%s_%d", dir, typ, id, v), "dsync.user."+typ, userData(dir, org, id, email, state, at), at)
}

// dirEventFor is dirEvent for any directory and WorkOS organization.
func dirEventFor(dir, org, typ string, v int, domains ...string) membership.InboxEvent {
	at := t0.Add(time.Duration(v) * time.Minute)
	ds := []map[string]string{}
	for i, d := range domains {
		ds = append(ds, map[string]string{"object": "organization_domain", "id": fmt.Sprintf("org_domain_%d", i), "domain": d})
	}
	data := map[string]any{"object": "directory", "id": dir, "organization_id": org, "type": "azure scim v2.0",
		"name": dir + " name", "state": "active", "domains": ds, "external_key": "key",
		"created_at": t0.Format(time.RFC3339Nano), "updated_at": at.Format(time.RFC3339Nano)}
	return envelope(fmt.Sprintf("event_%s_%s_%d", dir, typ, v), typ, data, at)
}

// groupData is a directory group object (reference §5.5).
func groupData(id, name string) map[string]any {
	return map[string]any{"object": "directory_group", "id": id, "idp_id": "idp_" + id, "directory_id": testDir,
		"organization_id": workosOrg, "name": name, "raw_attributes": map[string]any{},
		"created_at": t0.Format(time.RFC3339Nano), "updated_at": t0.Format(time.RFC3339Nano)}
}

// groupEvent builds a dsync.group.{created,updated,deleted} event at version v.
func groupEvent(typ, id, name string, v int) membership.InboxEvent {
	at := t0.Add(time.Duration(v) * time.Minute)
	return envelope(fmt.Sprintf("event_group_%s_%s_%d", typ, id, v), "dsync.group."+typ, groupData(id, name), at)
}

// memberEvent builds dsync.group.user_added or user_removed (reference §5.6):
// data = {directory_id, user, group}, with no top-level organization_id.
func memberEvent(typ, userID, email, groupID, groupName string, v int) membership.InboxEvent {
	at := t0.Add(time.Duration(v) * time.Minute)
	data := map[string]any{"directory_id": testDir,
		"user":  userData(testDir, workosOrg, userID, email, "active", t0),
		"group": groupData(groupID, groupName)}
	return envelope(fmt.Sprintf("event_%s_%s_%s_%d", typ, groupID, userID, v), "dsync.group."+typ, data, at)
}

// rawEvent is an inbox event with a verbatim payload.
func rawEvent(id, typ string, payload string) membership.InboxEvent {
	return membership.InboxEvent{EventID: id, Type: typ, CreatedAt: t0, Payload: []byte(payload), Source: membership.SourceWebhook}
}

// step stores and applies events one at a time, in the order given.
func (w *world) step(t *testing.T, evs ...membership.InboxEvent) {
	t.Helper()
	for _, ev := range evs {
		w.put(t, ev)
		w.drain(t)
	}
}

// member returns the member of the test organization with the email.
func (w *world) member(t *testing.T, email string) (membership.Member, bool) {
	t.Helper()
	return w.memberIn(t, testOrg, email)
}

func (w *world) memberIn(t *testing.T, orgID, email string) (membership.Member, bool) {
	t.Helper()
	ms, err := w.st.Members(t.Context(), orgID, []string{email})
	if err != nil {
		t.Fatal(err)
	}
	m, ok := ms[email]
	return m, ok
}

// seat returns "plan/source" for a member, "free" for a free one and "none"
// when the organization has no member with the email.
func (w *world) seat(t *testing.T, email string) string {
	t.Helper()
	m, ok := w.member(t, email)
	switch {
	case !ok:
		return "none"
	case m.PlanID == "":
		return "free"
	}
	return m.PlanID + "/" + string(m.Source)
}

func (w *world) dirUser(t *testing.T, id string) *membership.DirectoryUser {
	t.Helper()
	u, err := w.st.DirectoryUser(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (w *world) directory(t *testing.T, id string) *store.DirectoryRow {
	t.Helper()
	d, err := w.st.Directory(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w *world) inbox(t *testing.T, eventID string) *store.InboxRow {
	t.Helper()
	r, err := w.st.InboxEvent(t.Context(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// wantOutcome checks an event's outcome and that its reason contains reason.
func (w *world) wantOutcome(t *testing.T, eventID string, o membership.Outcome, reason string) *store.InboxRow {
	t.Helper()
	r := w.inbox(t, eventID)
	if r.Status != string(o) || !strings.Contains(r.Reason, reason) {
		t.Fatalf("%s: outcome %s (%q, last error %q), want %s (%q)", eventID, r.Status, r.Reason, r.LastError, o, reason)
	}
	return r
}

// audit returns a plan's audit entries, oldest first.
func (w *world) audit(t *testing.T, planID string) []store.AuditRow {
	t.Helper()
	rows, err := w.st.Audit(t.Context(), planID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	slices.Reverse(rows)
	return rows
}

// auditFor returns a plan's audit entries with the action (and member, when not "").
func (w *world) auditFor(t *testing.T, planID, action, email string) []store.AuditRow {
	t.Helper()
	var out []store.AuditRow
	for _, r := range w.audit(t, planID) {
		if r.Action == action && (email == "" || r.MemberEmail == email) {
			out = append(out, r)
		}
	}
	return out
}

// exec runs SQL on a connection of its own, beside the store: tests use it to
// inject faults and to make postponed events due without waiting.
func (w *world) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	db, query := w.rawDB(t, query)
	defer db.Close()
	if _, err := db.ExecContext(t.Context(), query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// rawDB opens a connection of its own beside the store and rewrites query's
// placeholders for its driver.
func (w *world) rawDB(t *testing.T, query string) (*sql.DB, string) {
	t.Helper()
	driver, dsn := "sqlite", w.opts.Path+"?_pragma=busy_timeout(10000)"
	if w.dialect == "postgres" {
		driver, dsn = "pgx", w.opts.URL
		for n := 1; strings.Contains(query, "?"); n++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", n), 1)
		}
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	return db, query
}

// makeDue makes a postponed event due now.
func (w *world) makeDue(t *testing.T, eventIDs ...string) {
	t.Helper()
	for _, id := range eventIDs {
		w.exec(t, "UPDATE inbox_events SET next_attempt_at = received_at WHERE event_id = ?", id)
	}
}
