package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/webhooks"
)

const (
	jwtSecret  = "seatsync-test-jwt-secret-0123456789abcdef"
	hookSecret = "whsec_seatsync_test_0123456789abcdef"
	maxBody    = 4096

	orgID      = "acme"
	planID     = "plan_acme"
	otherPlan  = "plan_other"
	workosOrg  = "org_ACME"
	dirID      = "directory_ACME"
	adminEmail = "admin@acme.test"
	otherAdmin = "other@acme.test"
)

var (
	rules = store.Rules{TestModeLimit: 10, CutoverGrace: 10 * time.Minute, OnDirectoryDeleted: "keep"}
	t0    = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
)

// testServer is the real Echo of server.New over a real store.
type testServer struct {
	st  *store.Store
	app *applier.Applier
	e   *echo.Echo
}

// newServer builds the server over st. ao.HS256Secret defaults to jwtSecret.
func newServer(t *testing.T, st *store.Store, ao auth.Options) *testServer {
	t.Helper()
	if ao.HS256Secret == "" {
		ao.HS256Secret = jwtSecret
	}
	av, err := auth.NewVerifier(t.Context(), ao)
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	hv, err := webhooks.NewVerifier([]string{hookSecret}, 0, nil)
	if err != nil {
		t.Fatalf("webhooks.NewVerifier: %v", err)
	}
	app := applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour})
	e := server.New(server.Deps{
		Store:    st,
		Applier:  app,
		Webhooks: webhooks.NewHandler(hv, st, maxBody, nil),
		Auth:     av,
		Rules:    rules,
	})
	return &testServer{st: st, app: app, e: e}
}

// drain applies every pending inbox event.
func (ts *testServer) drain(t *testing.T) {
	t.Helper()
	if err := ts.app.Drain(t.Context()); err != nil {
		t.Fatalf("Drain: %v", err)
	}
}

// scenario is one HTTP exchange and what its answer must contain, after
// pocketbase's ApiScenario.
type scenario struct {
	name    string
	method  string
	path    string
	headers map[string]string
	body    string
	// prepare adjusts the request after it is built (Content-Length, body reader…).
	prepare func(r *http.Request)

	status int
	// code is the error code expected for status ≥ 400; the error shape is
	// checked for every status ≥ 400 in any case.
	code     string
	contains []string
	excludes []string
	// respHeaders must be present in the response with these values ("" = any non-empty value).
	respHeaders map[string]string
}

// do sends the scenario's request to h and checks the answer.
func (sc scenario) do(t *testing.T, h http.Handler) *httptest.ResponseRecorder {
	t.Helper()
	method := sc.method
	if method == "" {
		method = http.MethodGet
	}
	var body io.Reader
	if sc.body != "" {
		body = strings.NewReader(sc.body)
	}
	req := httptest.NewRequestWithContext(t.Context(), method, sc.path, body)
	if sc.body != "" {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for k, v := range sc.headers {
		req.Header.Set(k, v)
	}
	if sc.prepare != nil {
		sc.prepare(req)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	got := rec.Body.String()
	if rec.Code != sc.status {
		t.Fatalf("%s %s: status = %d, want %d; body: %s", method, sc.path, rec.Code, sc.status, got)
	}
	if rec.Code >= 400 && method != http.MethodHead {
		if c := errorCode(t, rec); sc.code != "" && c != sc.code {
			t.Errorf("%s %s: error code = %q, want %q; body: %s", method, sc.path, c, sc.code, got)
		}
	}
	for _, want := range sc.contains {
		if !strings.Contains(got, want) {
			t.Errorf("%s %s: body does not contain %q; body: %s", method, sc.path, want, got)
		}
	}
	for _, bad := range sc.excludes {
		if bad != "" && strings.Contains(got, bad) {
			t.Errorf("%s %s: body contains %q, which it must not; body: %s", method, sc.path, bad, got)
		}
	}
	for k, want := range sc.respHeaders {
		v := rec.Header().Get(k)
		if v == "" || (want != "" && v != want) {
			t.Errorf("%s %s: header %s = %q, want %q", method, sc.path, k, v, want)
		}
	}
	return rec
}

// run runs the scenarios in order, as subtests: later ones may rely on earlier ones.
func run(t *testing.T, h http.Handler, scs []scenario) {
	t.Helper()
	for _, sc := range scs {
		t.Run(sc.name, func(t *testing.T) { sc.do(t, h) })
	}
}

// errorCode checks that an error answer is exactly {"error":{"code":…,"message":…}}
// with a non-empty code and message, and returns the code.
func errorCode(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Errorf("error Content-Type = %q, want JSON", ct)
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &outer); err != nil {
		t.Fatalf("error body is not a JSON object: %v; body: %s", err, rec.Body)
	}
	if len(outer) != 1 || outer["error"] == nil {
		t.Fatalf(`error body must have the one key "error"; body: %s`, rec.Body)
	}
	var inner map[string]any
	if err := json.Unmarshal(outer["error"], &inner); err != nil {
		t.Fatalf("error is not an object: %v; body: %s", err, rec.Body)
	}
	code, _ := inner["code"].(string)
	msg, _ := inner["message"].(string)
	if len(inner) != 2 || code == "" || msg == "" {
		t.Fatalf("error must be {code, message}, both non-empty strings; body: %s", rec.Body)
	}
	return code
}

// decode unmarshals a response body.
func decode[T any](t *testing.T, rec *httptest.ResponseRecorder) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("decode %T: %v; body: %s", v, err, rec.Body)
	}
	return v
}

// token mints an HS256 token with the test secret.
func token(t *testing.T, email string, service bool) string {
	t.Helper()
	tok, err := auth.Mint(jwtSecret, auth.Principal{Email: email, Service: service}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

func bearer(tok string) map[string]string { return map[string]string{"Authorization": "Bearer " + tok} }

// asService and asAdmin return Authorization headers.
func asService(t *testing.T) map[string]string {
	return bearer(token(t, "billing@seatsync.test", true))
}
func asAdmin(t *testing.T, email string) map[string]string {
	return bearer(token(t, email, false))
}

// signature returns a WorkOS-Signature header value for body, signed with secret at at.
func signature(body, secret string, at time.Time) string {
	ts := fmt.Sprint(at.UnixMilli())
	return "t=" + ts + ", v1=" + mac(body, secret, ts)
}

// mac is the hex HMAC-SHA256 of "<t>.<body>".
func mac(body, secret, ts string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "." + body))
	return hex.EncodeToString(m.Sum(nil))
}

// signed returns the headers of a genuine delivery of body.
func signed(body string) map[string]string {
	return map[string]string{webhooks.SignatureHeader: signature(body, hookSecret, time.Now())}
}

// eventBody is a WorkOS event envelope.
func eventBody(id, typ string, data map[string]any) string {
	b, err := json.Marshal(map[string]any{"object": "event", "id": id, "event": typ, "data": data,
		"created_at": t0.Format(time.RFC3339Nano)})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// userEvent is a dsync.user.created event of the test directory; v orders a user's changes.
func userEvent(uid, email string, v int) (id, body string) {
	at := t0.Add(time.Duration(v) * time.Minute)
	id = fmt.Sprintf("event_%s_%d", uid, v)
	body = eventBody(id, "dsync.user.created", map[string]any{"object": "directory_user", "id": uid,
		"directory_id": dirID, "organization_id": workosOrg, "email": email, "first_name": "F" + uid, "last_name": "L",
		"state": "active", "created_at": t0.Format(time.RFC3339Nano), "updated_at": at.Format(time.RFC3339Nano)})
	return id, body
}

// deliver posts a signed webhook and wants 200 with the given receipt status.
func deliver(t *testing.T, h http.Handler, body, want string) {
	t.Helper()
	scenario{method: http.MethodPost, path: "/webhooks/workos", headers: signed(body), body: body,
		status: http.StatusOK, contains: []string{`{"status":"` + want + `"}`}}.do(t, h)
}

// seed creates, through the API, the organization acme (domain acme.test) with
// plan_acme (admin admin@acme.test, WorkOS organization org_ACME) and plan_other
// (admin other@acme.test).
func seed(t *testing.T, h http.Handler) {
	t.Helper()
	svc := asService(t)
	scenario{method: http.MethodPut, path: "/api/v1/organizations/" + orgID, headers: svc,
		body: `{"name":"Acme","domains":["acme.test"]}`, status: http.StatusOK}.do(t, h)
	scenario{method: http.MethodPut, path: "/api/v1/plans/" + planID, headers: svc,
		body:   `{"organization_id":"acme","name":"Team","admins":["admin@acme.test"],"workos_organization_id":"org_ACME"}`,
		status: http.StatusCreated}.do(t, h)
	scenario{method: http.MethodPut, path: "/api/v1/plans/" + otherPlan, headers: svc,
		body: `{"organization_id":"acme","name":"Other","admins":["other@acme.test"]}`, status: http.StatusCreated}.do(t, h)
}

// merge returns the union of header maps.
func merge(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// chunked makes the request body of unknown length, as a chunked upload.
func chunked(r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(b)))
	r.ContentLength = -1
	r.Header.Del("Content-Length")
}
