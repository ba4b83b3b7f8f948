package metrics

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/seatsync/seatsync/store"
)

// backlogTimeout bounds the inbox query of one scrape: a slow database must
// not hold the scrape (and its HTTP request) until Prometheus gives up.
const backlogTimeout = 2 * time.Second

// Store is what the scrape-time collectors read; *store.Store implements it.
type Store interface {
	InboxBacklog(ctx context.Context) (store.Backlog, error)
	Pool() (*sql.DB, error)
}

// WatchStore registers collectors that read st at scrape time: the inbox
// backlog (seatsync_inbox_*) and the connection pool's statistics
// (go_sql_*{db_name="seatsync"}). The inbox gauges describe the shared
// database, so every replica reports the same values: aggregate them with max.
func (m *Metrics) WatchStore(st Store) error {
	if m == nil {
		return nil
	}
	pool, err := st.Pool()
	if err != nil {
		return fmt.Errorf("watch store: %w", err)
	}
	for _, c := range []prometheus.Collector{newInboxCollector(st, time.Now), collectors.NewDBStatsCollector(pool, "seatsync")} {
		if err := m.reg.Register(c); err != nil {
			return fmt.Errorf("watch store: %w", err)
		}
	}
	return nil
}

// inboxCollector queries the inbox's backlog once per scrape.
type inboxCollector struct {
	st                    Store
	now                   func() time.Time
	pending, waiting, age *prometheus.Desc
}

func newInboxCollector(st Store, now func() time.Time) *inboxCollector {
	return &inboxCollector{st: st, now: now,
		pending: prometheus.NewDesc("seatsync_inbox_pending_events",
			"Inbox events not applied yet, including those waiting for their plan to be linked.", nil, nil),
		waiting: prometheus.NewDesc("seatsync_inbox_waiting_events",
			"Pending inbox events waiting for their plan to be linked; they become unmatched after applier.unmatched_after.", nil, nil),
		age: prometheus.NewDesc("seatsync_inbox_oldest_pending_age_seconds",
			"Age of the oldest pending inbox event that is not waiting for its plan; 0 when there is none.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *inboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.waiting
	ch <- c.age
}

// Collect implements prometheus.Collector. A failed query becomes an invalid
// metric: the /metrics handler logs it and serves the other metrics.
func (c *inboxCollector) Collect(ch chan<- prometheus.Metric) {
	// Collect receives no context; the scrape's own timeout is Prometheus's.
	ctx, cancel := context.WithTimeout(context.Background(), backlogTimeout)
	defer cancel()
	b, err := c.st.InboxBacklog(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.pending, err)
		return
	}
	age := 0.0
	if !b.Oldest.IsZero() {
		age = max(c.now().Sub(b.Oldest).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(b.Pending))
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, float64(b.Waiting))
	ch <- prometheus.MustNewConstMetric(c.age, prometheus.GaugeValue, age)
}
