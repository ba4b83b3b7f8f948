package auth_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

const (
	testSecret   = "0123456789abcdef0123456789abcdef" // 32 bytes
	testIssuer   = "https://issuer.test"
	testAudience = "seatsync"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// validClaims returns claims that pass a verifier configured with testIssuer and testAudience.
func validClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "Admin@Example.com",
		"iss": testIssuer,
		"aud": testAudience,
		"iat": testNow.Unix(),
		"exp": testNow.Add(time.Hour).Unix(),
	}
}

// with returns a copy of base with set applied; a nil value deletes the claim.
func with(base jwt.MapClaims, set jwt.MapClaims) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range set {
		if v == nil {
			delete(out, k)
			continue
		}
		out[k] = v
	}
	return out
}

// sign signs c with method and key, adding a kid header when kid is non-empty.
func sign(t *testing.T, method jwt.SigningMethod, key any, kid string, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, c)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

func hs256(t *testing.T, c jwt.MapClaims) string {
	t.Helper()
	return sign(t, jwt.SigningMethodHS256, []byte(testSecret), "", c)
}

func newHSVerifier(t *testing.T) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), auth.Options{
		HS256Secret: testSecret, Issuer: testIssuer, Audience: testAudience, Now: fixedNow,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

// wantRejected asserts err is an Unauthorized *membership.Error with code, whose
// message contains msg and does not echo token.
func wantRejected(t *testing.T, err error, code, msg, token string) {
	t.Helper()
	var e *membership.Error
	if !errors.As(err, &e) {
		t.Fatalf("err = %v, want a *membership.Error", err)
	}
	if e.Kind != membership.Unauthorized || e.Code != code {
		t.Errorf("kind, code = %v, %q; want unauthorized, %q", e.Kind, e.Code, code)
	}
	if !strings.Contains(e.Message, msg) {
		t.Errorf("message = %q, want it to contain %q", e.Message, msg)
	}
	if token != "" && strings.Contains(err.Error(), token) {
		t.Errorf("error %q echoes the token", err)
	}
}

func TestVerify_accepts(t *testing.T) {
	t.Parallel()
	v := newHSVerifier(t)
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   auth.Principal
	}{
		{"admin, email normalized", with(validClaims(), jwt.MapClaims{"sub": "  Admin@Example.COM "}),
			auth.Principal{Email: "admin@example.com"}},
		{"service scope", with(validClaims(), jwt.MapClaims{"sub": "billing@vendor.test", "scope": "service"}),
			auth.Principal{Email: "billing@vendor.test", Service: true}},
		{"service among several scopes", with(validClaims(), jwt.MapClaims{"scope": "read service write"}),
			auth.Principal{Email: "admin@example.com", Service: true}},
		{"service scope as an array", with(validClaims(), jwt.MapClaims{"scope": []string{"service"}}),
			auth.Principal{Email: "admin@example.com", Service: true}},
		{"a scope that only contains the word", with(validClaims(), jwt.MapClaims{"scope": "services"}),
			auth.Principal{Email: "admin@example.com"}},
		{"audience among several", with(validClaims(), jwt.MapClaims{"aud": []string{"other", testAudience}}),
			auth.Principal{Email: "admin@example.com"}},
		{"expired within the leeway", with(validClaims(), jwt.MapClaims{"exp": testNow.Add(-20 * time.Second).Unix()}),
			auth.Principal{Email: "admin@example.com"}},
		{"nbf within the leeway", with(validClaims(), jwt.MapClaims{"nbf": testNow.Add(20 * time.Second).Unix()}),
			auth.Principal{Email: "admin@example.com"}},
		{"no iat", with(validClaims(), jwt.MapClaims{"iat": nil}),
			auth.Principal{Email: "admin@example.com"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Verify(hs256(t, tt.claims))
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestVerify_withoutIssuerOrAudienceIgnoresThem(t *testing.T) {
	t.Parallel()
	v, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: testSecret, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	got, err := v.Verify(hs256(t, with(validClaims(), jwt.MapClaims{"iss": nil, "aud": "anyone"})))
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := (auth.Principal{Email: "admin@example.com"}); got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestVerify_rejects(t *testing.T) {
	t.Parallel()
	v := newHSVerifier(t)
	none := sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, "", validClaims())
	valid := hs256(t, validClaims())
	head, rest, _ := strings.Cut(valid, ".")
	_, sig, _ := strings.Cut(rest, ".")
	forged := hs256(t, with(validClaims(), jwt.MapClaims{"scope": "service"}))
	_, forgedRest, _ := strings.Cut(forged, ".")
	forgedBody, _, _ := strings.Cut(forgedRest, ".")

	tests := []struct {
		name  string
		token string
		msg   string
	}{
		{"expired", hs256(t, with(validClaims(), jwt.MapClaims{"exp": testNow.Add(-time.Minute).Unix()})), "token expired"},
		{"no exp", hs256(t, with(validClaims(), jwt.MapClaims{"exp": nil})), "token has no expiry"},
		{"not yet valid", hs256(t, with(validClaims(), jwt.MapClaims{"nbf": testNow.Add(time.Hour).Unix()})), "token not valid yet"},
		{"issued in the future", hs256(t, with(validClaims(), jwt.MapClaims{"iat": testNow.Add(time.Hour).Unix()})), "issued in the future"},
		{"no sub", hs256(t, with(validClaims(), jwt.MapClaims{"sub": nil})), "token has no subject"},
		{"blank sub", hs256(t, with(validClaims(), jwt.MapClaims{"sub": "   "})), "token has no subject"},
		{"wrong issuer", hs256(t, with(validClaims(), jwt.MapClaims{"iss": "https://evil.test"})), "wrong issuer"},
		{"no issuer", hs256(t, with(validClaims(), jwt.MapClaims{"iss": nil})), "token has no issuer"},
		{"wrong audience", hs256(t, with(validClaims(), jwt.MapClaims{"aud": "other"})), "wrong audience"},
		{"no audience", hs256(t, with(validClaims(), jwt.MapClaims{"aud": nil})), "token has no audience"},
		{"other secret", sign(t, jwt.SigningMethodHS256, []byte(strings.Repeat("x", 32)), "", validClaims()), "bad signature"},
		{"payload swapped under a valid signature", head + "." + forgedBody + "." + sig, "bad signature"},
		{"alg none", none, "signing algorithm not allowed"},
		{"alg none, hand-made", `eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.` + forgedBody + `.`, "signing algorithm not allowed"},
		{"HS384 with the right secret", sign(t, jwt.SigningMethodHS384, []byte(testSecret), "", validClaims()), "signing algorithm not allowed"},
		{"HS512 with the right secret", sign(t, jwt.SigningMethodHS512, []byte(testSecret), "", validClaims()), "signing algorithm not allowed"},
		{"RS256 on an HS256-only verifier", sign(t, jwt.SigningMethodRS256, newRSAKey(t), "k1", validClaims()), "signing algorithm not allowed"},
		{"unknown alg", `eyJhbGciOiJYWVoifQ.` + forgedBody + `.` + sig, "signing algorithm not allowed"},
		{"over 8 KiB", hs256(t, with(validClaims(), jwt.MapClaims{"pad": strings.Repeat("a", auth.MaxTokenSize)})), "longer than 8192 bytes"},
		{"malformed", "not-a-jwt", "malformed token"},
		{"empty", "", "malformed token"},
		{"scope of the wrong type", hs256(t, with(validClaims(), jwt.MapClaims{"scope": 42})), "malformed token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := v.Verify(tt.token)
			if err == nil {
				t.Fatalf("Verify = %+v, nil; want an error", got)
			}
			wantRejected(t, err, "invalid_token", tt.msg, tt.token)
		})
	}
}

func TestNewVerifier_rejectsBadOptions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		opts auth.Options
		msg  string
	}{
		{"neither secret nor JWKS", auth.Options{Issuer: testIssuer}, "need an HS256 secret or a JWKS URL"},
		{"short secret", auth.Options{HS256Secret: "too-short"}, "want at least 32"},
		{"plain http off loopback", auth.Options{JWKSURL: "http://idp.example.com/jwks"}, "must be https"},
		{"relative URL", auth.Options{JWKSURL: "/jwks"}, "not an absolute URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.NewVerifier(t.Context(), tt.opts)
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %v, want it to contain %q", err, tt.msg)
			}
		})
	}
}
