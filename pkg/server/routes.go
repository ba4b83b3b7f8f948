package server

import (
	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

// routes lists every route of the service.
func (s *Server) routes(e *echo.Echo) {
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)

	receive := unconfigured("webhooks_not_configured", "no webhook secret is configured (webhooks.secrets)")
	if s.Webhooks != nil {
		receive = s.Webhooks.Receive
	}
	e.POST("/webhooks/workos", receive)

	authn := func(echo.HandlerFunc) echo.HandlerFunc {
		return unconfigured("auth_not_configured", "no token verification is configured (auth.jwt_secret or auth.jwks_url)")
	}
	if s.Auth != nil {
		authn = s.Auth.Middleware()
	}
	api := e.Group("/api/v1", authn)
	api.PUT("/organizations/:org_id", s.putOrganization, serviceOnly)
	api.PUT("/plans/:plan_id", s.putPlan, serviceOnly)
	api.GET("/plans/:plan_id", s.planStatus, s.planAccess)
	api.GET("/plans/:plan_id/members", s.listMembers, s.planAccess)
	api.POST("/plans/:plan_id/members", s.addMember, s.planAccess)
	api.DELETE("/plans/:plan_id/members/:email", s.removeMember, s.planAccess)
	api.GET("/plans/:plan_id/audit", s.listAudit, s.planAccess)
}

func unconfigured(code, msg string) echo.HandlerFunc {
	return func(echo.Context) error { return membership.Errorf(membership.Unavailable, code, "%s", msg) }
}
