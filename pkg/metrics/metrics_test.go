package metrics

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestNilMetrics(t *testing.T) {
	t.Parallel()
	var m *Metrics
	m.EventReceived("webhook", "dsync.user.created", "accepted")
	m.WebhookRejected("signature_stale")
	m.EventApplied("dsync.user.created", "applied", time.Second)
	m.EventRetried("dsync.user.created")
	m.ApplyBatch(3)
	m.HTTPRequest("GET", "/healthz", 200, time.Millisecond)
	m.WorkOSRequest("GET", "/events", "200")
	m.ReconcileProgress("plan_1", "directory_1", "listing", 10, 0)
	if err := m.WatchStore(nil); err != nil {
		t.Errorf("nil WatchStore = %v, want nil", err)
	}
}

func TestLabels(t *testing.T) {
	t.Parallel()
	m := New(prometheus.NewRegistry())
	m.EventReceived("webhook", "connection.activated", "ignored")
	if got := testutil.ToFloat64(m.received.WithLabelValues("webhook", "other", "ignored")); got != 1 {
		t.Errorf("an unknown event type: received{event_type=other} = %v, want 1", got)
	}
	for _, code := range []string{"signature_stale", "signature_mismatch", "invalid_envelope", ""} {
		m.WebhookRejected(code)
	}
	if got := testutil.CollectAndCount(m.signature); got != 2 {
		t.Errorf("signature failure series = %d, want 2 (stale, mismatch)", got)
	}
	if got := testutil.ToFloat64(m.signature.WithLabelValues("stale")); got != 1 {
		t.Errorf("signature_failures{reason=stale} = %v, want 1", got)
	}
	if got := testutil.ToFloat64(m.rejected.WithLabelValues("internal")); got != 1 {
		t.Errorf("a rejection without code: rejections{code=internal} = %v, want 1", got)
	}
	m.HTTPRequest("BREW", "", 404, time.Millisecond)
	m.http.WithLabelValues("other", "unmatched", "404") // creates a second series unless the request made it
	if got := testutil.CollectAndCount(m.http); got != 1 {
		t.Fatalf("http series = %d, want 1 {method=other, route=unmatched, status=404}", got)
	}
	want := `
# HELP seatsync_apply_lag_seconds Time from an event's arrival in the inbox to its final outcome.
# TYPE seatsync_apply_lag_seconds histogram
seatsync_apply_lag_seconds_bucket{le="0.01"} 1
seatsync_apply_lag_seconds_bucket{le="0.05"} 1
seatsync_apply_lag_seconds_bucket{le="0.1"} 1
seatsync_apply_lag_seconds_bucket{le="0.25"} 1
seatsync_apply_lag_seconds_bucket{le="0.5"} 1
seatsync_apply_lag_seconds_bucket{le="1"} 1
seatsync_apply_lag_seconds_bucket{le="2.5"} 1
seatsync_apply_lag_seconds_bucket{le="5"} 1
seatsync_apply_lag_seconds_bucket{le="10"} 1
seatsync_apply_lag_seconds_bucket{le="30"} 1
seatsync_apply_lag_seconds_bucket{le="60"} 1
seatsync_apply_lag_seconds_bucket{le="120"} 1
seatsync_apply_lag_seconds_bucket{le="300"} 1
seatsync_apply_lag_seconds_bucket{le="600"} 1
seatsync_apply_lag_seconds_bucket{le="1800"} 1
seatsync_apply_lag_seconds_bucket{le="3600"} 1
seatsync_apply_lag_seconds_bucket{le="+Inf"} 1
seatsync_apply_lag_seconds_sum 0
seatsync_apply_lag_seconds_count 1
`
	// A clock step backwards must not record a negative lag.
	m.EventApplied("dsync.user.created", "applied", -time.Second)
	if err := testutil.CollectAndCompare(m.lag, strings.NewReader(want), "seatsync_apply_lag_seconds"); err != nil {
		t.Error(err)
	}
	m.HTTPRequest("GET", "/api/v1/plans/:plan_id", 200, time.Millisecond)
	if got := testutil.ToFloat64(m.reconcileRunning("plan_1", "directory_1")); got != 0 {
		t.Errorf("reconcile_running before any progress = %v, want 0", got)
	}
	m.ReconcileProgress("plan_1", "directory_1", "listing", 100, 0)
	if got := testutil.ToFloat64(m.reconcileRunning("plan_1", "directory_1")); got != 1 {
		t.Errorf("reconcile_running while listing = %v, want 1", got)
	}
	m.ReconcileProgress("plan_1", "directory_1", "done", 120, 3)
	if got := testutil.ToFloat64(m.reconcileRunning("plan_1", "directory_1")); got != 0 {
		t.Errorf("reconcile_running when done = %v, want 0", got)
	}
	if got := testutil.ToFloat64(m.recGone.WithLabelValues("plan_1", "directory_1")); got != 3 {
		t.Errorf("reconcile_gone_users = %v, want 3", got)
	}
}

func (m *Metrics) reconcileRunning(plan, dir string) prometheus.Gauge {
	return m.recRunning.WithLabelValues(plan, dir)
}

func TestWatchStore(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		st := storetest.Open(t, dialect)
		reg := prometheus.NewRegistry()
		m := New(reg)
		if err := m.WatchStore(st); err != nil {
			t.Fatal(err)
		}
		want := `
# HELP seatsync_inbox_pending_events Inbox events not applied yet, including those waiting for their plan to be linked.
# TYPE seatsync_inbox_pending_events gauge
seatsync_inbox_pending_events 0
# HELP seatsync_inbox_oldest_pending_age_seconds Age of the oldest pending inbox event that is not waiting for its plan; 0 when there is none.
# TYPE seatsync_inbox_oldest_pending_age_seconds gauge
seatsync_inbox_oldest_pending_age_seconds 0
`
		if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
			"seatsync_inbox_pending_events", "seatsync_inbox_oldest_pending_age_seconds"); err != nil {
			t.Errorf("empty inbox: %v", err)
		}
		for _, id := range []string{"event_1", "event_2"} {
			if _, err := st.PutInbox(t.Context(), membership.InboxEvent{EventID: id, Type: "dsync.user.created", Payload: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := testutil.GatherAndCount(reg, "go_sql_open_connections"); err != nil || n != 1 {
			t.Errorf("go_sql_open_connections series = %d, %v; want 1", n, err)
		}
		// The age at a scrape an hour later, through the collector's clock.
		c := newInboxCollector(st, func() time.Time { return time.Now().Add(time.Hour) })
		if got := testutil.ToFloat64(collectorGauge{c, "seatsync_inbox_pending_events"}); got != 2 {
			t.Errorf("pending = %v, want 2", got)
		}
		if got := testutil.ToFloat64(collectorGauge{c, "seatsync_inbox_oldest_pending_age_seconds"}); got < 3590 || got > 3700 {
			t.Errorf("oldest pending age an hour later = %vs, want about 3600", got)
		}
	})
}

// collectorGauge narrows a collector to one of its metrics, for testutil.ToFloat64.
type collectorGauge struct {
	c    prometheus.Collector
	name string
}

func (g collectorGauge) Describe(ch chan<- *prometheus.Desc) { g.c.Describe(ch) }

func (g collectorGauge) Collect(ch chan<- prometheus.Metric) {
	all := make(chan prometheus.Metric)
	go func() { g.c.Collect(all); close(all) }()
	for m := range all {
		if strings.Contains(m.Desc().String(), `"`+g.name+`"`) {
			ch <- m
		}
	}
}

// brokenStore is a store whose database is gone.
type brokenStore struct{}

func (brokenStore) InboxBacklog(context.Context) (store.Backlog, error) {
	return store.Backlog{}, errors.New("inbox backlog: database unavailable")
}

func (brokenStore) Pool() (*sql.DB, error) { return nil, errors.New("no pool") }

func TestWatchStoreErrors(t *testing.T) {
	t.Parallel()
	if err := New(prometheus.NewRegistry()).WatchStore(brokenStore{}); err == nil {
		t.Error("WatchStore without a pool = nil, want an error")
	}
	// A failed query fails its own metrics only; promhttp's ContinueOnError
	// (pkg/server) then serves the rest.
	reg := prometheus.NewRegistry()
	reg.MustRegister(newInboxCollector(brokenStore{}, time.Now))
	if _, err := reg.Gather(); err == nil || !strings.Contains(err.Error(), "database unavailable") {
		t.Errorf("Gather with a broken store = %v, want the query's error", err)
	}
}
