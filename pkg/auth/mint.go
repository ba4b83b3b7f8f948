package auth

import (
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatsync/seatsync/pkg/membership"
)

// MinSecretLen is the shortest HS256 secret accepted, in bytes: RFC 7518 §3.2
// asks for a key at least as long as the hash output.
const MinSecretLen = 32

// Mint returns an HS256 token for p, signed with secret, issued at now and
// expiring ttl later. iss and aud are set only when issuer and audience are
// non-empty; scope is "service" when p.Service. It serves the `seatsync token`
// command and tests.
func Mint(secret string, p Principal, ttl time.Duration, now time.Time, issuer, audience string) (string, error) {
	if len(secret) < MinSecretLen {
		return "", fmt.Errorf("mint token: secret is %d bytes, want at least %d", len(secret), MinSecretLen)
	}
	if ttl <= 0 {
		return "", fmt.Errorf("mint token: ttl %v is not positive", ttl)
	}
	sub := membership.NormalizeEmail(p.Email)
	if sub == "" {
		return "", errors.New("mint token: empty email")
	}
	c := claims{RegisteredClaims: jwt.RegisteredClaims{
		Subject:   sub,
		Issuer:    issuer,
		IssuedAt:  jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}
	if audience != "" {
		c.Audience = jwt.ClaimStrings{audience}
	}
	if p.Service {
		c.Scope = scopes{ServiceScope}
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString([]byte(secret))
	if err != nil {
		return "", fmt.Errorf("mint token: %w", err)
	}
	return s, nil
}
