package server

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/time/rate"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

// defaultWebhookMaxInFlight is Deps.WebhookMaxInFlight's default.
const defaultWebhookMaxInFlight = 256

// rateLimited wraps authn so that each authenticated request then passes a
// token bucket of its own subject: one token's burst never slows another, and
// clients behind one NAT or proxy don't share a bucket as they would keyed by
// IP. Unauthenticated requests are refused by authn before they reach a
// bucket, so only holders of valid tokens can add keys to it. Buckets live in
// process memory, so the limit is per replica. APIRate ≤ 0 turns it off.
func (s *Server) rateLimited(authn echo.MiddlewareFunc) echo.MiddlewareFunc {
	if s.APIRate <= 0 {
		return authn
	}
	burst := max(s.APIBurst, 1)
	// Retry-After is when the bucket holds one token again (whole seconds, at least one).
	retryAfter := strconv.Itoa(max(1, int(math.Ceil(1/s.APIRate))))
	// A bucket idle until it would be full again is forgotten: a new one is the same.
	refill := time.Duration(float64(burst) / s.APIRate * float64(time.Second))
	limit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(s.APIRate), Burst: burst, ExpiresIn: max(refill, time.Minute),
		}),
		IdentifierExtractor: func(c echo.Context) (string, error) {
			p, ok := auth.PrincipalFrom(c)
			if !ok {
				return "", errors.New("rate limit: no authenticated principal")
			}
			return rateKey(p), nil
		},
		ErrorHandler: func(_ echo.Context, err error) error { return err },
		DenyHandler: func(c echo.Context, _ string, _ error) error {
			c.Response().Header().Set("Retry-After", retryAfter)
			return membership.Errorf(membership.TooMany, "rate_limited", "too many requests with this token; retry after %s s", retryAfter)
		},
	})
	return func(next echo.HandlerFunc) echo.HandlerFunc { return authn(limit(next)) }
}

// rateKey is the bucket of a token: its subject, with service tokens kept
// apart from an admin who happens to have the same subject.
func rateKey(p auth.Principal) string {
	if p.Service {
		return "service:" + p.Email
	}
	return "admin:" + p.Email
}

// inFlight bounds the requests a route serves at once. One more is refused at
// once with 503 overloaded (and Retry-After) instead of queueing without
// bound: WorkOS retries, and the requests already admitted keep their share
// of database connections and memory.
func inFlight(limit int) echo.MiddlewareFunc {
	if limit <= 0 {
		limit = defaultWebhookMaxInFlight
	}
	slots := make(chan struct{}, limit)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			select {
			case slots <- struct{}{}:
				defer func() { <-slots }()
				return next(c)
			default:
				return membership.Errorf(membership.Unavailable, "overloaded", "too many requests in flight; retry later")
			}
		}
	}
}
