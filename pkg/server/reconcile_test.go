package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store/storetest"
)

type reconcileStatus struct {
	Seats struct {
		Paid int `json:"paid"`
	} `json:"seats"`
	Reconciliation *struct {
		State      string     `json:"state"`
		StartedAt  time.Time  `json:"started_at"`
		FinishedAt *time.Time `json:"finished_at"`
		Listed     int        `json:"listed"`
		Changed    int        `json:"changed"`
		Gone       int        `json:"gone"`
		Requests   int        `json:"requests"`
		Error      string     `json:"error"`
	} `json:"reconciliation"`
}

func TestReconcileAPI(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		fake := workostest.New(t)
		dir := fake.AddDirectory(workosOrg, workostest.Directory{})
		for i := range 30 {
			fake.AddUsers(dir.ID, workostest.User{Email: fmt.Sprintf("user%d@acme.test", i)})
		}
		wos, err := workosapi.New(workosapi.Options{APIKey: fake.APIKey, Endpoint: fake.URL})
		if err != nil {
			t.Fatal(err)
		}
		av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: jwtSecret})
		if err != nil {
			t.Fatal(err)
		}
		app := applier.New(st, applier.Options{Rules: rules, UnmatchedAfter: time.Hour})
		rec := reconcile.New(st, app, wos, reconcile.Options{Holder: "replica-a"})
		e := server.New(server.Deps{Store: st, Applier: app, Auth: av, Rules: rules, WorkOS: wos, Reconciler: rec})
		seed(t, e)
		admin, svc := asAdmin(t, adminEmail), asService(t)
		path := "/api/v1/plans/" + planID + "/directory/reconcile"

		run(t, e, []scenario{
			{name: "never reconciled", path: "/api/v1/plans/" + planID, headers: admin, status: http.StatusOK,
				contains: []string{`"reconciliation":null`}},
			{name: "another plan's admin", method: http.MethodPost, path: path, headers: asAdmin(t, otherAdmin),
				status: http.StatusNotFound, code: "plan_not_found"},
			{name: "plan without WorkOS organization", method: http.MethodPost,
				path: "/api/v1/plans/" + otherPlan + "/directory/reconcile", headers: svc, status: http.StatusBadRequest,
				code: "scim_not_configured", contains: []string{"configure SCIM first"}},
		})
		// Another replica is reconciling the directory.
		if ok, err := st.TryLease(t.Context(), "reconcile:"+dir.ID, "replica-b", time.Minute); !ok || err != nil {
			t.Fatalf("TryLease = %v, %v", ok, err)
		}
		scenario{method: http.MethodPost, path: path, headers: admin, status: http.StatusConflict, code: "reconcile_running"}.do(t, e)
		if err := st.ReleaseLease(t.Context(), "reconcile:"+dir.ID, "replica-b"); err != nil {
			t.Fatal(err)
		}

		scenario{method: http.MethodPost, path: path, headers: admin, status: http.StatusAccepted,
			contains: []string{`{"status":"started"}`}}.do(t, e)
		deadline := time.Now().Add(2 * time.Minute)
		var got reconcileStatus
		for {
			got = decode[reconcileStatus](t, scenario{path: "/api/v1/plans/" + planID, headers: admin, status: http.StatusOK}.do(t, e))
			if r := got.Reconciliation; r != nil && r.State != "running" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reconciliation still running after two minutes: %+v", got.Reconciliation)
			}
			time.Sleep(20 * time.Millisecond)
		}
		r := got.Reconciliation
		if r.State != "complete" || r.Listed != 30 || r.Changed != 30 || r.Gone != 0 || r.Requests != 1 ||
			r.FinishedAt == nil || r.FinishedAt.Before(r.StartedAt) || r.Error != "" {
			t.Errorf("reconciliation = %+v, want complete with 30 listed and changed in 1 request", r)
		}
		if got.Seats.Paid != 30 {
			t.Errorf("paid seats = %d, want 30", got.Seats.Paid)
		}
	})
}

func TestReconcileAPINotConfigured(t *testing.T) {
	t.Parallel()
	ts := newServer(t, storetest.Open(t, "sqlite"), auth.Options{})
	seed(t, ts.e)
	scenario{method: http.MethodPost, path: "/api/v1/plans/" + planID + "/directory/reconcile", headers: asService(t),
		status: http.StatusServiceUnavailable, code: "workos_not_configured"}.do(t, ts.e)
}
