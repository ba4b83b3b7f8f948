package server_test

import (
	"net/http"
	"testing"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestRoutingAndHealth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		svc := asService(t)
		run(t, ts.e, []scenario{
			{name: "healthz", path: "/healthz", status: http.StatusOK, contains: []string{`{"status":"ok"}`}},
			{name: "readyz", path: "/readyz", status: http.StatusOK, contains: []string{`{"status":"ready"}`}},
			{name: "request id", path: "/healthz", status: http.StatusOK, respHeaders: map[string]string{"X-Request-Id": ""}},

			{name: "unknown route", path: "/nope", status: http.StatusNotFound, code: "not_found"},
			{name: "unknown route, HEAD", method: http.MethodHead, path: "/nope", status: http.StatusNotFound},
			{name: "unknown API route without token", path: "/api/v1/nope", status: http.StatusNotFound, code: "not_found"},
			{name: "unknown API route", path: "/api/v1/nope", headers: svc, status: http.StatusNotFound, code: "not_found"},
			{name: "unknown plan sub-route", path: "/api/v1/plans/" + planID + "/seats", headers: svc, status: http.StatusNotFound,
				code: "not_found"},

			{name: "POST /healthz", method: http.MethodPost, path: "/healthz", status: http.StatusMethodNotAllowed,
				code: "method_not_allowed", respHeaders: map[string]string{"Allow": ""}},
			{name: "GET webhook", path: "/webhooks/workos", status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
			{name: "DELETE plan", method: http.MethodDelete, path: "/api/v1/plans/" + planID, headers: svc,
				status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
			{name: "PATCH organization", method: http.MethodPatch, path: "/api/v1/organizations/" + orgID, headers: svc,
				body: `{"name":"x"}`, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
		})
	})
}

// TestReadyzNotMigrated: a database without the schema is not ready.
func TestReadyzNotMigrated(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		st, err := store.Open(t.Context(), storetest.Options(t, dialect))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		ts := newServer(t, st, auth.Options{})
		scenario{path: "/readyz", status: http.StatusServiceUnavailable, code: "migrations_pending",
			respHeaders: map[string]string{"Retry-After": ""}}.do(t, ts.e)
		scenario{path: "/healthz", status: http.StatusOK}.do(t, ts.e)

		if err := st.Migrate(t.Context()); err != nil {
			t.Fatal(err)
		}
		scenario{path: "/readyz", status: http.StatusOK}.do(t, ts.e)
	})
}

// TestUnconfigured: without a webhook secret or token verification, the
// routes answer 503 with a code that names the missing setting.
func TestUnconfigured(t *testing.T) {
	t.Parallel()
	e := server.New(server.Deps{Store: storetest.Open(t, "sqlite")})
	run(t, e, []scenario{
		{name: "webhook", method: http.MethodPost, path: "/webhooks/workos", body: `{}`, status: http.StatusServiceUnavailable,
			code: "webhooks_not_configured", respHeaders: map[string]string{"Retry-After": ""}},
		{name: "API", path: "/api/v1/plans/" + planID, status: http.StatusServiceUnavailable, code: "auth_not_configured"},
		{name: "healthz", path: "/healthz", status: http.StatusOK},
	})
}
