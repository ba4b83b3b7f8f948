// Package metrics holds seatsync's Prometheus collectors. cmd/seatsync builds
// one Metrics on its own registry and hands it to the other packages, which
// see it only through small interfaces of their own (webhooks.Observer,
// applier.Observer, workosapi.Observer …), so none of them imports Prometheus.
// Every method is safe on a nil *Metrics and then does nothing.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seatsync/seatsync/pkg/membership"
)

// Metrics records what seatsync does. Build it with New.
type Metrics struct {
	reg prometheus.Registerer

	received     *prometheus.CounterVec
	rejected     *prometheus.CounterVec
	signature    *prometheus.CounterVec
	applied      *prometheus.CounterVec
	retried      *prometheus.CounterVec
	lag          prometheus.Histogram
	batch        prometheus.Histogram
	http         *prometheus.HistogramVec
	workos       *prometheus.CounterVec
	recListed    *prometheus.GaugeVec
	recGone      *prometheus.GaugeVec
	recRunning   *prometheus.GaugeVec
	recUpdatedAt *prometheus.GaugeVec
}

// New registers seatsync's collectors, and the Go runtime and process
// collectors, on reg; it panics if one is already registered there. Pass a
// registry of your own (prometheus.NewRegistry), never the global default.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		reg: reg,
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatsync_events_received_total",
			Help: "WorkOS events stored in the inbox or found there already, by transport, event type (\"other\" for types seatsync ignores) and status (accepted, duplicate, ignored).",
		}, []string{"source", "event_type", "status"}),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatsync_webhook_rejections_total",
			Help: "Webhook deliveries answered with an error, by error code (signature_mismatch, invalid_envelope, body_too_large, database_unavailable …).",
		}, []string{"code"}),
		signature: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatsync_webhook_signature_failures_total",
			Help: "Webhook deliveries refused because of their WorkOS-Signature header, by reason (missing, malformed, stale, mismatch).",
		}, []string{"reason"}),
		applied: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatsync_events_applied_total",
			Help: "Inbox events that reached a final outcome (applied, stale, rejected, conflict, ignored, unmatched, failed), by event type.",
		}, []string{"event_type", "outcome"}),
		retried: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatsync_events_retried_total",
			Help: "Attempts to apply an inbox event that failed and were scheduled again, by event type.",
		}, []string{"event_type"}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "seatsync_apply_lag_seconds",
			Help:    "Time from an event's arrival in the inbox to its final outcome.",
			Buckets: []float64{0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600},
		}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "seatsync_apply_batch_size",
			Help:    "Inbox events claimed and committed together by one applier transaction.",
			Buckets: []float64{1, 2, 5, 10, 25, 50, 100, 250, 500, 1000},
		}),
		http: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "seatsync_http_request_duration_seconds",
			Help:    "HTTP request latency, by method, route template (\"unmatched\" when no route matched) and status.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route", "status"}),
		workos: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "seatsync_workos_requests_total",
			Help: "HTTP requests sent to the WorkOS API, each retry counted, by method, endpoint template and status (\"error\" when no response came).",
		}, []string{"method", "endpoint", "status"}),
		recListed: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seatsync_reconcile_listed_users",
			Help: "Directory users listed by the current or last reconciliation of a directory on this replica.",
		}, []string{"plan_id", "directory_id"}),
		recGone: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seatsync_reconcile_gone_users",
			Help: "Directory users marked gone by the current or last reconciliation of a directory on this replica.",
		}, []string{"plan_id", "directory_id"}),
		recRunning: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seatsync_reconcile_running",
			Help: "1 while this replica reconciles the directory, 0 once the run is done.",
		}, []string{"plan_id", "directory_id"}),
		recUpdatedAt: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "seatsync_reconcile_progress_timestamp_seconds",
			Help: "Unix time of the last progress report of a directory's reconciliation on this replica.",
		}, []string{"plan_id", "directory_id"}),
	}
	reg.MustRegister(m.received, m.rejected, m.signature, m.applied, m.retried, m.lag, m.batch, m.http, m.workos,
		m.recListed, m.recGone, m.recRunning, m.recUpdatedAt,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Signature failure codes as the webhooks package names them, and the reason
// label each becomes.
var signatureReasons = map[string]string{
	"signature_missing":   "missing",
	"signature_malformed": "malformed",
	"signature_stale":     "stale",
	"signature_mismatch":  "mismatch",
}

// EventReceived counts an event a transport stored (status accepted or
// ignored) or found already stored (duplicate).
func (m *Metrics) EventReceived(source, eventType, status string) {
	if m == nil {
		return
	}
	m.received.WithLabelValues(source, eventTypeLabel(eventType), status).Inc()
}

// WebhookRejected counts a webhook delivery answered with the error code; the
// signature codes also count as signature failures.
func (m *Metrics) WebhookRejected(code string) {
	if m == nil {
		return
	}
	if code == "" {
		code = "internal"
	}
	m.rejected.WithLabelValues(code).Inc()
	if reason, ok := signatureReasons[code]; ok {
		m.signature.WithLabelValues(reason).Inc()
	}
}

// EventApplied records an event's final outcome and the time since it arrived.
func (m *Metrics) EventApplied(eventType, outcome string, lag time.Duration) {
	if m == nil {
		return
	}
	m.applied.WithLabelValues(eventTypeLabel(eventType), outcome).Inc()
	m.lag.Observe(max(lag, 0).Seconds())
}

// EventRetried counts a failed attempt that will be tried again.
func (m *Metrics) EventRetried(eventType string) {
	if m == nil {
		return
	}
	m.retried.WithLabelValues(eventTypeLabel(eventType)).Inc()
}

// ApplyBatch records how many events one applier transaction committed.
func (m *Metrics) ApplyBatch(size int) {
	if m == nil {
		return
	}
	m.batch.Observe(float64(size))
}

// HTTPRequest records one request's latency. route is the route template
// (echo.Context.Path), never the raw path, so ids do not become labels.
func (m *Metrics) HTTPRequest(method, route string, status int, d time.Duration) {
	if m == nil {
		return
	}
	if route == "" {
		route = "unmatched"
	}
	m.http.WithLabelValues(methodLabel(method), route, strconv.Itoa(status)).Observe(d.Seconds())
}

// WorkOSRequest counts one request to the WorkOS API; endpoint is a template
// without ids ("/organizations/:id") and status the HTTP status or "error".
func (m *Metrics) WorkOSRequest(method, endpoint, status string) {
	if m == nil {
		return
	}
	m.workos.WithLabelValues(methodLabel(method), endpoint, status).Inc()
}

// ReconcileProgress records a directory reconciliation's progress; phase
// "done" marks it finished.
func (m *Metrics) ReconcileProgress(planID, directoryID, phase string, listed, gone int) {
	if m == nil {
		return
	}
	running := 1.0
	if phase == "done" {
		running = 0
	}
	m.recListed.WithLabelValues(planID, directoryID).Set(float64(listed))
	m.recGone.WithLabelValues(planID, directoryID).Set(float64(gone))
	m.recRunning.WithLabelValues(planID, directoryID).Set(running)
	m.recUpdatedAt.WithLabelValues(planID, directoryID).SetToCurrentTime()
}

// eventTypeLabel keeps the label's values to the types seatsync knows: WorkOS
// sends many others, and each would otherwise become a series.
func eventTypeLabel(t string) string {
	if membership.IsKnownEventType(t) {
		return t
	}
	return "other"
}

// methodLabel keeps arbitrary methods a client may send out of the labels.
func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return method
	}
	return "other"
}
