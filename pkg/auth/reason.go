package auth

import (
	"errors"
	"slices"

	"github.com/golang-jwt/jwt/v5"
)

// reason turns a parse failure into a message that is safe to show: a fixed
// phrase, never the token or text taken from it. tok and c hold whatever the
// parser decoded before it failed.
func (v *Verifier) reason(tok *jwt.Token, c *claims, err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case tok == nil || !v.allows(tok.Header["alg"]):
		return "signing algorithm not allowed"
	case errors.Is(err, errNoKey), errors.Is(err, jwt.ErrTokenUnverifiable):
		return "no matching signing key"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token issued in the future"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return "wrong audience"
	case errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return missingClaim(v, c)
	}
	return "token rejected"
}

// missingClaim names the required claim the token lacks; the parser's error
// only says that one is missing.
func missingClaim(v *Verifier, c *claims) string {
	switch {
	case c.ExpiresAt == nil:
		return "token has no expiry"
	case v.issuer != "" && c.Issuer == "":
		return "token has no issuer"
	case v.audience != "" && len(c.Audience) == 0:
		return "token has no audience"
	}
	return "token lacks a required claim"
}

func (v *Verifier) allows(alg any) bool {
	s, ok := alg.(string)
	return ok && slices.Contains(v.methods, s)
}
