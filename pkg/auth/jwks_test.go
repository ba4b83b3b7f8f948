package auth_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/seatsync/seatsync/pkg/auth"
)

func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newECKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var b64 = base64.RawURLEncoding.EncodeToString

func rsaJWK(kid string, pub *rsa.PublicKey) map[string]any {
	return map[string]any{
		"kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
		"n": b64(pub.N.Bytes()), "e": b64(big.NewInt(int64(pub.E)).Bytes()),
	}
}

func ecJWK(t *testing.T, kid string, pub *ecdsa.PublicKey) map[string]any {
	t.Helper()
	b, err := pub.Bytes() // 0x04 || X || Y, 32 bytes each on P-256
	if err != nil {
		t.Fatal(err)
	}
	return map[string]any{
		"kty": "EC", "kid": kid, "alg": "ES256", "use": "sig", "crv": "P-256",
		"x": b64(b[1:33]), "y": b64(b[33:]),
	}
}

func jwksJSON(t *testing.T, keys ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"keys": keys})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// jwksServer serves a JWK Set over TLS that a test can swap or break, counting fetches.
type jwksServer struct {
	*httptest.Server
	hits   atomic.Int32
	mu     sync.Mutex
	body   []byte
	status int
}

func newJWKSServer(t *testing.T, body []byte) *jwksServer {
	t.Helper()
	s := &jwksServer{body: body, status: http.StatusOK}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.hits.Add(1)
		s.mu.Lock()
		defer s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(s.status)
		_, _ = w.Write(s.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) serve(status int, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status, s.body = status, body
}

func newJWKSVerifier(t *testing.T, s *jwksServer, secret string) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier(t.Context(), auth.Options{
		HS256Secret: secret, JWKSURL: s.URL + "/jwks", HTTPClient: s.Client(),
		Issuer: testIssuer, Audience: testAudience, Now: fixedNow,
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	return v
}

func publicPEM(t *testing.T, pub *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func TestVerify_JWKS(t *testing.T) {
	t.Parallel()
	rk, ek, other := newRSAKey(t), newECKey(t), newRSAKey(t)
	s := newJWKSServer(t, jwksJSON(t, rsaJWK("r1", &rk.PublicKey), ecJWK(t, "e1", &ek.PublicKey)))
	jwksOnly := newJWKSVerifier(t, s, "")
	both := newJWKSVerifier(t, s, testSecret)
	pemKey := publicPEM(t, &rk.PublicKey)
	derKey := x509.MarshalPKCS1PublicKey(&rk.PublicKey)
	admin := auth.Principal{Email: "admin@example.com"}

	tests := []struct {
		name  string
		v     *auth.Verifier
		token string
		msg   string // "" means the token is accepted as admin
	}{
		{"RS256", jwksOnly, sign(t, jwt.SigningMethodRS256, rk, "r1", validClaims()), ""},
		{"ES256", jwksOnly, sign(t, jwt.SigningMethodES256, ek, "e1", validClaims()), ""},
		{"RS256 without kid tries every key", jwksOnly, sign(t, jwt.SigningMethodRS256, rk, "", validClaims()), ""},
		{"RS256 and HS256 both configured", both, sign(t, jwt.SigningMethodRS256, rk, "r1", validClaims()), ""},
		{"HS256 and RS256 both configured", both, hs256(t, validClaims()), ""},
		{"HS256 on a JWKS-only verifier", jwksOnly, hs256(t, validClaims()), "signing algorithm not allowed"},
		{"HS256 keyed with the RSA public key PEM", jwksOnly, sign(t, jwt.SigningMethodHS256, pemKey, "r1", validClaims()), "signing algorithm not allowed"},
		{"HS256 keyed with the RSA public key DER", jwksOnly, sign(t, jwt.SigningMethodHS256, derKey, "r1", validClaims()), "signing algorithm not allowed"},
		{"HS256 keyed with the RSA public key PEM, secret also configured", both, sign(t, jwt.SigningMethodHS256, pemKey, "r1", validClaims()), "bad signature"},
		{"RS384", jwksOnly, sign(t, jwt.SigningMethodRS384, rk, "r1", validClaims()), "signing algorithm not allowed"},
		{"PS256", jwksOnly, sign(t, jwt.SigningMethodPS256, rk, "r1", validClaims()), "signing algorithm not allowed"},
		{"another RSA key under a known kid", jwksOnly, sign(t, jwt.SigningMethodRS256, other, "r1", validClaims()), "bad signature"},
		{"ES256 under an RS256 kid", jwksOnly, sign(t, jwt.SigningMethodES256, ek, "r1", validClaims()), "no matching signing key"},
		{"expired RS256", jwksOnly, sign(t, jwt.SigningMethodRS256, rk, "r1", with(validClaims(), jwt.MapClaims{"exp": testNow.Add(-time.Hour).Unix()})), "token expired"},
		{"wrong audience RS256", jwksOnly, sign(t, jwt.SigningMethodRS256, rk, "r1", with(validClaims(), jwt.MapClaims{"aud": "x"})), "wrong audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.v.Verify(tt.token)
			if tt.msg == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if got != admin {
					t.Errorf("got %+v, want %+v", got, admin)
				}
				return
			}
			wantRejected(t, err, "invalid_token", tt.msg, tt.token)
		})
	}
}

func TestVerify_JWKSRotation(t *testing.T) {
	t.Parallel()
	k1, k2 := newRSAKey(t), newRSAKey(t)
	s := newJWKSServer(t, jwksJSON(t, rsaJWK("k1", &k1.PublicKey)))
	v := newJWKSVerifier(t, s, "")
	old := sign(t, jwt.SigningMethodRS256, k1, "k1", validClaims())
	if _, err := v.Verify(old); err != nil {
		t.Fatalf("Verify with k1 before rotation: %v", err)
	}

	// The identity provider rotates: k2 replaces k1.
	s.serve(http.StatusOK, jwksJSON(t, rsaJWK("k2", &k2.PublicKey)))
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, k2, "k2", validClaims())); err != nil {
		t.Fatalf("Verify with k2 after rotation: %v", err)
	}
	if got, want := s.hits.Load(), int32(2); got != want {
		t.Errorf("JWKS fetches = %d, want %d (startup, then the unknown kid)", got, want)
	}

	// k1 was dropped by the refresh; the refresh limiter is spent, so this fails
	// at once instead of fetching again.
	start := time.Now()
	_, err := v.Verify(old)
	wantRejected(t, err, "invalid_token", "no matching signing key", old)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("rejecting a revoked kid took %v, want no wait for the limiter", d)
	}
	if got, want := s.hits.Load(), int32(2); got != want {
		t.Errorf("JWKS fetches = %d, want %d", got, want)
	}
}

func TestNewVerifier_JWKSDownAtStartup(t *testing.T) {
	t.Parallel()
	k := newRSAKey(t)
	s := newJWKSServer(t, []byte(`{"error":"down"}`))
	s.serve(http.StatusServiceUnavailable, []byte(`{"error":"down"}`))
	var logs bytes.Buffer
	v, err := auth.NewVerifier(t.Context(), auth.Options{
		JWKSURL: s.URL, HTTPClient: s.Client(), Now: fixedNow,
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatalf("NewVerifier: %v, want it to start without the JWKS", err)
	}
	if !strings.Contains(logs.String(), "refresh jwks") {
		t.Errorf("logs = %q, want the failed fetch logged", logs.String())
	}

	s.serve(http.StatusOK, jwksJSON(t, rsaJWK("k1", &k.PublicKey)))
	got, err := v.Verify(sign(t, jwt.SigningMethodRS256, k, "k1", validClaims()))
	if err != nil {
		t.Fatalf("Verify once the JWKS is back: %v", err)
	}
	if got.Email != "admin@example.com" {
		t.Errorf("got %+v", got)
	}
}

func TestNewVerifier_plainHTTPOnLoopback(t *testing.T) {
	t.Parallel()
	k := newRSAKey(t)
	body := jwksJSON(t, rsaJWK("k1", &k.PublicKey))
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(body) }))
	t.Cleanup(s.Close)
	v, err := auth.NewVerifier(t.Context(), auth.Options{JWKSURL: s.URL, HTTPClient: s.Client(), Now: fixedNow})
	if err != nil {
		t.Fatalf("NewVerifier: %v", err)
	}
	if _, err := v.Verify(sign(t, jwt.SigningMethodRS256, k, "k1", validClaims())); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// roundTripFunc serves HTTP in memory, so the test below can run in a synctest bubble.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewVerifier_refreshStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	body := jwksJSON(t, rsaJWK("k1", &newRSAKey(t).PublicKey))
	synctest.Test(t, func(t *testing.T) {
		var hits atomic.Int32
		client := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
			hits.Add(1)
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(body))}, nil
		})}
		ctx, cancel := context.WithCancel(t.Context())
		if _, err := auth.NewVerifier(ctx, auth.Options{JWKSURL: "https://idp.test/jwks", HTTPClient: client}); err != nil {
			t.Fatalf("NewVerifier: %v", err)
		}
		time.Sleep(61 * time.Minute)
		synctest.Wait()
		if got, want := hits.Load(), int32(2); got != want {
			t.Errorf("fetches after an hour = %d, want %d (startup and one refresh)", got, want)
		}

		cancel()
		time.Sleep(3 * time.Hour)
		synctest.Wait()
		if got, want := hits.Load(), int32(2); got != want {
			t.Errorf("fetches after cancel = %d, want %d", got, want)
		}
		// synctest.Test fails if the refresh goroutine is still alive here.
	})
}
