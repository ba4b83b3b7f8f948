package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

const principalKey = "seatsync.principal"

// serviceOnly admits tokens with scope service (the billing system).
func serviceOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, ok := auth.PrincipalFrom(c)
		if !ok || !p.Service {
			return membership.Errorf(membership.Forbidden, "forbidden", "this operation needs a service token")
		}
		return next(c)
	}
}

// planAccess admits the service and the plan's admins. Anyone else gets the
// same 404 as for a plan that does not exist, so plan ids don't leak.
func (s *Server) planAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _ := auth.PrincipalFrom(c)
		if err := s.authorizePlan(c.Request().Context(), p, c.Param("plan_id")); err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// authorizePlan is planAccess's rule, for the API and the browser forms alike.
func (s *Server) authorizePlan(ctx context.Context, p auth.Principal, id string) error {
	notFound := membership.Errorf(membership.NotFound, "plan_not_found", "plan not found")
	if !membership.ValidID(id) {
		return notFound
	}
	if _, err := s.Store.Plan(ctx, id); err != nil {
		if membership.ErrorKind(err) == membership.NotFound {
			return notFound
		}
		return err
	}
	if !p.Service {
		ok, err := s.Store.IsPlanAdmin(ctx, id, p.Email)
		if err != nil {
			return err
		}
		if !ok {
			return notFound
		}
	}
	return nil
}

// actor names who made a change, for the audit log.
func actor(c echo.Context) string {
	p, _ := auth.PrincipalFrom(c)
	if p.Service {
		return "service"
	}
	return "admin:" + p.Email
}

const maxAPIBody = 64 << 10

// bindJSON decodes a JSON request body strictly: UTF-8 (encoding/json would
// silently turn bad bytes into U+FFFD, and store them so), one object, known
// fields only.
func bindJSON(c echo.Context, v any) error {
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), c.Request().Body, maxAPIBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return membership.Errorf(membership.TooLarge, "body_too_large", "request body over %d bytes", maxAPIBody)
		}
		return membership.Errorf(membership.Invalid, "body_unreadable", "could not read the request body")
	}
	if !utf8.Valid(body) {
		return membership.Errorf(membership.Invalid, "invalid_json", "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return membership.Errorf(membership.Invalid, "invalid_json", "request body: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return membership.Errorf(membership.Invalid, "invalid_json", "request body: one JSON object expected")
	}
	return nil
}
