package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"

	"github.com/seatsync/seatsync/pkg/membership"
)

const (
	// MaxTokenSize is the longest token Verify will parse, in bytes (8 KiB).
	MaxTokenSize = 8 << 10
	// Leeway is the clock skew tolerated on the exp, nbf and iat claims.
	Leeway = 30 * time.Second
)

// Options configures a Verifier. At least one of HS256Secret and JWKSURL is required;
// with both, tokens of either kind are accepted.
type Options struct {
	// HS256Secret, when set, accepts HS256 tokens signed with it. At least MinSecretLen bytes.
	HS256Secret string
	// JWKSURL, when set, accepts RS256 and ES256 tokens signed by a key of the JSON Web Key
	// Set published there. It must be https, or http on a loopback host.
	JWKSURL string
	// Issuer, when set, must equal the token's "iss".
	Issuer string
	// Audience, when set, must be one of the token's "aud".
	Audience string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// HTTPClient fetches the JWKS; nil means a new client with a 10-second timeout.
	HTTPClient *http.Client
	// Logger receives JWKS refresh failures; nil discards them.
	Logger *slog.Logger
}

// Verifier checks bearer tokens. It is safe for concurrent use.
type Verifier struct {
	secret   []byte
	jwks     keyfunc.Keyfunc // nil without a JWKS URL
	methods  []string
	issuer   string
	audience string
	parser   *jwt.Parser
}

// NewVerifier builds a Verifier. With a JWKS URL it fetches the key set once (a
// failure is logged, not returned, so an identity provider outage does not stop
// the server; the next token with an unknown key ID retries) and then refreshes it
// hourly in a goroutine that ends when ctx is cancelled.
func NewVerifier(ctx context.Context, opts Options) (*Verifier, error) {
	if opts.HS256Secret == "" && opts.JWKSURL == "" {
		return nil, errors.New("new verifier: need an HS256 secret or a JWKS URL")
	}
	v := &Verifier{issuer: opts.Issuer, audience: opts.Audience}
	if opts.HS256Secret != "" {
		if len(opts.HS256Secret) < MinSecretLen {
			return nil, fmt.Errorf("new verifier: HS256 secret is %d bytes, want at least %d", len(opts.HS256Secret), MinSecretLen)
		}
		v.secret = []byte(opts.HS256Secret)
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if opts.JWKSURL != "" {
		kf, err := newJWKS(ctx, opts)
		if err != nil {
			return nil, fmt.Errorf("new verifier: %w", err)
		}
		v.jwks = kf
		v.methods = append(v.methods, jwt.SigningMethodRS256.Alg(), jwt.SigningMethodES256.Alg())
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	popts := []jwt.ParserOption{
		// The allow-list is what stops "alg: none" and HS/RS confusion.
		jwt.WithValidMethods(v.methods),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(now),
		jwt.WithStrictDecoding(),
	}
	if opts.Issuer != "" {
		popts = append(popts, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		popts = append(popts, jwt.WithAudience(opts.Audience))
	}
	v.parser = jwt.NewParser(popts...)
	return v, nil
}

// Verify is VerifyContext without a caller's context; an unknown key ID still
// triggers at most one bounded JWKS fetch.
func (v *Verifier) Verify(token string) (Principal, error) {
	return v.VerifyContext(context.Background(), token)
}

// VerifyContext checks token and returns its Principal. ctx bounds the JWKS
// fetch an unknown key ID may trigger. Every failure is a *membership.Error of
// Kind Unauthorized with code "invalid_token"; its message says why and never
// contains the token.
func (v *Verifier) VerifyContext(ctx context.Context, token string) (Principal, error) {
	if len(token) > MaxTokenSize {
		return Principal{}, invalidToken("token is longer than %d bytes", MaxTokenSize)
	}
	var c claims
	tok, err := v.parser.ParseWithClaims(token, &c, v.keyfunc(ctx))
	if err != nil {
		return Principal{}, invalidToken("%s", v.reason(tok, &c, err))
	}
	email := membership.NormalizeEmail(c.Subject)
	if email == "" {
		return Principal{}, invalidToken("token has no subject")
	}
	return Principal{Email: email, Service: c.Scope.has(ServiceScope)}, nil
}

func invalidToken(format string, args ...any) *membership.Error {
	return membership.Errorf(membership.Unauthorized, "invalid_token", format, args...)
}
