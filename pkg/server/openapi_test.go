package server_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	_ "github.com/glebarez/go-sqlite" // database/sql driver "sqlite", to break the test database
	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// openAPIContract validates real exchanges against pkg/server/openapi.yaml
// and records which documented responses they produced.
type openAPIContract struct {
	doc    *openapi3.T
	router routers.Router
	opts   *openapi3filter.Options
	// seen is operation ("GET /api/v1/plans/{plan_id}") → statuses answered.
	seen map[string]map[int]bool
}

// loadOpenAPI loads and validates the document as it is in the repository.
func loadOpenAPI(t *testing.T) *openAPIContract {
	t.Helper()
	raw, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(raw)
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("router of openapi.yaml: %v", err)
	}
	opts := &openapi3filter.Options{
		// A documented operation must document every status it answers.
		IncludeResponseStatus: true,
		MultiError:            true,
		// The document can only say a bearer token is needed; whether it
		// verifies is the server's business (401 invalid_token).
		AuthenticationFunc: func(_ context.Context, in *openapi3filter.AuthenticationInput) error {
			scheme, tok, _ := strings.Cut(in.RequestValidationInput.Request.Header.Get(echo.HeaderAuthorization), " ")
			if !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
				return errors.New("no bearer token")
			}
			return nil
		},
	}
	// Name the failing value and why, not the whole schema.
	opts.WithCustomSchemaErrorFunc(func(err *openapi3.SchemaError) string {
		return "/" + strings.Join(err.JSONPointer(), "/") + ": " + err.Reason
	})
	return &openAPIContract{doc: doc, router: router, opts: opts, seen: map[string]map[int]bool{}}
}

// exchange is one request and the status (and error code) it must get.
type exchange struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    string
	status  int
	code    string
	// invalid: the request deliberately breaks the document, which must
	// reject it; the response must still match the document.
	invalid bool
}

// do sends x to h; the request must match the document (or, if x.invalid,
// be rejected by it) and the response must match the document.
func (oc *openAPIContract) do(t *testing.T, h http.Handler, x exchange) *httptest.ResponseRecorder {
	t.Helper()
	if x.method == "" {
		x.method = http.MethodGet
	}
	what := x.method + " " + x.path
	if x.name != "" {
		what = x.name + ": " + what
	}
	build := func() *http.Request {
		var body io.Reader
		if x.body != "" {
			body = strings.NewReader(x.body)
		}
		r := httptest.NewRequestWithContext(t.Context(), x.method, x.path, body)
		if x.body != "" {
			r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		}
		for k, v := range x.headers {
			r.Header.Set(k, v)
		}
		return r
	}

	vreq := build()
	route, params, err := oc.router.FindRoute(vreq)
	if err != nil {
		t.Fatalf("%s: no operation in openapi.yaml: %v", what, err)
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: oc.opts}
	reqErr := openapi3filter.ValidateRequest(t.Context(), in)
	switch {
	case x.invalid && reqErr == nil:
		t.Errorf("%s: openapi.yaml accepts a request that breaks the API's rules", what)
	case !x.invalid && reqErr != nil:
		t.Errorf("%s: request does not match openapi.yaml: %v", what, reqErr)
	}

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, build())
	if rec.Code != x.status {
		t.Fatalf("%s: status = %d, want %d; body: %s", what, rec.Code, x.status, rec.Body)
	}
	if x.code != "" {
		if c := errorCode(t, rec); c != x.code {
			t.Errorf("%s: error code = %q, want %q; body: %s", what, c, x.code, rec.Body)
		}
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: rec.Code, Header: rec.Header(),
		Options: oc.opts}
	out.SetBodyBytes(rec.Body.Bytes())
	if err := openapi3filter.ValidateResponse(t.Context(), out); err != nil {
		t.Errorf("%s: %d response does not match openapi.yaml: %v\nbody: %s", what, rec.Code, err, rec.Body)
	}
	key := route.Method + " " + route.Path
	if oc.seen[key] == nil {
		oc.seen[key] = map[int]bool{}
	}
	oc.seen[key][rec.Code] = true
	return rec
}

func (oc *openAPIContract) run(t *testing.T, h http.Handler, xs []exchange) {
	t.Helper()
	for _, x := range xs {
		oc.do(t, h, x)
	}
}

// operations lists the document's operations as "METHOD /path".
func (oc *openAPIContract) operations() map[string]*openapi3.Operation {
	out := map[string]*openapi3.Operation{}
	for path, item := range oc.doc.Paths.Map() {
		for method, op := range item.Operations() {
			out[method+" "+path] = op
		}
	}
	return out
}

var echoParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// checkRoutes fails for an /api/v1 route of the server that the document
// does not describe, and for a documented operation the server lacks.
func (oc *openAPIContract) checkRoutes(t *testing.T, e *echo.Echo) {
	t.Helper()
	ops := oc.operations()
	routes := map[string]bool{}
	for _, r := range e.Routes() {
		if !strings.HasPrefix(r.Path, "/api/v1/") {
			continue
		}
		key := r.Method + " " + echoParam.ReplaceAllString(r.Path, "{$1}")
		routes[key] = true
		if ops[key] == nil {
			t.Errorf("route %s %s is not documented in openapi.yaml", r.Method, r.Path)
		}
	}
	for key := range ops {
		if !routes[key] {
			t.Errorf("openapi.yaml documents %s, which is no route of the server", key)
		}
	}
}

// checkExercised fails for every documented operation and response status
// that no exchange produced.
func (oc *openAPIContract) checkExercised(t *testing.T) {
	t.Helper()
	var missing []string
	for key, op := range oc.operations() {
		if len(oc.seen[key]) == 0 {
			missing = append(missing, key+" (never called)")
			continue
		}
		for status := range op.Responses.Map() {
			n, err := strconv.Atoi(status)
			if err != nil {
				missing = append(missing, fmt.Sprintf("%s: response %q is not a status", key, status))
				continue
			}
			if !oc.seen[key][n] {
				missing = append(missing, fmt.Sprintf("%s → %d", key, n))
			}
		}
	}
	slices.Sort(missing)
	for _, m := range missing {
		t.Errorf("documented but not exercised: %s", m)
	}
}

// padded is body with whitespace inside the object that takes it over the
// API's 64 KiB limit: a request the document accepts, refused with 413.
func padded(body string) string {
	return strings.TrimSuffix(body, "}") + strings.Repeat(" ", 65<<10) + "}"
}

// TestOpenAPI exercises every operation of openapi.yaml against a real server
// (sqlite store, fake WorkOS) and validates every request and response with
// kin-openapi, error responses included.
func TestOpenAPI(t *testing.T) {
	oc := loadOpenAPI(t)

	opts := storetest.Options(t, "sqlite")
	st := storetest.OpenWith(t, opts)
	fake := workostest.New(t)
	wos, err := workosapi.New(workosapi.Options{APIKey: fake.APIKey, Endpoint: fake.URL, MaxRetries: -1,
		Sleep: func(ctx context.Context, _ time.Duration) error { return ctx.Err() }})
	if err != nil {
		t.Fatal(err)
	}
	av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	hv, err := webhooks.NewVerifier([]string{hookSecret}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The guard holds every revocation by the directory for an admin.
	app := applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour,
		Guard: membership.Guard{Share: 0.01, Min: 1, Window: time.Minute}})
	deps := server.Deps{Store: st, Applier: app, Auth: av, Rules: rules, WorkOS: wos,
		Webhooks:        webhooks.NewHandler(hv, st, maxBody, nil),
		Reconciler:      reconcile.New(st, app, wos, reconcile.Options{}),
		PortalReturnURL: returnTemplate, PortalSuccessURL: successTmpl}
	e := server.New(deps)
	oc.checkRoutes(t, e)

	svc, admin, other := asService(t), asAdmin(t, adminEmail), asAdmin(t, otherAdmin)
	none := map[string]string{}
	badToken := bearer("not-a-jwt")
	const (
		nodirPlan  = "plan_nodir"  // WorkOS organization without directories
		thirdPlan  = "plan_third"  // its WorkOS organization (by external id) is linked to plan_fourth
		fourthPlan = "plan_fourth" // linked to plan_third's WorkOS organization
	)
	plan := func(id string) string { return "/api/v1/plans/" + id }
	members := plan(planID) + "/members"
	audit := plan(planID) + "/audit"
	reconcilePath := func(id string) string { return plan(id) + "/directory/reconcile" }

	// WorkOS: plan_acme's organization has a directory of three people.
	acmeOrg := fake.AddOrganization("Acme", planID)
	dir := fake.AddDirectory(acmeOrg, workostest.Directory{})
	var dirUsers []workostest.User
	for _, name := range []string{"alice", "bob", "carol"} {
		dirUsers = append(dirUsers, fake.AddUsers(dir.ID, workostest.User{Email: name + "@acme.test", FirstName: name,
			LastName: "Acme"})...)
	}
	emptyOrg := fake.AddOrganization("Empty", nodirPlan)
	takenOrg := fake.AddOrganization("Taken", thirdPlan)

	// planState is what the test reads back from the plan status.
	type planState struct {
		Mode           string `json:"mode"`
		Directory      *struct{ ID string }
		Reconciliation *struct {
			State     string    `json:"state"`
			StartedAt time.Time `json:"started_at"`
			Listed    int       `json:"listed"`
		} `json:"reconciliation"`
		HeldChanges []struct {
			ID    int64  `json:"id"`
			Kind  string `json:"kind"`
			State string `json:"state"`
			Size  int    `json:"size"`
		} `json:"held_changes"`
	}
	// reconcileAndWait starts a reconciliation of plan_acme and follows its
	// progress in the plan status until it has ended.
	lease := "reconcile:" + dir.ID
	reconcileAndWait := func(t *testing.T) planState {
		t.Helper()
		before := decode[planState](t, oc.do(t, e, exchange{name: "before", path: plan(planID), headers: admin, status: http.StatusOK}))
		oc.do(t, e, exchange{name: "start", method: http.MethodPost, path: reconcilePath(planID), headers: admin,
			status: http.StatusAccepted})
		deadline := time.Now().Add(20 * time.Second)
		for {
			s := decode[planState](t, oc.do(t, e, exchange{name: "progress", path: plan(planID), headers: admin, status: http.StatusOK}))
			held, err := st.LeaseHeld(t.Context(), lease)
			if err != nil {
				t.Fatal(err)
			}
			// A finished run of its own: not the previous one, no lease left.
			if s.Reconciliation != nil && s.Reconciliation.State != "running" && !held &&
				(before.Reconciliation == nil || !s.Reconciliation.StartedAt.Equal(before.Reconciliation.StartedAt)) {
				return s
			}
			if time.Now().After(deadline) {
				t.Fatalf("reconciliation did not finish: %+v", s.Reconciliation)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	t.Run("document", func(t *testing.T) {
		rec := oc.do(t, e, exchange{path: "/api/v1/openapi.yaml", status: http.StatusOK})
		if ct := rec.Header().Get(echo.HeaderContentType); ct != "application/yaml" {
			t.Errorf("Content-Type = %q, want application/yaml", ct)
		}
		raw, err := os.ReadFile("openapi.yaml")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(rec.Body.Bytes(), raw) {
			t.Error("GET /api/v1/openapi.yaml does not serve pkg/server/openapi.yaml")
		}
	})

	t.Run("organizations", func(t *testing.T) {
		org := "/api/v1/organizations/" + orgID
		body := `{"name":"Acme","domains":["Acme.TEST"]}`
		oc.run(t, e, []exchange{
			{name: "no token", method: http.MethodPut, path: org, headers: none, body: body, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "bad token", method: http.MethodPut, path: org, headers: badToken, body: body,
				status: http.StatusUnauthorized, code: "invalid_token"},
			{name: "admin token", method: http.MethodPut, path: org, headers: admin, body: body,
				status: http.StatusForbidden, code: "forbidden"},
			{name: "bad domain", method: http.MethodPut, path: org, headers: svc, body: `{"name":"Acme","domains":["not a domain"]}`,
				status: http.StatusBadRequest, code: "invalid_domain"},
			{name: "unknown field", method: http.MethodPut, path: org, headers: svc, body: `{"name":"Acme","plan":"gold"}`,
				invalid: true, status: http.StatusBadRequest, code: "invalid_json"},
			{name: "bad id", method: http.MethodPut, path: "/api/v1/organizations/bad!id", headers: svc, body: body,
				invalid: true, status: http.StatusBadRequest, code: "invalid_id"},
			{name: "body over 64 KiB", method: http.MethodPut, path: org, headers: svc, body: padded(body),
				status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
			{name: "created", method: http.MethodPut, path: org, headers: svc, body: body, status: http.StatusOK},
			{name: "second organization", method: http.MethodPut, path: "/api/v1/organizations/globex", headers: svc,
				body: `{"name":"Globex"}`, status: http.StatusOK},
		})
	})

	t.Run("plans", func(t *testing.T) {
		body := `{"organization_id":"acme","name":"Team","admins":["admin@acme.test"],"test_mode_limit":10,` +
			`"scoping_groups":[],"workos_organization_id":"` + acmeOrg + `"}`
		oc.run(t, e, []exchange{
			{name: "no token", method: http.MethodPut, path: plan(planID), headers: none, body: body, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "admin token", method: http.MethodPut, path: plan(planID), headers: admin, body: body,
				status: http.StatusForbidden, code: "forbidden"},
			{name: "unknown organization", method: http.MethodPut, path: plan(planID), headers: svc,
				body: `{"organization_id":"nope","name":"Team"}`, status: http.StatusBadRequest, code: "unknown_organization"},
			{name: "bad admin", method: http.MethodPut, path: plan(planID), headers: svc,
				body: `{"organization_id":"acme","admins":["not-an-email"]}`, status: http.StatusBadRequest, code: "invalid_admin"},
			{name: "negative limit", method: http.MethodPut, path: plan(planID), headers: svc,
				body: `{"organization_id":"acme","test_mode_limit":-1}`, invalid: true,
				status: http.StatusBadRequest, code: "invalid_test_mode_limit"},
			{name: "body over 64 KiB", method: http.MethodPut, path: plan(planID), headers: svc, body: padded(body),
				status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
			{name: "created", method: http.MethodPut, path: plan(planID), headers: svc, body: body, status: http.StatusCreated},
			{name: "updated", method: http.MethodPut, path: plan(planID), headers: svc, body: body, status: http.StatusOK},
			{name: "other plan", method: http.MethodPut, path: plan(otherPlan), headers: svc,
				body:   `{"organization_id":"acme","name":"Other","admins":["other@acme.test"],"test_mode_limit":null}`,
				status: http.StatusCreated},
			{name: "plan without directory", method: http.MethodPut, path: plan(nodirPlan), headers: svc,
				body:   `{"organization_id":"acme","name":"No directory","workos_organization_id":"` + emptyOrg + `"}`,
				status: http.StatusCreated},
			{name: "third plan", method: http.MethodPut, path: plan(thirdPlan), headers: svc,
				body: `{"organization_id":"acme","name":"Third","admins":["admin@acme.test"]}`, status: http.StatusCreated},
			{name: "fourth plan", method: http.MethodPut, path: plan(fourthPlan), headers: svc,
				body:   `{"organization_id":"acme","name":"Fourth","workos_organization_id":"` + takenOrg + `"}`,
				status: http.StatusCreated},
			{name: "moved to another organization", method: http.MethodPut, path: plan(planID), headers: svc,
				body: `{"organization_id":"globex","name":"Team"}`, status: http.StatusConflict, code: "organization_mismatch"},

			{name: "status", path: plan(planID), headers: admin, status: http.StatusOK},
			{name: "status for the service", path: plan(planID), headers: svc, status: http.StatusOK},
			{name: "status, no token", path: plan(planID), headers: none, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "status, another plan's admin", path: plan(planID), headers: other,
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "status, unknown plan", path: plan("plan_nope"), headers: svc, status: http.StatusNotFound, code: "plan_not_found"},
			{name: "status, bad id", path: plan("bad!id"), headers: svc, invalid: true,
				status: http.StatusNotFound, code: "plan_not_found"},
		})
	})

	t.Run("members", func(t *testing.T) {
		oc.run(t, e, []exchange{
			{name: "add", method: http.MethodPost, path: members, headers: admin, body: `{"email":"zed@acme.test","name":"Zed"}`,
				status: http.StatusCreated},
			{name: "add, without name", method: http.MethodPost, path: members, headers: admin, body: `{"email":" YAN@Acme.test "}`,
				status: http.StatusCreated},
			{name: "add again", method: http.MethodPost, path: members, headers: svc, body: `{"email":"zed@acme.test","name":"Zed"}`,
				status: http.StatusCreated},
			{name: "add, bad email", method: http.MethodPost, path: members, headers: admin, body: `{"email":"nobody"}`,
				status: http.StatusBadRequest, code: "invalid_email"},
			{name: "add, unknown field", method: http.MethodPost, path: members, headers: admin,
				body: `{"email":"n@acme.test","tier":"paid"}`, invalid: true, status: http.StatusBadRequest, code: "invalid_json"},
			{name: "add, body over 64 KiB", method: http.MethodPost, path: members, headers: admin,
				body: padded(`{"email":"n@acme.test"}`), status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
			{name: "add, seat on another plan", method: http.MethodPost, path: plan(otherPlan) + "/members", headers: other,
				body: `{"email":"zed@acme.test"}`, status: http.StatusConflict, code: "seat_elsewhere"},
			{name: "add, no token", method: http.MethodPost, path: members, headers: none, body: `{"email":"n@acme.test"}`,
				invalid: true, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "add, another plan's admin", method: http.MethodPost, path: members, headers: other,
				body: `{"email":"n@acme.test"}`, status: http.StatusNotFound, code: "plan_not_found"},
		})

		first := decode[listJSON[memberJSON]](t, oc.do(t, e, exchange{name: "first page", path: members + "?limit=1",
			headers: admin, status: http.StatusOK}))
		if first.ListMetadata.After == nil || len(first.Data) != 1 {
			t.Fatalf("first page: %d members, after %v; want 1 and a cursor", len(first.Data), first.ListMetadata.After)
		}
		last := decode[listJSON[memberJSON]](t, oc.do(t, e, exchange{name: "next page",
			path: members + "?limit=100&after=" + *first.ListMetadata.After, headers: admin, status: http.StatusOK}))
		if last.ListMetadata.After != nil {
			t.Errorf("last page has after = %q, want null", *last.ListMetadata.After)
		}
		oc.run(t, e, []exchange{
			{name: "list", path: members, headers: admin, status: http.StatusOK},
			{name: "paid", path: members + "?tier=paid", headers: svc, status: http.StatusOK},
			{name: "free", path: members + "?tier=free", headers: admin, status: http.StatusOK},
			{name: "bad tier", path: members + "?tier=gold", headers: admin, invalid: true,
				status: http.StatusBadRequest, code: "invalid_tier"},
			{name: "limit 0", path: members + "?limit=0", headers: admin, invalid: true,
				status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "limit 101", path: members + "?limit=101", headers: admin, invalid: true,
				status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "bad cursor", path: members + "?after=!!!", headers: admin, status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "list, no token", path: members, headers: none, invalid: true, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "list, another plan's admin", path: members, headers: other, status: http.StatusNotFound, code: "plan_not_found"},

			{name: "remove", method: http.MethodDelete, path: members + "/yan@acme.test", headers: admin, status: http.StatusNoContent},
			{name: "remove, escaped", method: http.MethodDelete, path: members + "/ZED%40acme.test", headers: svc,
				status: http.StatusNoContent},
			{name: "remove again", method: http.MethodDelete, path: members + "/yan@acme.test", headers: admin,
				status: http.StatusNotFound, code: "member_not_found"},
			{name: "remove, bad email", method: http.MethodDelete, path: members + "/nobody", headers: admin,
				status: http.StatusBadRequest, code: "invalid_email"},
			{name: "remove, no token", method: http.MethodDelete, path: members + "/yan@acme.test", headers: none, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "remove, another plan's admin", method: http.MethodDelete, path: members + "/yan@acme.test", headers: other,
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "add back", method: http.MethodPost, path: members, headers: admin, body: `{"email":"zed@acme.test","name":"Zed"}`,
				status: http.StatusCreated},
		})
	})

	t.Run("audit", func(t *testing.T) {
		first := decode[listJSON[auditJSON]](t, oc.do(t, e, exchange{name: "first page", path: audit + "?limit=1",
			headers: admin, status: http.StatusOK}))
		if first.ListMetadata.After == nil || len(first.Data) != 1 {
			t.Fatalf("first page: %d entries, after %v; want 1 and a cursor", len(first.Data), first.ListMetadata.After)
		}
		oc.run(t, e, []exchange{
			{name: "next page", path: audit + "?limit=100&after=" + *first.ListMetadata.After, headers: admin, status: http.StatusOK},
			{name: "default page", path: audit, headers: svc, status: http.StatusOK},
			{name: "limit 101", path: audit + "?limit=101", headers: admin, invalid: true, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "bad cursor", path: audit + "?after=!!!", headers: admin, status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "cursor of another list", path: audit + "?after=" + base64.RawURLEncoding.EncodeToString([]byte("zed@acme.test")), headers: admin,
				status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "no token", path: audit, headers: none, invalid: true, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "another plan's admin", path: audit, headers: other, status: http.StatusNotFound, code: "plan_not_found"},
		})
	})

	t.Run("reconcile", func(t *testing.T) {
		oc.run(t, e, []exchange{
			{name: "no WorkOS organization", method: http.MethodPost, path: reconcilePath(otherPlan), headers: other,
				status: http.StatusBadRequest, code: "scim_not_configured"},
			{name: "no directory", method: http.MethodPost, path: reconcilePath(nodirPlan), headers: svc,
				status: http.StatusBadRequest, code: "no_directory"},
			{name: "no token", method: http.MethodPost, path: reconcilePath(planID), headers: none, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "another plan's admin", method: http.MethodPost, path: reconcilePath(planID), headers: other,
				status: http.StatusNotFound, code: "plan_not_found"},
		})
		fake.FailNext(http.MethodGet, "/directories", 1, http.StatusInternalServerError, "")
		oc.do(t, e, exchange{name: "WorkOS down", method: http.MethodPost, path: reconcilePath(planID), headers: admin,
			status: http.StatusBadGateway, code: "workos_unavailable"})

		if ok, err := st.TryLease(t.Context(), lease, "another-replica", time.Minute); err != nil || !ok {
			t.Fatalf("TryLease = %v, %v", ok, err)
		}
		oc.do(t, e, exchange{name: "already running", method: http.MethodPost, path: reconcilePath(planID), headers: admin,
			status: http.StatusConflict, code: "reconcile_running"})
		if err := st.ReleaseLease(t.Context(), lease, "another-replica"); err != nil {
			t.Fatal(err)
		}

		s := reconcileAndWait(t)
		if s.Reconciliation.State != "complete" || s.Reconciliation.Listed != 3 || s.Mode != "test" ||
			s.Directory == nil || s.Directory.ID != dir.ID {
			t.Fatalf("after the reconciliation: mode %s, directory %+v, reconciliation %+v; want test, %s, complete with 3 listed",
				s.Mode, s.Directory, s.Reconciliation, dir.ID)
		}

		// In test mode the directory manages the seats.
		oc.run(t, e, []exchange{
			{name: "add in test mode", method: http.MethodPost, path: members, headers: admin, body: `{"email":"dan@acme.test"}`,
				status: http.StatusConflict, code: "idp_managed"},
			{name: "remove in test mode", method: http.MethodDelete, path: members + "/zed@acme.test", headers: admin,
				status: http.StatusConflict, code: "idp_managed"},
			{name: "directory members", path: members + "?tier=paid&limit=100", headers: admin, status: http.StatusOK},
			{name: "directory audit", path: audit + "?limit=100", headers: admin, status: http.StatusOK},
		})
	})

	t.Run("held changes", func(t *testing.T) {
		// The directory drops everyone: the guard holds the revocations.
		for _, u := range dirUsers {
			fake.DeleteUser(u.ID)
		}
		s := reconcileAndWait(t)
		if len(s.HeldChanges) != 1 || s.HeldChanges[0].State != "held" || s.HeldChanges[0].Size == 0 {
			t.Fatalf("held changes = %+v, want one", s.HeldChanges)
		}
		decide := func(id int64, verb string) string {
			return plan(planID) + "/held-changes/" + strconv.FormatInt(id, 10) + "/" + verb
		}
		first := s.HeldChanges[0].ID
		oc.run(t, e, []exchange{
			{name: "no token", method: http.MethodPost, path: decide(first, "reject"), headers: none, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "another plan's admin", method: http.MethodPost, path: decide(first, "reject"), headers: other,
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "unknown change", method: http.MethodPost, path: decide(first+100, "reject"), headers: admin,
				status: http.StatusNotFound, code: "held_change_not_found"},
			{name: "not an id", method: http.MethodPost, path: plan(planID) + "/held-changes/x/approve", headers: admin,
				invalid: true, status: http.StatusNotFound, code: "held_change_not_found"},
			{name: "unknown change, approve", method: http.MethodPost, path: decide(first+100, "approve"), headers: admin,
				status: http.StatusNotFound, code: "held_change_not_found"},
			{name: "another plan's admin, approve", method: http.MethodPost, path: decide(first, "approve"), headers: other,
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "no token, approve", method: http.MethodPost, path: decide(first, "approve"), headers: none, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "reject", method: http.MethodPost, path: decide(first, "reject"), headers: admin, status: http.StatusOK},
			{name: "reject again", method: http.MethodPost, path: decide(first, "reject"), headers: admin,
				status: http.StatusConflict, code: "already_decided"},
			{name: "approve the rejected", method: http.MethodPost, path: decide(first, "approve"), headers: svc,
				status: http.StatusConflict, code: "already_decided"},
		})

		// Someone joins and leaves: held again; approving frees the seats.
		dave := fake.AddUsers(dir.ID, workostest.User{Email: "dave@acme.test", FirstName: "Dave", LastName: "Acme"})
		reconcileAndWait(t)
		fake.DeleteUser(dave[0].ID)
		s = reconcileAndWait(t)
		if len(s.HeldChanges) != 1 || s.HeldChanges[0].ID == first {
			t.Fatalf("held changes = %+v, want one new one", s.HeldChanges)
		}
		oc.do(t, e, exchange{name: "approve", method: http.MethodPost, path: decide(s.HeldChanges[0].ID, "approve"),
			headers: admin, status: http.StatusOK})
		s = decode[planState](t, oc.do(t, e, exchange{name: "after approval", path: plan(planID), headers: admin,
			status: http.StatusOK}))
		if len(s.HeldChanges) != 0 {
			t.Errorf("held changes after approval = %+v, want none", s.HeldChanges)
		}
		oc.do(t, e, exchange{name: "guard audit", path: audit + "?limit=100", headers: admin, status: http.StatusOK})
	})

	t.Run("events", func(t *testing.T) {
		// An event whose directory no plan knows, without organization_id, fails.
		failedID, body := orphanUserEvent("directory_user_orphan", "olga@acme.test")
		deliver(t, e, body, webhooks.StatusAccepted)
		_, body = orphanUserEvent("directory_user_orphan2", "oleg@acme.test")
		deliver(t, e, body, webhooks.StatusAccepted)
		if err := app.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		events, retry := "/api/v1/events", "/api/v1/events/retry"
		first := decode[listJSON[json.RawMessage]](t, oc.do(t, e, exchange{name: "all, first page", path: events + "?limit=1",
			headers: svc, status: http.StatusOK}))
		if first.ListMetadata.After == nil {
			t.Fatalf("no cursor after the first of %d events", len(first.Data))
		}
		oc.run(t, e, []exchange{
			{name: "next page", path: events + "?after=" + *first.ListMetadata.After, headers: svc, status: http.StatusOK},
			{name: "failed", path: events + "?outcome=failed&limit=100", headers: svc, status: http.StatusOK},
			{name: "unknown outcome", path: events + "?outcome=lost", headers: svc, invalid: true,
				status: http.StatusBadRequest, code: "invalid_outcome"},
			{name: "bad limit", path: events + "?limit=0", headers: svc, invalid: true, status: http.StatusBadRequest, code: "invalid_limit"},
			{name: "bad cursor", path: events + "?after=bm9wZQ", headers: svc, status: http.StatusBadRequest, code: "invalid_cursor"},
			{name: "no token", path: events, headers: none, invalid: true, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "admin token", path: events, headers: admin, status: http.StatusForbidden, code: "forbidden"},

			{name: "retry", method: http.MethodPost, path: retry, headers: svc, body: `{"event_ids":["` + failedID + `"]}`,
				status: http.StatusOK},
			{name: "retry again: skipped", method: http.MethodPost, path: retry, headers: svc,
				body: `{"event_ids":["` + failedID + `"]}`, status: http.StatusOK},
			{name: "retry an outcome", method: http.MethodPost, path: retry, headers: svc, body: `{"outcome":"unmatched"}`,
				status: http.StatusOK},
			{name: "neither ids nor outcome", method: http.MethodPost, path: retry, headers: svc, body: `{}`, invalid: true,
				status: http.StatusBadRequest, code: "invalid_selection"},
			{name: "stale is final", method: http.MethodPost, path: retry, headers: svc, body: `{"outcome":"stale"}`, invalid: true,
				status: http.StatusBadRequest, code: "invalid_outcome"},
			{name: "bad event id", method: http.MethodPost, path: retry, headers: svc, body: `{"event_ids":["a b"]}`, invalid: true,
				status: http.StatusBadRequest, code: "invalid_event_id"},
			{name: "unknown event", method: http.MethodPost, path: retry, headers: svc, body: `{"event_ids":["event_nope"]}`,
				status: http.StatusNotFound, code: "event_not_found"},
			{name: "body over 64 KiB", method: http.MethodPost, path: retry, headers: svc, body: padded(`{"outcome":"failed"}`),
				status: http.StatusRequestEntityTooLarge, code: "body_too_large"},
			{name: "retry, no token", method: http.MethodPost, path: retry, headers: none, body: `{"outcome":"failed"}`,
				invalid: true, status: http.StatusUnauthorized, code: "missing_token"},
			{name: "retry, admin token", method: http.MethodPost, path: retry, headers: admin, body: `{"outcome":"failed"}`,
				status: http.StatusForbidden, code: "forbidden"},
		})
	})

	t.Run("portal link", func(t *testing.T) {
		link := func(id string) string { return plan(id) + "/scim/portal-link" }
		oc.run(t, e, []exchange{
			{name: "creates the WorkOS organization", method: http.MethodPost, path: link(otherPlan), headers: other,
				status: http.StatusOK},
			{name: "linked plan", method: http.MethodPost, path: link(planID), headers: admin, status: http.StatusOK},
			{name: "no token", method: http.MethodPost, path: link(planID), headers: none, invalid: true,
				status: http.StatusUnauthorized, code: "missing_token"},
			{name: "another plan's admin", method: http.MethodPost, path: link(planID), headers: other,
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "WorkOS organization of another plan", method: http.MethodPost, path: link(thirdPlan), headers: admin,
				status: http.StatusConflict, code: "workos_organization_in_use"},
		})
		fake.FailNext(http.MethodPost, "/portal/generate_link", 1, http.StatusUnprocessableEntity, "")
		oc.do(t, e, exchange{name: "WorkOS refuses", method: http.MethodPost, path: link(planID), headers: admin,
			status: http.StatusBadGateway, code: "workos_invalid_request"})

		d := deps
		d.WorkOS, d.Reconciler = nil, nil
		unconfigured := server.New(d)
		oc.run(t, unconfigured, []exchange{
			{name: "no WorkOS", method: http.MethodPost, path: link(planID), headers: admin,
				status: http.StatusServiceUnavailable, code: "workos_not_configured"},
			{name: "no WorkOS, reconcile", method: http.MethodPost, path: reconcilePath(planID), headers: admin,
				status: http.StatusServiceUnavailable, code: "workos_not_configured"},
		})
	})

	// everyOperation is one valid request per authenticated operation.
	everyOperation := func() []exchange {
		return []exchange{
			{method: http.MethodPut, path: "/api/v1/organizations/" + orgID, headers: svc, body: `{"name":"Acme"}`},
			{method: http.MethodPut, path: plan(planID), headers: svc, body: `{"organization_id":"acme","name":"Team"}`},
			{path: plan(planID), headers: admin},
			{path: members, headers: admin},
			{method: http.MethodPost, path: members, headers: admin, body: `{"email":"dan@acme.test"}`},
			{method: http.MethodDelete, path: members + "/zed@acme.test", headers: admin},
			{path: audit, headers: admin},
			{method: http.MethodPost, path: reconcilePath(planID), headers: admin},
			{method: http.MethodPost, path: plan(planID) + "/scim/portal-link", headers: admin},
			{method: http.MethodPost, path: plan(planID) + "/held-changes/1/approve", headers: admin},
			{method: http.MethodPost, path: plan(planID) + "/held-changes/1/reject", headers: admin},
			{path: "/api/v1/events", headers: svc},
			{method: http.MethodPost, path: "/api/v1/events/retry", headers: svc, body: `{"outcome":"failed"}`},
		}
	}
	withStatus := func(xs []exchange, name, code string, status int) []exchange {
		for i := range xs {
			xs[i].name, xs[i].code, xs[i].status = name, code, status
		}
		return xs
	}

	t.Run("rate limit", func(t *testing.T) {
		d := deps
		d.APIRate, d.APIBurst = 0.001, 1 // one request, then none for 1000 s
		limited := server.New(d)
		// The limit is per token subject and comes before the service-only
		// and plan checks: the first request spends the burst, then every
		// operation is refused.
		tok := asAdmin(t, "busy@acme.test")
		oc.do(t, limited, exchange{name: "first request", path: plan(planID), headers: tok,
			status: http.StatusNotFound, code: "plan_not_found"})
		xs := withStatus(everyOperation(), "rate limited", "rate_limited", http.StatusTooManyRequests)
		for i := range xs {
			xs[i].headers = tok
		}
		oc.run(t, limited, xs)
	})

	t.Run("no token verification", func(t *testing.T) {
		d := deps
		d.Auth = nil
		oc.run(t, server.New(d), withStatus(everyOperation(), "auth not configured", "auth_not_configured",
			http.StatusServiceUnavailable))
	})

	// Last: a database whose tables are gone makes every operation fail
	// with 500 internal.
	t.Run("broken database", func(t *testing.T) {
		db, err := sql.Open("sqlite", opts.Path+"?_pragma=busy_timeout(10000)")
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, table := range []string{"plans", "organizations", "inbox_events"} {
			if _, err := db.ExecContext(t.Context(), "DROP TABLE "+table); err != nil {
				t.Fatalf("drop %s: %v", table, err)
			}
		}
		oc.run(t, e, withStatus(everyOperation(), "broken database", "internal", http.StatusInternalServerError))
	})

	oc.checkExercised(t)
}
