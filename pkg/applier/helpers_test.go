package applier_test

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

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
	st  *store.Store
	app *applier.Applier
	now time.Time
	seq int
}

func newWorld(t *testing.T, dialect string, rules store.Rules) *world {
	t.Helper()
	w := &world{st: storetest.Open(t, dialect), now: t0}
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

func (w *world) outcome(t *testing.T, eventID string) membership.Outcome {
	t.Helper()
	r, err := w.st.InboxEvent(t.Context(), eventID)
	if err != nil {
		t.Fatal(err)
	}
	return membership.Outcome(r.Status)
}
