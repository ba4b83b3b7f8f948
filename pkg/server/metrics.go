package server

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// HTTPObserver records request latencies; *metrics.Metrics implements it.
type HTTPObserver interface {
	HTTPRequest(method, route string, status int, d time.Duration)
}

// observe records every request's latency by route template (c.Path(), never
// the raw path: ids and probes of random paths must not become series) and
// status. It runs outside the access log, whose HandleError has committed the
// response, so the status is the one the client got.
func observe(o HTTPObserver) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		if o == nil {
			return next
		}
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil && !c.Response().Committed {
				c.Error(err) // as the access log does; the error handler then skips it
			}
			o.HTTPRequest(c.Request().Method, c.Path(), c.Response().Status, time.Since(start))
			return err
		}
	}
}

// metricsHandler serves GET /metrics from g in the Prometheus text format. A
// collector that fails (the inbox query, when the database is down) is logged
// and left out; the others are still served. Each scrape queries the
// database, so concurrent scrapes beyond a few answer 503.
func metricsHandler(g prometheus.Gatherer, log *slog.Logger) echo.HandlerFunc {
	h := promhttp.HandlerFor(g, promhttp.HandlerOpts{ErrorLog: promLog{log}, ErrorHandling: promhttp.ContinueOnError,
		MaxRequestsInFlight: 4})
	return echo.WrapHandler(h)
}

// promLog adapts slog to promhttp's logger.
type promLog struct{ log *slog.Logger }

func (l promLog) Println(v ...any) { l.log.Warn("metrics: " + fmt.Sprint(v...)) }
