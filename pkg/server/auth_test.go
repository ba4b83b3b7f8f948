package server_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store/storetest"
)

// mint signs a token for the plan admin with the given secret, clock and claims.
func mint(t *testing.T, secret string, service bool, now time.Time, ttl time.Duration, issuer, audience string) string {
	t.Helper()
	tok, err := auth.Mint(secret, auth.Principal{Email: adminEmail, Service: service}, ttl, now, issuer, audience)
	if err != nil {
		t.Fatalf("Mint: %v", err)
	}
	return tok
}

// unsigned is an "alg: none" token with valid claims.
func unsigned(t *testing.T, claims map[string]any) string {
	t.Helper()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "none", "typ": "JWT"}) + "." + enc(claims) + "."
}

func TestAdminAuth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		seed(t, ts.e)
		path := "/api/v1/plans/" + planID
		now := time.Now()
		claims := map[string]any{"sub": adminEmail, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
		noExp, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": adminEmail, "iat": now.Unix()}).SignedString([]byte(jwtSecret))
		if err != nil {
			t.Fatal(err)
		}
		noSub, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}).
			SignedString([]byte(jwtSecret))
		if err != nil {
			t.Fatal(err)
		}
		hs512, err := jwt.NewWithClaims(jwt.SigningMethodHS512, jwt.MapClaims(claims)).SignedString([]byte(jwtSecret))
		if err != nil {
			t.Fatal(err)
		}
		invalid := func(name, tok string) scenario {
			return scenario{name: name, path: path, headers: bearer(tok), status: http.StatusUnauthorized, code: "invalid_token",
				excludes:    []string{tok, jwtSecret},
				respHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="seatsync", error="invalid_token"`}}
		}
		missing := func(name string, h map[string]string) scenario {
			return scenario{name: name, path: path, headers: h, status: http.StatusUnauthorized, code: "missing_token",
				respHeaders: map[string]string{"WWW-Authenticate": `Bearer realm="seatsync"`}}
		}
		otherSecret := "another-secret-of-at-least-32-bytes-000"
		run(t, ts.e, []scenario{
			{name: "valid", path: path, headers: bearer(mint(t, jwtSecret, false, now, time.Hour, "", "")), status: http.StatusOK},
			{name: "scheme in lower case", path: path, headers: map[string]string{"Authorization": "bearer " + mint(t, jwtSecret, false, now, time.Hour, "", "")},
				status: http.StatusOK},
			missing("no Authorization header", nil),
			missing("Basic scheme", map[string]string{"Authorization": "Basic YWRtaW46cGFzcw=="}),
			missing("empty bearer", map[string]string{"Authorization": "Bearer "}),
			missing("token without scheme", map[string]string{"Authorization": mint(t, jwtSecret, false, now, time.Hour, "", "")}),
			invalid("garbage", "garbage"),
			invalid("three garbage segments", "a.b.c"),
			invalid("expired", mint(t, jwtSecret, false, now.Add(-2*time.Hour), time.Hour, "", "")),
			invalid("issued in the future", mint(t, jwtSecret, false, now.Add(time.Hour), time.Hour, "", "")),
			invalid("alg none", unsigned(t, claims)),
			invalid("alg none, service scope", unsigned(t, map[string]any{"sub": "x@acme.test", "scope": "service", "exp": now.Add(time.Hour).Unix()})),
			invalid("another secret", mint(t, otherSecret, false, now, time.Hour, "", "")),
			invalid("another secret, service scope", mint(t, otherSecret, true, now, time.Hour, "", "")),
			invalid("HS512", hs512),
			invalid("no expiry", noExp),
			invalid("no subject", noSub),
			{name: "two Authorization headers", path: path, status: http.StatusUnauthorized, code: "invalid_token",
				prepare: func(r *http.Request) {
					tok := mint(t, jwtSecret, false, now, time.Hour, "", "")
					r.Header.Add("Authorization", "Bearer "+tok)
					r.Header.Add("Authorization", "Bearer "+tok)
				}},
			{name: "expired, with its reason", path: path, headers: bearer(mint(t, jwtSecret, false, now.Add(-2*time.Hour), time.Hour, "", "")),
				status: http.StatusUnauthorized, contains: []string{"expired"}},
		})
	})
}

func TestAdminAuthAudience(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		const iss, aud = "https://billing.acme.test", "seatsync-api"
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{Issuer: iss, Audience: aud})
		now := time.Now()
		tok := func(service bool, issuer, audience string) map[string]string {
			return bearer(mint(t, jwtSecret, service, now, time.Hour, issuer, audience))
		}
		path := "/api/v1/organizations/" + orgID
		body := `{"name":"Acme"}`
		run(t, ts.e, []scenario{
			{name: "right audience and issuer", method: http.MethodPut, path: path, headers: tok(true, iss, aud), body: body, status: http.StatusOK},
			{name: "wrong audience", method: http.MethodPut, path: path, headers: tok(true, iss, "another-api"), body: body,
				status: http.StatusUnauthorized, code: "invalid_token", contains: []string{"audience"}},
			{name: "no audience", method: http.MethodPut, path: path, headers: tok(true, iss, ""), body: body,
				status: http.StatusUnauthorized, code: "invalid_token", contains: []string{"audience"}},
			{name: "wrong issuer", method: http.MethodPut, path: path, headers: tok(true, "https://evil.test", aud), body: body,
				status: http.StatusUnauthorized, code: "invalid_token", contains: []string{"issuer"}},
			{name: "no issuer", method: http.MethodPut, path: path, headers: tok(true, "", aud), body: body,
				status: http.StatusUnauthorized, code: "invalid_token"},
		})
	})
}
