package auth

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

// principalKey is the echo.Context key under which Middleware stores the Principal.
const principalKey = "seatsync.auth.principal"

// Middleware authenticates each request by its "Authorization: Bearer <token>"
// header and stores the Principal for PrincipalFrom. It writes no response: it
// returns a *membership.Error of Kind Unauthorized, code "missing_token" when no
// bearer token is presented or "invalid_token" when it is rejected, for the
// central error handler to render. It sets WWW-Authenticate as RFC 6750 asks.
func (v *Verifier) Middleware() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, err := bearer(c.Request().Header.Values(echo.HeaderAuthorization))
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="seatsync"`)
				return err
			}
			p, err := v.VerifyContext(c.Request().Context(), token)
			if err != nil {
				c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="seatsync", error="invalid_token"`)
				return err
			}
			c.Set(principalKey, p)
			return next(c)
		}
	}
}

// PrincipalFrom returns the Principal Middleware stored in c, and whether there was one.
func PrincipalFrom(c echo.Context) (Principal, bool) {
	p, ok := c.Get(principalKey).(Principal)
	return p, ok
}

// bearer extracts the token from the Authorization header values. The scheme is
// case-insensitive (RFC 7235). More than one header is refused rather than
// guessing which one a proxy meant.
func bearer(values []string) (string, error) {
	switch len(values) {
	case 0:
		return "", missingToken("no Authorization header")
	case 1:
	default:
		return "", membership.Errorf(membership.Unauthorized, "invalid_token", "more than one Authorization header")
	}
	scheme, token, _ := strings.Cut(strings.TrimSpace(values[0]), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", missingToken("Authorization header must use the Bearer scheme")
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return "", missingToken("empty bearer token")
	}
	return token, nil
}

func missingToken(msg string) *membership.Error {
	return membership.Errorf(membership.Unauthorized, "missing_token", "%s", msg)
}
