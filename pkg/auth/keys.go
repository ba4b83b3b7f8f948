package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

const (
	// jwksTimeout bounds one JWKS fetch and a request's wait for the refresh limiter.
	jwksTimeout = 10 * time.Second
	// jwksRefresh is the background refresh period.
	jwksRefresh = time.Hour
	// unknownKIDEvery spaces refreshes triggered by unknown key IDs, so tokens with
	// made-up key IDs cannot make us hammer the identity provider.
	unknownKIDEvery = time.Minute
)

// errNoKey wraps every failure to find the verification key.
var errNoKey = errors.New("no verification key")

// keyfunc picks the key by the token's algorithm, which the parser has already
// checked against the allow-list: the shared secret for HS256 only, and a JWKS
// key for RS256 and ES256 only. A JWKS can never supply an HMAC key, and the
// secret is never handed to an asymmetric method.
func (v *Verifier) keyfunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
		switch t.Method.Alg() {
		case jwt.SigningMethodHS256.Alg():
			if v.secret == nil {
				return nil, errNoKey
			}
			return v.secret, nil
		case jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg():
			if v.jwks == nil {
				return nil, errNoKey
			}
			key, err := v.jwks.KeyfuncCtx(ctx)(t)
			if err != nil {
				return nil, fmt.Errorf("%w: %w", errNoKey, err)
			}
			return key, nil
		}
		return nil, errNoKey
	}
}

// newJWKS starts a JWKS client that refreshes hourly until ctx ends, and also
// when a token names an unknown key ID (the identity provider rotated keys),
// at most once per unknownKIDEvery.
func newJWKS(ctx context.Context, opts Options) (keyfunc.Keyfunc, error) {
	if err := checkJWKSURL(opts.JWKSURL); err != nil {
		return nil, err
	}
	client := opts.HTTPClient
	if client == nil {
		client = &http.Client{Timeout: jwksTimeout}
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{opts.JWKSURL}, keyfunc.Override{
		Client:          client,
		HTTPTimeout:     jwksTimeout,
		RefreshInterval: jwksRefresh,
		// The wait also bounds the refresh fetch itself, so it cannot be shorter than a fetch.
		RateLimitWaitMax:  jwksTimeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(unknownKIDEvery), 1),
		RefreshErrorHandlerFunc: func(string) func(context.Context, error) {
			return func(ctx context.Context, err error) {
				log.WarnContext(ctx, "refresh jwks", "err", err)
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("jwks: %w", err)
	}
	return kf, nil
}

// checkJWKSURL insists on https so keys cannot be swapped in transit; plain
// http is allowed on loopback for development.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return errors.New("jwks url is not an absolute URL")
	}
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return fmt.Errorf("jwks url must be https (http only on loopback), got scheme %q", u.Scheme)
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
