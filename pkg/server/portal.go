package server

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
)

// portalLinkTTL is how long a generated Admin Portal link works (reference §10.2).
const portalLinkTTL = 5 * time.Minute

type portalLinkBody struct {
	Link      string `json:"link"`
	ExpiresAt string `json:"expires_at"`
}

// portalLinkAPI is POST /api/v1/plans/{plan_id}/scim/portal-link (SPEC §6):
// 200 {"link", "expires_at"}. The link is short-lived and never cached.
func (s *Server) portalLinkAPI(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	link, expires, err := s.portalLink(c, c.Param("plan_id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, portalLinkBody{Link: link, ExpiresAt: expires.UTC().Format(time.RFC3339)})
}

// configureSCIMForm is the browser form POST /plans/{plan_id}/configure-scim:
// with a session, the CSRF token and plan access, it does what the API does
// and answers 303 to the Admin Portal link.
func (s *Server) configureSCIMForm(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	sess, err := s.browserSession(c)
	if err != nil {
		return err
	}
	if err := s.checkForm(c, sess, purposeConfigureSCIM); err != nil {
		return err
	}
	planID := c.Param("plan_id")
	if err := s.authorizePlan(c.Request().Context(), sess.principal(), planID); err != nil {
		return err
	}
	link, _, err := s.portalLink(c, planID)
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, link)
}

// portalLink makes sure the plan has a WorkOS organization, then generates an
// Admin Portal link (intent dsync) for it. expires is when the link stops
// working, counted from before the request, so it errs early.
func (s *Server) portalLink(c echo.Context, planID string) (link string, expires time.Time, err error) {
	if s.WorkOS == nil {
		return "", time.Time{}, workosapi.ErrNotConfigured()
	}
	ctx := c.Request().Context()
	orgID, err := s.ensureWorkOSOrganization(c, planID)
	if err != nil {
		return "", time.Time{}, err
	}
	issued := time.Now()
	link, err = s.WorkOS.PortalLink(ctx, orgID, planURL(s.PortalReturnURL, planID), planURL(s.PortalSuccessURL, planID))
	if err != nil {
		return "", time.Time{}, s.workosFailed(c, planID, "could not generate the Admin Portal link", err)
	}
	if u, perr := url.Parse(link); perr != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", time.Time{}, membership.Errorf(membership.Upstream, "workos_bad_response",
			"WorkOS answered with an Admin Portal link that is not an http(s) URL")
	}
	return link, issued.Add(portalLinkTTL), nil
}

// ensureWorkOSOrganization returns the plan's WorkOS organization, creating
// and linking it first when there is none. It creates one organization per
// plan however many requests race, on however many replicas: WorkOS refuses a
// second organization with the plan id as external_id (EnsureOrganization
// then returns the first one), and the store keeps the first id written.
func (s *Server) ensureWorkOSOrganization(c echo.Context, planID string) (string, error) {
	ctx := c.Request().Context()
	plan, err := s.Store.Plan(ctx, planID)
	if err != nil {
		return "", err
	}
	if plan.WorkOSOrganizationID != nil && *plan.WorkOSOrganizationID != "" {
		return *plan.WorkOSOrganizationID, nil
	}
	org, err := s.Store.Organization(ctx, plan.OrganizationID)
	if err != nil {
		return "", err
	}
	name := strings.TrimSpace(plan.Name)
	if name == "" {
		name = strings.TrimSpace(org.Name)
	}
	if name == "" {
		name = plan.ID
	}
	id, created, err := s.WorkOS.EnsureOrganization(ctx, plan.ID, name, org.Domains)
	if err != nil {
		return "", s.workosFailed(c, planID, "could not create the WorkOS organization", err)
	}
	stored, err := s.Store.SetWorkOSOrganization(ctx, plan.ID, id)
	if err != nil {
		return "", err
	}
	if created {
		s.Log.InfoContext(ctx, "created WorkOS organization", "request_id", requestID(c), "plan_id", plan.ID,
			"workos_organization_id", id)
	}
	if stored != id {
		// The billing system linked another organization in the meantime.
		s.Log.WarnContext(ctx, "plan was linked to another WorkOS organization meanwhile; using it", "request_id", requestID(c),
			"plan_id", plan.ID, "workos_organization_id", stored, "ensured_workos_organization_id", id)
	}
	if s.Applier != nil {
		s.Applier.Kick() // events waiting for this organization are due now
	}
	return stored, nil
}

// workosFailed logs a failed WorkOS call and returns the error for the
// client: a WorkOS failure (Kind Upstream) keeps its code, and its message
// gets step in front, so the 502 names both what failed and why. The
// workosapi messages and chains never contain the API key.
func (s *Server) workosFailed(c echo.Context, planID, step string, err error) error {
	ctx := c.Request().Context()
	var me *membership.Error
	if !errors.As(err, &me) || me.Kind != membership.Upstream {
		return fmt.Errorf("%s: %w", step, err)
	}
	s.Log.WarnContext(ctx, "WorkOS call failed", "request_id", requestID(c), "plan_id", planID, "step", step, "err", err)
	return membership.Errorf(membership.Upstream, me.Code, "%s: %s", step, me.Message)
}

// planURL fills a configured URL template with the plan id; "" stays "".
func planURL(template, planID string) string {
	return strings.ReplaceAll(template, "{plan_id}", url.PathEscape(planID))
}
