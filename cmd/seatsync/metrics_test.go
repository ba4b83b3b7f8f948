package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// observed is a small directory's life for the metrics and logs tests: its
// plan, the activation, one user, a poisoned event and a type seatsync ignores.
type observed struct {
	orgID, planID, workosOrg, dirID  string
	activated, user, poisoned, other []byte
}

func newObserved(n string) observed {
	o := observed{orgID: "org" + n, planID: "plan" + n, workosOrg: "org_W" + n, dirID: "directory_" + n}
	at := time.Now().UTC().Format(time.RFC3339Nano)
	ev := func(id, typ string, data map[string]any) []byte {
		b, _ := json.Marshal(map[string]any{"object": "event", "id": "event_" + n + "_" + id, "event": typ, "data": data, "created_at": at})
		return b
	}
	user := func(id string, state any) map[string]any {
		return map[string]any{"object": "directory_user", "id": "directory_user_" + n + id, "directory_id": o.dirID,
			"organization_id": o.workosOrg, "email": "alice." + id + "@" + n + ".example.com", "first_name": "Alice",
			"last_name": "Liddell", "state": state, "created_at": at, "updated_at": at}
	}
	o.activated = ev("1", "dsync.activated", map[string]any{"object": "directory", "id": o.dirID, "organization_id": o.workosOrg,
		"type": "okta scim v2.0", "name": "Directory", "state": "active", "domains": []any{}, "created_at": at, "updated_at": at})
	o.user = ev("2", "dsync.user.created", user("1", "active"))
	// A state that is not a string cannot be decoded: parked as failed at once.
	o.poisoned = ev("3", "dsync.user.created", user("2", 5))
	o.other = ev("4", "connection.activated", map[string]any{"object": "connection", "id": "conn_" + n})
	return o
}

// setup creates the organization and the plan linked to the WorkOS organization.
func (o observed) setup(t *testing.T, ti *testInstance) {
	t.Helper()
	if c := ti.apiCall(t, http.MethodPut, "/api/v1/organizations/"+o.orgID, map[string]any{"name": o.orgID}, nil); c != http.StatusOK {
		t.Fatalf("put organization: %d", c)
	}
	plan := map[string]any{"organization_id": o.orgID, "name": "Plan", "admins": []string{"admin@" + o.orgID + ".example.com"},
		"workos_organization_id": o.workosOrg}
	if c := ti.apiCall(t, http.MethodPut, "/api/v1/plans/"+o.planID, plan, nil); c != http.StatusCreated {
		t.Fatalf("put plan: %d", c)
	}
}

// post sends body to the webhook endpoint with the signature header sig
// (none when empty) and returns the response's status and request id.
func post(t *testing.T, url string, body []byte, sig string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url+"/webhooks/workos", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if sig != "" {
		req.Header.Set(webhooks.SignatureHeader, sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	return res.StatusCode, res.Header.Get("X-Request-Id")
}

// scrape reads GET /metrics as Prometheus does.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	res, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %d", res.StatusCode)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	mfs, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return mfs
}

// sample returns the value of the series of mfs[name] whose labels include
// labels: a counter's or gauge's value, a histogram's count. ok is false
// when there is no such series.
func sample(mfs map[string]*dto.MetricFamily, name string, labels map[string]string) (v float64, ok bool) {
	mf := mfs[name]
	if mf == nil {
		return 0, false
	}
next:
	for _, m := range mf.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, want := range labels {
			if have[k] != want {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	ti := startInstance(t, testConfig(t, storetest.Options(t, "sqlite")), false)
	o := newObserved("M")
	o.setup(t, ti)
	now := time.Now()
	for _, d := range []struct {
		body []byte
		sig  string
		want int
	}{
		{o.activated, webhooks.Sign(testSecret, now, o.activated), http.StatusOK},
		{o.user, webhooks.Sign(testSecret, now, o.user), http.StatusOK},
		{o.user, webhooks.Sign(testSecret, now, o.user), http.StatusOK}, // WorkOS redelivers: duplicate
		{o.poisoned, webhooks.Sign(testSecret, now, o.poisoned), http.StatusOK},
		{o.other, webhooks.Sign(testSecret, now, o.other), http.StatusOK},
		{o.user, webhooks.Sign("whsec_not_ours", now, o.user), http.StatusUnauthorized},
		{o.user, webhooks.Sign(testSecret, now.Add(-time.Hour), o.user), http.StatusUnauthorized},
		{o.user, "", http.StatusUnauthorized},
	} {
		if got, _ := post(t, ti.url, d.body, d.sig); got != d.want {
			t.Fatalf("delivery: status %d, want %d", got, d.want)
		}
	}
	if err := ti.applier.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	mfs := scrape(t, ti.url)

	type series struct {
		name   string
		labels map[string]string
		want   float64
	}
	webhook := func(typ, status string) map[string]string {
		return map[string]string{"source": "webhook", "event_type": typ, "status": status}
	}
	route := func(method, route, status string) map[string]string {
		return map[string]string{"method": method, "route": route, "status": status}
	}
	for _, s := range []series{
		{"seatsync_events_received_total", webhook("dsync.activated", "accepted"), 1},
		{"seatsync_events_received_total", webhook("dsync.user.created", "accepted"), 2},
		{"seatsync_events_received_total", webhook("dsync.user.created", "duplicate"), 1},
		{"seatsync_events_received_total", webhook("other", "ignored"), 1},
		{"seatsync_webhook_signature_failures_total", map[string]string{"reason": "mismatch"}, 1},
		{"seatsync_webhook_signature_failures_total", map[string]string{"reason": "stale"}, 1},
		{"seatsync_webhook_signature_failures_total", map[string]string{"reason": "missing"}, 1},
		{"seatsync_webhook_rejections_total", map[string]string{"code": webhooks.CodeSignatureMismatch}, 1},
		{"seatsync_events_applied_total", map[string]string{"event_type": "dsync.activated", "outcome": "applied"}, 1},
		{"seatsync_events_applied_total", map[string]string{"event_type": "dsync.user.created", "outcome": "applied"}, 1},
		{"seatsync_events_applied_total", map[string]string{"event_type": "dsync.user.created", "outcome": "failed"}, 1},
		{"seatsync_apply_lag_seconds", nil, 3},
		{"seatsync_http_request_duration_seconds", route("POST", "/webhooks/workos", "200"), 5},
		{"seatsync_http_request_duration_seconds", route("POST", "/webhooks/workos", "401"), 3},
		{"seatsync_http_request_duration_seconds", route("PUT", "/api/v1/plans/:plan_id", "201"), 1},
		{"seatsync_inbox_pending_events", nil, 0},
		{"seatsync_inbox_oldest_pending_age_seconds", nil, 0},
	} {
		got, ok := sample(mfs, s.name, s.labels)
		if !ok || got != s.want {
			t.Errorf("%s%v = %v (present: %v), want %v", s.name, s.labels, got, ok, s.want)
		}
	}
	// Batches: every claimed event is in exactly one.
	if b := mfs["seatsync_apply_batch_size"]; b == nil || b.GetMetric()[0].GetHistogram().GetSampleSum() != 3 {
		t.Errorf("seatsync_apply_batch_size: want batches summing to the 3 pending events, got %v", b)
	}
	// Route labels are templates: no plan id, no unmatched raw path.
	for _, m := range mfs["seatsync_http_request_duration_seconds"].GetMetric() {
		for _, l := range m.GetLabel() {
			if l.GetName() == "route" && strings.Contains(l.GetValue(), o.planID) {
				t.Errorf("route label %q carries an id", l.GetValue())
			}
		}
	}
	for _, name := range []string{"go_sql_open_connections", "go_goroutines", "process_cpu_seconds_total"} {
		if _, ok := mfs[name]; !ok {
			t.Errorf("/metrics has no %s", name)
		}
	}
	if v, ok := sample(mfs, "go_sql_max_open_connections", map[string]string{"db_name": "seatsync"}); !ok || v != 1 {
		t.Errorf(`go_sql_max_open_connections{db_name="seatsync"} = %v (present: %v), want 1 (SQLite)`, v, ok)
	}
	if t.Failed() {
		for name, mf := range mfs {
			if strings.HasPrefix(name, "seatsync_") {
				t.Log(fmt.Sprint(mf))
			}
		}
	}
}
