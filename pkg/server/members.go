package server

import (
	"bytes"
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

type memberJSON struct {
	Email           string    `json:"email"`
	Name            string    `json:"name"`
	Tier            string    `json:"tier"`
	Source          string    `json:"source"`
	DirectoryUserID string    `json:"directory_user_id"`
	UpdatedAt       time.Time `json:"updated_at"`
}

type listMetadata struct {
	After *string `json:"after"`
}

type memberList struct {
	Object       string       `json:"object"`
	Data         []memberJSON `json:"data"`
	ListMetadata listMetadata `json:"list_metadata"`
}

// pageLimit reads ?limit= (1–100, default 10), as WorkOS lists do.
func pageLimit(c echo.Context) (int, error) {
	s := c.QueryParam("limit")
	if s == "" {
		return 10, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 100 {
		return 0, membership.Errorf(membership.Invalid, "invalid_limit", "limit must be an integer from 1 to 100")
	}
	return n, nil
}

// Cursors are opaque to clients: base64url of the position.
func encodeCursor(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// decodeCursor refuses positions no page ever ends at: over 512 bytes, not
// UTF-8, or with an ASCII control character (no stored email ever had one).
// They would reach the database as query parameters, and Postgres fails on
// NUL and invalid UTF-8 in text: a 500 instead of a 400.
func decodeCursor(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 512 || !utf8.Valid(b) || bytes.ContainsFunc(b, asciiControl) {
		return "", membership.Errorf(membership.Invalid, "invalid_cursor", "after is not a cursor returned by this API")
	}
	return string(b), nil
}

func asciiControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (s *Server) listMembers(c echo.Context) error {
	tier := c.QueryParam("tier")
	if tier != "" && tier != "paid" && tier != "free" {
		return membership.Errorf(membership.Invalid, "invalid_tier", "tier must be paid or free")
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	after, err := decodeCursor(c.QueryParam("after"))
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	plan, err := s.Store.Plan(ctx, c.Param("plan_id"))
	if err != nil {
		return err
	}
	page, err := s.Store.PlanMembers(ctx, plan.ID, plan.OrganizationID, tier, after, limit)
	if err != nil {
		return err
	}
	out := memberList{Object: "list", Data: make([]memberJSON, 0, len(page.Members))}
	for _, r := range page.Members {
		m := r.Domain()
		t := "free"
		if m.PlanID != "" {
			t = "paid"
		}
		out.Data = append(out.Data, memberJSON{Email: m.Email, Name: m.Name, Tier: t, Source: string(m.Source),
			DirectoryUserID: m.DirectoryUserID, UpdatedAt: r.UpdatedAt})
	}
	if page.After != "" {
		a := encodeCursor(page.After)
		out.ListMetadata.After = &a
	}
	return c.JSON(http.StatusOK, out)
}

type memberBody struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

func (s *Server) addMember(c echo.Context) error {
	var b memberBody
	if err := bindJSON(c, &b); err != nil {
		return err
	}
	email := membership.NormalizeEmail(b.Email)
	if !membership.ValidEmail(email) {
		return membership.Errorf(membership.Invalid, "invalid_email", "email is not a valid address")
	}
	if !validName(b.Name) {
		return membership.Errorf(membership.Invalid, "invalid_name", "name must be printable text of at most 200 bytes")
	}
	m, err := s.Applier.AddManualSeat(c.Request().Context(), c.Param("plan_id"), email, b.Name, actor(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, memberJSON{Email: m.Email, Name: m.Name, Tier: "paid", Source: string(m.Source),
		DirectoryUserID: m.DirectoryUserID, UpdatedAt: time.Now().UTC()})
}

func (s *Server) removeMember(c echo.Context) error {
	// Echo routes on the escaped path only when it differs from the default
	// encoding (URL.RawPath); otherwise the parameter is already decoded and
	// decoding it again would turn a%2541b into aAb.
	raw := c.Param("email")
	if c.Request().URL.RawPath != "" {
		var err error
		if raw, err = url.PathUnescape(raw); err != nil {
			return membership.Errorf(membership.Invalid, "invalid_email", "email is not a valid address")
		}
	}
	email := membership.NormalizeEmail(raw)
	if !membership.ValidEmail(email) {
		return membership.Errorf(membership.Invalid, "invalid_email", "email is not a valid address")
	}
	if err := s.Applier.RemoveManualSeat(c.Request().Context(), c.Param("plan_id"), email, actor(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
