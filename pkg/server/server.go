// Package server is seatsync's HTTP interface: the WorkOS webhook, the admin
// API, health endpoints. routes.go lists every route; errors.go alone picks
// HTTP statuses.
package server

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/webhooks"
)

// Deps are what the server is built from; cmd/seatsync wires them.
type Deps struct {
	Store          *store.Store
	Applier        *applier.Applier
	Webhooks       *webhooks.Handler
	Auth           *auth.Verifier
	Rules          store.Rules
	RequestTimeout time.Duration
	Log            *slog.Logger
	// SAMLLoginURL is where /sso/login_redirect sends people; empty answers 503.
	SAMLLoginURL string
	// MaxFormBody bounds the body of POST /sso/login_redirect; ≤ 0 means 1 MiB.
	MaxFormBody int64
	// WorkOS calls the WorkOS API; nil when workos.api_key is not configured.
	WorkOS *workosapi.Client
	// PortalReturnURL and PortalSuccessURL are the Admin Portal's return_url
	// and success_url; "{plan_id}" is replaced by the plan id. Empty ones are
	// not sent (WorkOS then uses the dashboard's redirect settings).
	PortalReturnURL, PortalSuccessURL string
	// SessionSecret keys the browser session cookies and CSRF tokens (see
	// session.go); empty means a random key per process, so sessions then
	// neither survive a restart nor span replicas.
	SessionSecret string
	// InsecureCookies drops Secure from the session cookie, for plain-HTTP development.
	InsecureCookies bool
	// Reconciler runs POST /api/v1/plans/{id}/directory/reconcile; nil when
	// workos.api_key is not configured (503 workos_not_configured).
	Reconciler *reconcile.Reconciler
	// ReconcileTimeout bounds a reconciliation started over HTTP; ≤ 0 means
	// one hour. An interrupted run resumes from its cursor.
	ReconcileTimeout time.Duration
	// APIRate (requests per second) and APIBurst bound each token's /api/v1
	// requests, per replica (limits.go); APIRate ≤ 0 turns the limit off.
	APIRate  float64
	APIBurst int
	// WebhookMaxInFlight bounds the webhook requests served at once per
	// replica; more answer 503 overloaded. ≤ 0 means 256.
	WebhookMaxInFlight int
	// HSTS adds Strict-Transport-Security to every response (env=production).
	HSTS bool
	// Metrics records request latencies; nil records nothing.
	Metrics HTTPObserver
	// Gatherer is served at GET /metrics; nil leaves the route out.
	Gatherer prometheus.Gatherer
}

// Server holds the handlers' dependencies.
type Server struct {
	Deps
	sessions sessionKeys
}

// New builds the Echo instance with every route and middleware.
func New(d Deps) *echo.Echo {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	d.Log = slog.New(LogHandler(d.Log.Handler()))
	if d.RequestTimeout <= 0 {
		d.RequestTimeout = 10 * time.Second
	}
	if d.ReconcileTimeout <= 0 {
		d.ReconcileTimeout = time.Hour
	}
	s := &Server{Deps: d}
	var persistent bool
	if s.sessions, persistent = newSessionKeys(d.SessionSecret); !persistent && d.Auth != nil {
		d.Log.Warn("no session secret (auth.jwt_secret): browser sessions use a random per-process key, " +
			"so they end at restart and do not span replicas")
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Use(middleware.RequestID(), withRequestID, observe(d.Metrics), accessLog(d.Log), recoverer(d.Log), deadline(d.RequestTimeout), securityHeaders(d.HSTS))
	s.routes(e)
	return e
}

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 only when the database answers and every migration is applied.
func (s *Server) readyz(c echo.Context) error {
	ctx := c.Request().Context()
	if err := s.Store.Ping(ctx); err != nil {
		return err
	}
	ok, err := s.Store.MigrationsCurrent(ctx)
	if membership.ErrorKind(err) == membership.Unavailable {
		return err
	}
	if err != nil || !ok {
		// An empty database has no migrations table yet: not ready either.
		if err != nil {
			s.Log.WarnContext(ctx, "readyz: check migrations", "request_id", requestID(c), "err", err)
		}
		return membership.Errorf(membership.Unavailable, "migrations_pending", "database migrations are not applied: run seatsync migrate")
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}
