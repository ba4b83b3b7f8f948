package server_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// bigJSON is a syntactically valid object over the API's 64 KiB limit.
var bigJSON = `{"name":"` + strings.Repeat("a", 65<<10) + `"}`

func TestOrganizationAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		svc, admin := asService(t), asAdmin(t, adminEmail)
		path := "/api/v1/organizations/" + orgID
		body := `{"name":"Acme","domains":["Acme.TEST"," acme.test ","example.org"]}`
		put := func(sc scenario) scenario {
			sc.method = http.MethodPut
			if sc.path == "" {
				sc.path = path
			}
			if sc.headers == nil {
				sc.headers = svc
			}
			return sc
		}
		run(t, ts.e, []scenario{
			put(scenario{name: "no token", headers: map[string]string{}, body: body, status: http.StatusUnauthorized,
				code: "missing_token", respHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="seatsync"`}}),
			put(scenario{name: "admin token", headers: admin, body: body, status: http.StatusForbidden, code: "forbidden"}),
			put(scenario{name: "created", body: body, status: http.StatusOK,
				contains: []string{`"id":"acme"`, `"name":"Acme"`, `"domains":["acme.test","example.org"]`}}),
			put(scenario{name: "updated, trailing newline is fine", body: `{"name":"Acme Inc","domains":[]}` + "\n",
				status: http.StatusOK, contains: []string{`"name":"Acme Inc"`, `"domains":[]`}}),
			put(scenario{name: "bad id", path: "/api/v1/organizations/bad!id", body: body, status: http.StatusBadRequest, code: "invalid_id"}),
			put(scenario{name: "id too long", path: "/api/v1/organizations/" + strings.Repeat("a", 129), body: body,
				status: http.StatusBadRequest, code: "invalid_id"}),
			put(scenario{name: "control character in name", body: `{"name":"Ac\u0007me"}`, status: http.StatusBadRequest, code: "invalid_name"}),
			put(scenario{name: "name too long", body: `{"name":"` + strings.Repeat("n", 201) + `"}`, status: http.StatusBadRequest, code: "invalid_name"}),
			put(scenario{name: "bad domain", body: `{"name":"Acme","domains":["not a domain"]}`, status: http.StatusBadRequest, code: "invalid_domain"}),
			put(scenario{name: "domain with scheme", body: `{"name":"Acme","domains":["https://acme.test"]}`, status: http.StatusBadRequest, code: "invalid_domain"}),
			put(scenario{name: "domains not a list", body: `{"name":"Acme","domains":"acme.test"}`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "unknown field", body: `{"name":"Acme","plan":"gold"}`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "not JSON", body: `name=Acme`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "empty body", status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "two objects", body: `{"name":"A"}{"name":"B"}`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "trailing garbage", body: `{"name":"A"} x`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "body over 64 KiB", body: bigJSON, status: http.StatusRequestEntityTooLarge, code: "body_too_large"}),
			put(scenario{name: "chunked body over 64 KiB", body: bigJSON, prepare: chunked, status: http.StatusRequestEntityTooLarge, code: "body_too_large"}),
		})
		o, err := ts.st.Organization(t.Context(), orgID)
		if err != nil {
			t.Fatal(err)
		}
		if o.Name != "Acme Inc" || len(o.Domains) != 0 {
			t.Errorf("stored organization = %+v, want the last good PUT (Acme Inc, no domains)", o)
		}
	})
}

func TestPlanAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		svc, admin := asService(t), asAdmin(t, adminEmail)
		path := "/api/v1/plans/" + planID
		body := `{"organization_id":"acme","name":"Team","admins":[" Admin@Acme.test "],"workos_organization_id":"org_ACME"}`
		put := func(sc scenario) scenario {
			sc.method = http.MethodPut
			if sc.path == "" {
				sc.path = path
			}
			if sc.headers == nil {
				sc.headers = svc
			}
			return sc
		}
		run(t, ts.e, []scenario{
			put(scenario{name: "unknown organization", body: body, status: http.StatusBadRequest, code: "unknown_organization"}),
			{name: "organization", method: http.MethodPut, path: "/api/v1/organizations/acme", headers: svc,
				body: `{"name":"Acme","domains":["acme.test"]}`, status: http.StatusOK},
			{name: "second organization", method: http.MethodPut, path: "/api/v1/organizations/globex", headers: svc,
				body: `{"name":"Globex"}`, status: http.StatusOK},
			put(scenario{name: "no token", headers: map[string]string{}, body: body, status: http.StatusUnauthorized, code: "missing_token"}),
			put(scenario{name: "admin token", headers: admin, body: body, status: http.StatusForbidden, code: "forbidden"}),
			put(scenario{name: "created", body: body, status: http.StatusCreated, contains: []string{
				`"id":"plan_acme"`, `"organization_id":"acme"`, `"mode":"manual"`, `"workos_organization_id":"org_ACME"`,
				`"directory":null`, `"directories":[]`, `"test_mode_limit":10`, `"manual_changes_allowed":true`,
				`"seats":{"paid":0,"free":0}`, `"cutover_at":null`, `"downgrade_due_at":null`}}),
			put(scenario{name: "updated", body: body, status: http.StatusOK, contains: []string{`"id":"plan_acme"`}}),
			put(scenario{name: "own test mode limit", body: `{"organization_id":"acme","name":"Team","admins":["admin@acme.test"],"test_mode_limit":3}`,
				status: http.StatusOK, contains: []string{`"test_mode_limit":3`, `"workos_organization_id":"org_ACME"`}}),
			put(scenario{name: "zero test mode limit", body: `{"organization_id":"acme","name":"Team","admins":["admin@acme.test"],"test_mode_limit":0}`,
				status: http.StatusOK, contains: []string{`"test_mode_limit":0`}}),
			put(scenario{name: "back to the default limit", body: body, status: http.StatusOK, contains: []string{`"test_mode_limit":10`}}),
			put(scenario{name: "negative limit", body: `{"organization_id":"acme","name":"Team","test_mode_limit":-1}`,
				status: http.StatusBadRequest, code: "invalid_test_mode_limit"}),
			put(scenario{name: "bad admin email", body: `{"organization_id":"acme","name":"Team","admins":["not-an-email"]}`,
				status: http.StatusBadRequest, code: "invalid_admin"}),
			put(scenario{name: "admin email with two @", body: `{"organization_id":"acme","name":"Team","admins":["a@b@acme.test"]}`,
				status: http.StatusBadRequest, code: "invalid_admin"}),
			put(scenario{name: "no organization_id", body: `{"name":"Team"}`, status: http.StatusBadRequest, code: "invalid_organization_id"}),
			put(scenario{name: "bad workos organization id", body: `{"organization_id":"acme","name":"Team","workos_organization_id":"org ACME"}`,
				status: http.StatusBadRequest, code: "invalid_workos_organization_id"}),
			put(scenario{name: "blank scoping group", body: `{"organization_id":"acme","name":"Team","scoping_groups":[" "]}`,
				status: http.StatusBadRequest, code: "invalid_scoping_group"}),
			put(scenario{name: "bad plan id", path: "/api/v1/plans/bad!id", body: body, status: http.StatusBadRequest, code: "invalid_id"}),
			put(scenario{name: "unknown field", body: `{"organization_id":"acme","name":"Team","seats":5}`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "not JSON", body: `[`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "trailing data", body: body + `{}`, status: http.StatusBadRequest, code: "invalid_json"}),
			put(scenario{name: "body over 64 KiB", body: bigJSON, status: http.StatusRequestEntityTooLarge, code: "body_too_large"}),
			put(scenario{name: "moved to another organization", body: `{"organization_id":"globex","name":"Team"}`,
				status: http.StatusConflict, code: "organization_mismatch"}),
		})

		spec, err := ts.st.PlanSpec(t.Context(), planID)
		if err != nil {
			t.Fatal(err)
		}
		if spec.OrganizationID != orgID || spec.TestModeLimit != nil || !slices.Equal(spec.Admins, []string{adminEmail}) ||
			spec.WorkOSOrganizationID != workosOrg {
			t.Errorf("stored plan = %+v, want the last good PUT", spec)
		}
	})
}

func TestPlanStatusAccess(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		admin, other := asAdmin(t, adminEmail), asAdmin(t, otherAdmin)
		missing := scenario{path: "/api/v1/plans/plan_missing", headers: admin, status: http.StatusNotFound, code: "plan_not_found"}.do(t, ts.e)
		notMine := scenario{path: "/api/v1/plans/" + planID, headers: other, status: http.StatusNotFound, code: "plan_not_found"}.do(t, ts.e)
		if missing.Body.String() != notMine.Body.String() {
			t.Errorf("404 for a missing plan %q differs from 404 for someone else's plan %q", missing.Body, notMine.Body)
		}
		for _, path := range []string{"/members", "/audit"} {
			rec := scenario{path: "/api/v1/plans/" + planID + path, headers: other, status: http.StatusNotFound}.do(t, ts.e)
			if rec.Body.String() != notMine.Body.String() {
				t.Errorf("GET %s of someone else's plan: %q, want the same 404 %q", path, rec.Body, notMine.Body)
			}
		}
		for _, sc := range []scenario{
			{name: "POST member", method: http.MethodPost, path: "/api/v1/plans/" + planID + "/members", body: `{"email":"x@acme.test"}`},
			{name: "DELETE member", method: http.MethodDelete, path: "/api/v1/plans/" + planID + "/members/x@acme.test"},
			{name: "invalid plan id", path: "/api/v1/plans/bad!id"},
		} {
			t.Run(sc.name, func(t *testing.T) {
				sc.headers, sc.status = other, http.StatusNotFound
				if rec := sc.do(t, ts.e); rec.Body.String() != notMine.Body.String() {
					t.Errorf("%s: %q, want the same 404 %q", sc.name, rec.Body, notMine.Body)
				}
			})
		}

		run(t, ts.e, []scenario{
			{name: "plan admin", path: "/api/v1/plans/" + planID, headers: admin, status: http.StatusOK, contains: []string{
				`"mode":"manual"`, `"manual_changes_allowed":true`, `"directory":null`, `"seats":{"paid":0,"free":0}`,
				`"events_pending":0`, `"events_failed":0`, `"last_event_at":null`}},
			{name: "admin email in another case", path: "/api/v1/plans/" + planID, headers: asAdmin(t, "ADMIN@acme.TEST"),
				status: http.StatusOK},
			{name: "service", path: "/api/v1/plans/" + planID, headers: asService(t), status: http.StatusOK},
			{name: "the other admin on their plan", path: "/api/v1/plans/" + otherPlan, headers: other, status: http.StatusOK},
			{name: "admins replaced", method: http.MethodPut, path: "/api/v1/plans/" + planID, headers: asService(t),
				body:   `{"organization_id":"acme","name":"Team","admins":["new@acme.test"],"workos_organization_id":"org_ACME"}`,
				status: http.StatusOK},
			{name: "former admin", path: "/api/v1/plans/" + planID, headers: admin, status: http.StatusNotFound, code: "plan_not_found"},
			{name: "new admin", path: "/api/v1/plans/" + planID, headers: asAdmin(t, "new@acme.test"), status: http.StatusOK},
		})
	})
}

// planStatusJSON is the part of GET /api/v1/plans/{id} the tests read.
type planStatusJSON struct {
	Mode      string `json:"mode"`
	Directory *struct {
		ID          string     `json:"id"`
		State       string     `json:"state"`
		ActiveUsers int64      `json:"active_users"`
		UsersAdded  int        `json:"users_added"`
		LastEventAt *time.Time `json:"last_event_at"`
	} `json:"directory"`
	Seats struct {
		Paid int64 `json:"paid"`
		Free int64 `json:"free"`
	} `json:"seats"`
	EventsPending        int64 `json:"events_pending"`
	ManualChangesAllowed bool  `json:"manual_changes_allowed"`
}

// TestPlanWithDirectory applies user events of the plan's WorkOS organization:
// the plan goes to test mode and the admin API refuses manual seat changes.
func TestPlanWithDirectory(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		admin := asAdmin(t, adminEmail)
		status := "/api/v1/plans/" + planID
		members := status + "/members"
		run(t, ts.e, []scenario{
			{name: "manual seat", method: http.MethodPost, path: members, headers: admin, body: `{"email":"zed@acme.test","name":"Zed"}`,
				status: http.StatusCreated},
			{name: "manual seat to remove later", method: http.MethodPost, path: members, headers: admin, body: `{"email":"yan@acme.test"}`,
				status: http.StatusCreated},
		})

		for i, email := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test"} {
			_, body := userEvent("directory_user_"+string(rune('a'+i)), email, 1)
			deliver(t, ts.e, body, webhooks.StatusAccepted)
		}
		st := decode[planStatusJSON](t, scenario{path: status, headers: admin, status: http.StatusOK}.do(t, ts.e))
		if st.EventsPending != 3 || st.Mode != "manual" {
			t.Errorf("before the applier ran: mode %s, events_pending %d; want manual, 3", st.Mode, st.EventsPending)
		}
		ts.drain(t)

		st = decode[planStatusJSON](t, scenario{path: status, headers: admin, status: http.StatusOK}.do(t, ts.e))
		if st.Mode != "test" || st.ManualChangesAllowed || st.EventsPending != 0 {
			t.Errorf("mode %s, manual_changes_allowed %v, events_pending %d; want test, false, 0", st.Mode, st.ManualChangesAllowed, st.EventsPending)
		}
		if d := st.Directory; d == nil || d.ID != dirID || d.State != "active" || d.ActiveUsers != 3 || d.UsersAdded != 3 || d.LastEventAt == nil {
			t.Errorf("directory = %+v, want %s active with 3 active users, 3 added and a last event time", d, dirID)
		}
		if st.Seats.Paid != 5 || st.Seats.Free != 0 {
			t.Errorf("seats = %+v, want 5 paid (3 directory + 2 manual kept in test mode), 0 free", st.Seats)
		}

		run(t, ts.e, []scenario{
			{name: "add refused", method: http.MethodPost, path: members, headers: admin, body: `{"email":"dan@acme.test"}`,
				status: http.StatusConflict, code: "idp_managed", contains: []string{"identity provider"}},
			{name: "re-add refused", method: http.MethodPost, path: members, headers: admin, body: `{"email":"zed@acme.test"}`,
				status: http.StatusConflict, code: "idp_managed"},
			{name: "remove manual seat refused", method: http.MethodDelete, path: members + "/yan@acme.test", headers: admin,
				status: http.StatusConflict, code: "idp_managed", contains: []string{"identity provider"}},
			{name: "remove directory seat refused", method: http.MethodDelete, path: members + "/alice@acme.test", headers: admin,
				status: http.StatusConflict, code: "idp_managed"},
			{name: "service is refused too", method: http.MethodPost, path: members, headers: asService(t), body: `{"email":"dan@acme.test"}`,
				status: http.StatusConflict, code: "idp_managed"},
			{name: "directory seats listed", path: members + "?tier=paid", headers: admin, status: http.StatusOK,
				contains: []string{`"email":"alice@acme.test"`, `"source":"directory"`, `"directory_user_id":"directory_user_a"`,
					`"email":"zed@acme.test"`, `"source":"manual"`}},
			{name: "audit names the directory", path: status + "/audit", headers: admin, status: http.StatusOK,
				contains: []string{`"action":"directory_linked"`, `"actor":"directory:` + dirID + `"`, `"action":"granted"`}},
		})
	})
}
