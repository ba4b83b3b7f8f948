package server

import (
	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

// routes lists every route of the service.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	// Prometheus metrics, on the main listener: no secrets and no emails, but
	// plan and directory ids. Operators who expose seatsync publicly block
	// /metrics at the load balancer and scrape each replica directly.
	if s.Gatherer != nil {
		e.GET("/metrics", metricsHandler(s.Gatherer, s.Log))
	}

	receive := unconfigured("webhooks_not_configured", "no webhook secret is configured (webhooks.secrets)")
	if s.Webhooks != nil {
		receive = s.Webhooks.Receive
	}
	// Not rate limited (WorkOS bursts thousands during an initial sync), but
	// bounded in flight: beyond the bound it answers 503 and WorkOS retries.
	e.POST("/webhooks/workos", receive, inFlight(s.WebhookMaxInFlight))

	// Stub SAML (SPEC §7): the IdP's Audience and Consumer URL.
	e.GET("/sso/login_redirect", s.ssoLoginRedirect)
	e.POST("/sso/login_redirect", s.ssoLoginRedirect)

	// authn is set per route, not on the group: a group with middleware gets
	// catch-all routes from Echo, which turn every 405 under it into a 404.
	// It also applies the per-token rate limit (limits.go).
	authn := s.rateLimited(authenticate(s.Auth))
	api := e.Group("/api/v1")
	api.GET("/openapi.yaml", s.openAPI) // the OpenAPI document of /api/v1, without authentication
	api.PUT("/organizations/:org_id", s.putOrganization, authn, serviceOnly)
	api.PUT("/plans/:plan_id", s.putPlan, authn, serviceOnly)
	api.GET("/plans/:plan_id", s.planStatus, authn, s.planAccess)
	api.GET("/plans/:plan_id/members", s.listMembers, authn, s.planAccess)
	api.POST("/plans/:plan_id/members", s.addMember, authn, s.planAccess)
	api.DELETE("/plans/:plan_id/members/:email", s.removeMember, authn, s.planAccess)
	api.GET("/plans/:plan_id/audit", s.listAudit, authn, s.planAccess)
	api.POST("/plans/:plan_id/directory/reconcile", s.reconcileDirectory, authn, s.planAccess)
	api.POST("/plans/:plan_id/held-changes/:change_id/approve", s.approveHeld, authn, s.planAccess)
	api.POST("/plans/:plan_id/held-changes/:change_id/reject", s.rejectHeld, authn, s.planAccess)
	api.POST("/plans/:plan_id/scim/portal-link", s.portalLinkAPI, authn, s.planAccess)
	api.GET("/events", s.listEvents, authn, serviceOnly)
	api.POST("/events/retry", s.retryEvents, authn, serviceOnly)

	// Browser sign-in and forms: a session cookie from /login, and a CSRF
	// token in every form (session.go).
	e.GET("/login", s.login, htmlForBrowsers)
	e.POST("/plans/:plan_id/configure-scim", s.configureSCIMForm, htmlForBrowsers)
	e.POST("/logout", s.logout, htmlForBrowsers)

	// Admin pages (page.go): HTML for signed-in browsers, errors as pages.
	e.GET("/", s.homePage, htmlPage)
	e.GET("/plans/:plan_id", s.planPage, htmlPage)
	e.GET("/assets/:name", s.asset)
}

// authenticate authenticates admin API requests, or refuses them all when no token
// verification is configured.
func authenticate(v *auth.Verifier) echo.MiddlewareFunc {
	if v == nil {
		return func(echo.HandlerFunc) echo.HandlerFunc {
			return unconfigured("auth_not_configured", "no token verification is configured (auth.jwt_secret or auth.jwks_url)")
		}
	}
	return v.Middleware()
}

func unconfigured(code, msg string) echo.HandlerFunc {
	return func(echo.Context) error { return membership.Errorf(membership.Unavailable, code, "%s", msg) }
}
