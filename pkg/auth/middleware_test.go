package auth_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

// errorHandler stands in for pkg/server's: Kind picks the status, and the body is
// {"error":{"code":…,"message":…}}.
func errorHandler(err error, c echo.Context) {
	status, code, msg := http.StatusInternalServerError, "internal", "internal error"
	var e *membership.Error
	if errors.As(err, &e) {
		code, msg = e.Code, e.Message
		switch e.Kind {
		case membership.Unauthorized:
			status = http.StatusUnauthorized
		case membership.Forbidden:
			status = http.StatusForbidden
		}
	}
	_ = c.JSON(status, map[string]map[string]string{"error": {"code": code, "message": msg}})
}

func newEcho(t *testing.T) *echo.Echo {
	t.Helper()
	e := echo.New()
	e.HTTPErrorHandler = errorHandler
	e.GET("/whoami", func(c echo.Context) error {
		p, ok := auth.PrincipalFrom(c)
		if !ok {
			return errors.New("no principal")
		}
		return c.JSON(http.StatusOK, p)
	}, newHSVerifier(t).Middleware())
	return e
}

func TestMiddleware(t *testing.T) {
	t.Parallel()
	e := newEcho(t)
	admin := hs256(t, validClaims())
	tests := []struct {
		name       string
		auth       []string // Authorization header values
		wantStatus int
		wantCode   string // error code, or "" for success
		wantEmail  string
	}{
		{"valid token reaches the handler", []string{"Bearer " + admin}, http.StatusOK, "", "admin@example.com"},
		{"scheme is case-insensitive", []string{"bearer " + admin}, http.StatusOK, "", "admin@example.com"},
		{"upper-case scheme", []string{"BEARER " + admin}, http.StatusOK, "", "admin@example.com"},
		{"missing header", nil, http.StatusUnauthorized, "missing_token", ""},
		{"empty header", []string{""}, http.StatusUnauthorized, "missing_token", ""},
		{"scheme without token", []string{"Bearer"}, http.StatusUnauthorized, "missing_token", ""},
		{"scheme with blank token", []string{"Bearer   "}, http.StatusUnauthorized, "missing_token", ""},
		{"wrong scheme", []string{"Basic YWRtaW46cGFzcw=="}, http.StatusUnauthorized, "missing_token", ""},
		{"token without scheme", []string{admin}, http.StatusUnauthorized, "missing_token", ""},
		{"two Authorization headers", []string{"Bearer " + admin, "Bearer " + admin}, http.StatusUnauthorized, "invalid_token", ""},
		{"invalid token", []string{"Bearer " + admin + "x"}, http.StatusUnauthorized, "invalid_token", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(http.MethodGet, "/whoami", nil)
			for _, v := range tt.auth {
				req.Header.Add("Authorization", v)
			}
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, req)

			if rec.Code != tt.wantStatus {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantCode == "" {
				var got auth.Principal
				if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
					t.Fatal(err)
				}
				if got.Email != tt.wantEmail {
					t.Errorf("principal email = %q, want %q", got.Email, tt.wantEmail)
				}
				return
			}
			var body struct {
				Error struct{ Code, Message string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
				t.Fatal(err)
			}
			if body.Error.Code != tt.wantCode {
				t.Errorf("code = %q, want %q (message %q)", body.Error.Code, tt.wantCode, body.Error.Message)
			}
			if got := rec.Header().Get("WWW-Authenticate"); got == "" {
				t.Error("WWW-Authenticate is missing on a 401")
			}
		})
	}
}

func TestPrincipalFrom_withoutMiddleware(t *testing.T) {
	t.Parallel()
	c := echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/", nil), httptest.NewRecorder())
	if p, ok := auth.PrincipalFrom(c); ok {
		t.Errorf("PrincipalFrom = %+v, true; want false", p)
	}
}
