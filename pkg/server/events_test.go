package server_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

type eventsPage struct {
	Object string `json:"object"`
	Data   []struct {
		ID          string    `json:"id"`
		Event       string    `json:"event"`
		ReceivedAt  time.Time `json:"received_at"`
		Status      string    `json:"status"`
		Reason      string    `json:"reason"`
		Attempts    int       `json:"attempts"`
		LastError   string    `json:"last_error"`
		PlanID      string    `json:"plan_id"`
		DirectoryID string    `json:"directory_id"`
	} `json:"data"`
	ListMetadata struct {
		After *string `json:"after"`
	} `json:"list_metadata"`
}

type retried struct {
	Retried int `json:"retried"`
	Skipped int `json:"skipped"`
}

// orphanUserEvent is a dsync.user.created of the test directory without an
// organization_id: while the directory is unknown it cannot be linked to a
// plan, so it fails (and is parked at once, as a payload problem).
func orphanUserEvent(uid, email string) (id, body string) {
	id = "event_orphan_" + uid
	body = eventBody(id, "dsync.user.created", map[string]any{"object": "directory_user", "id": uid,
		"directory_id": dirID, "email": email, "first_name": "F", "last_name": "L", "state": "active",
		"created_at": t0.Format(time.RFC3339Nano), "updated_at": t0.Format(time.RFC3339Nano)})
	return id, body
}

// TestEventsRepair parks an event as failed, fixes its cause (another event
// links its directory), retries it through the API, and checks that it is
// applied exactly once however often it is retried.
func TestEventsRepair(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		svc := asService(t)
		failedID, body := orphanUserEvent("directory_user_orphan", "olga@acme.test")
		deliver(t, ts.e, body, webhooks.StatusAccepted)
		ts.drain(t)

		page := decode[eventsPage](t, scenario{path: "/api/v1/events?outcome=failed", headers: svc, status: http.StatusOK,
			contains: []string{`"object":"list"`}}.do(t, ts.e))
		if len(page.Data) != 1 || page.ListMetadata.After != nil {
			t.Fatalf("failed events = %+v, want one, no next page", page)
		}
		if e := page.Data[0]; e.ID != failedID || e.Event != "dsync.user.created" || e.Status != "failed" || e.Attempts != 1 ||
			!strings.Contains(e.LastError, "names no organization_id") || e.ReceivedAt.IsZero() {
			t.Fatalf("failed event = %+v", e)
		}

		// The fix: an event with the organization id links the directory to plan_acme.
		_, linking := userEvent("directory_user_link", "lin@acme.test", 1)
		deliver(t, ts.e, linking, webhooks.StatusAccepted)
		ts.drain(t)

		retry := func(body string, want retried) {
			t.Helper()
			got := decode[retried](t, scenario{method: http.MethodPost, path: "/api/v1/events/retry", headers: svc, body: body,
				status: http.StatusOK}.do(t, ts.e))
			if got != want {
				t.Fatalf("retry %s = %+v, want %+v", body, got, want)
			}
		}
		retry(`{"event_ids":["`+failedID+`"]}`, retried{Retried: 1})
		retry(`{"event_ids":["`+failedID+`"]}`, retried{Skipped: 1}) // already pending: nothing changes
		page = decode[eventsPage](t, scenario{path: "/api/v1/events?outcome=pending", headers: svc, status: http.StatusOK}.do(t, ts.e))
		if len(page.Data) != 1 || page.Data[0].Attempts != 0 || page.Data[0].Reason != "retried by service:billing@seatsync.test" {
			t.Fatalf("pending after retry = %+v, want the event, attempts reset, reason naming the actor", page.Data)
		}
		ts.drain(t)
		retry(`{"event_ids":["`+failedID+`"]}`, retried{Skipped: 1}) // applied: skipped
		retry(`{"outcome":"failed"}`, retried{})
		ts.drain(t)

		page = decode[eventsPage](t, scenario{path: "/api/v1/events?outcome=applied&limit=100", headers: svc, status: http.StatusOK}.do(t, ts.e))
		var applied bool
		for _, e := range page.Data {
			applied = applied || (e.ID == failedID && e.PlanID == planID && e.DirectoryID == dirID)
		}
		if !applied {
			t.Fatalf("applied events = %+v, want %s among them, on %s", page.Data, failedID, planID)
		}
		audit := scenario{path: "/api/v1/plans/" + planID + "/audit?limit=100", headers: svc, status: http.StatusOK}.do(t, ts.e)
		if n := strings.Count(audit.Body.String(), `"event_id":"`+failedID+`"`); n != 1 {
			t.Fatalf("audit entries of %s = %d, want exactly 1 (the grant); audit: %s", failedID, n, audit.Body)
		}
		scenario{path: "/api/v1/plans/" + planID + "/members?tier=paid&limit=100", headers: svc, status: http.StatusOK,
			contains: []string{`"email":"olga@acme.test"`}}.do(t, ts.e)
	})
}

// TestEventsAPI covers access, validation and pagination of the two routes.
func TestEventsAPI(t *testing.T) {
	t.Parallel()
	ts := newServer(t, storetest.Open(t, "sqlite"), auth.Options{})
	seed(t, ts.e)
	svc := asService(t)
	for i := range 3 {
		_, body := userEvent("directory_user_p"+string(rune('a'+i)), "p"+string(rune('a'+i))+"@acme.test", 1)
		deliver(t, ts.e, body, webhooks.StatusAccepted)
	}
	run(t, ts.e, []scenario{
		{name: "admin may not list", path: "/api/v1/events", headers: asAdmin(t, adminEmail), status: http.StatusForbidden, code: "forbidden"},
		{name: "admin may not retry", method: http.MethodPost, path: "/api/v1/events/retry", headers: asAdmin(t, adminEmail),
			body: `{"outcome":"failed"}`, status: http.StatusForbidden, code: "forbidden"},
		{name: "no token", path: "/api/v1/events", status: http.StatusUnauthorized, code: "missing_token"},
		{name: "unknown outcome", path: "/api/v1/events?outcome=lost", headers: svc, status: http.StatusBadRequest, code: "invalid_outcome"},
		{name: "bad limit", path: "/api/v1/events?limit=0", headers: svc, status: http.StatusBadRequest, code: "invalid_limit"},
		{name: "bad cursor", path: "/api/v1/events?after=bm9wZQ", headers: svc, status: http.StatusBadRequest, code: "invalid_cursor"},
		{name: "all pending", path: "/api/v1/events?outcome=pending", headers: svc, status: http.StatusOK,
			contains: []string{`"status":"pending"`, `"event":"dsync.user.created"`}, excludes: []string{`"payload"`}},

		{name: "neither ids nor outcome", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc, body: `{}`,
			status: http.StatusBadRequest, code: "invalid_selection"},
		{name: "both ids and outcome", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc,
			body: `{"event_ids":["event_x"],"outcome":"failed"}`, status: http.StatusBadRequest, code: "invalid_selection"},
		{name: "stale is final", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc, body: `{"outcome":"stale"}`,
			status: http.StatusBadRequest, code: "invalid_outcome"},
		{name: "bad event id", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc, body: `{"event_ids":["a b"]}`,
			status: http.StatusBadRequest, code: "invalid_event_id"},
		{name: "unknown field", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc, body: `{"ids":["a"]}`,
			status: http.StatusBadRequest, code: "invalid_json"},
		{name: "unknown event", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc,
			body: `{"event_ids":["event_directory_user_pa_1","event_nope"]}`, status: http.StatusNotFound, code: "event_not_found",
			contains: []string{"event_nope"}},
		{name: "pending events are skipped", method: http.MethodPost, path: "/api/v1/events/retry", headers: svc,
			body: `{"event_ids":["event_directory_user_pa_1"]}`, status: http.StatusOK, contains: []string{`{"retried":0,"skipped":1}`}},
		{name: "GET retry", path: "/api/v1/events/retry", headers: svc, status: http.StatusMethodNotAllowed, code: "method_not_allowed"},
	})

	// Pages of one, oldest first, until list_metadata.after is null.
	var ids []string
	path := "/api/v1/events?limit=1"
	for range 5 {
		page := decode[eventsPage](t, scenario{path: path, headers: svc, status: http.StatusOK}.do(t, ts.e))
		for _, e := range page.Data {
			ids = append(ids, e.ID)
		}
		if page.ListMetadata.After == nil {
			break
		}
		path = "/api/v1/events?limit=1&after=" + *page.ListMetadata.After
	}
	if got := strings.Join(ids, " "); got != "event_directory_user_pa_1 event_directory_user_pb_1 event_directory_user_pc_1" {
		t.Errorf("paged event ids = %s, want the three events in arrival order", got)
	}
}
