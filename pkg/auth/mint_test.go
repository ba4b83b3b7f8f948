package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatsync/seatsync/pkg/auth"
)

func TestMint_roundTrip(t *testing.T) {
	t.Parallel()
	v := newHSVerifier(t)
	tests := []struct {
		name string
		in   auth.Principal
		want auth.Principal
	}{
		{"admin", auth.Principal{Email: " Ann@Example.com"}, auth.Principal{Email: "ann@example.com"}},
		{"service", auth.Principal{Email: "billing@vendor.test", Service: true}, auth.Principal{Email: "billing@vendor.test", Service: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := auth.Mint(testSecret, tt.in, time.Hour, testNow, testIssuer, testAudience)
			if err != nil {
				t.Fatalf("Mint: %v", err)
			}
			got, err := v.Verify(tok)
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestMint_claims(t *testing.T) {
	t.Parallel()
	tok, err := auth.Mint(testSecret, auth.Principal{Email: "b@x.test", Service: true}, 10*time.Minute, testNow, "", "")
	if err != nil {
		t.Fatal(err)
	}
	c := jwt.MapClaims{}
	if _, _, err := jwt.NewParser().ParseUnverified(tok, c); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"sub": "b@x.test", "scope": "service",
		"iat": float64(testNow.Unix()), "exp": float64(testNow.Add(10 * time.Minute).Unix()),
	}
	if len(c) != len(want) {
		t.Errorf("claims = %v, want exactly %v", c, want)
	}
	for k, w := range want {
		if c[k] != w {
			t.Errorf("claim %s = %v, want %v", k, c[k], w)
		}
	}
}

func TestMint_rejectsBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		secret string
		p      auth.Principal
		ttl    time.Duration
		msg    string
	}{
		{"short secret", "short", auth.Principal{Email: "a@x.test"}, time.Hour, "want at least 32"},
		{"empty email", testSecret, auth.Principal{Email: "  "}, time.Hour, "empty email"},
		{"zero ttl", testSecret, auth.Principal{Email: "a@x.test"}, 0, "not positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.Mint(tt.secret, tt.p, tt.ttl, testNow, "", "")
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to contain %q", err, tt.msg)
			}
		})
	}
}
