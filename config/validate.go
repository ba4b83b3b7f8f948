package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// devSecrets are the secrets committed in seatsync.dev.yaml. They are public,
// so production refuses them.
var devSecrets = []string{
	"whsec_dev_seatsync_local_only",
	"dev-jwt-secret-seatsync-local-only-0123456789",
}

// Limits enforced by Validate.
const (
	maxTolerance    = time.Hour
	minMaxBody      = 1 << 10
	maxMaxBody      = 64 << 20
	minJWTSecretLen = 32 // bytes; HS256 keys shorter than the hash are guessable
)

// Validate reports every invalid value or combination, one line per problem,
// each naming its key, such as
// "config: webhooks.secrets: required when env=production".
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+key+": "+format, args...))
	}
	prod := c.Env == EnvProduction

	oneOf(bad, "env", c.Env, EnvDev, EnvProduction)
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		bad("listen", "want host:port such as \":8080\": %v", err)
	}

	switch c.Database.Driver {
	case DriverSQLite:
		if c.Database.Path == "" {
			bad("database.path", "required when database.driver=sqlite")
		}
		if prod && !c.Database.ForceSQLite {
			bad("database.driver", "sqlite refused when env=production (use postgres, or set database.force_sqlite)")
		}
	case DriverPostgres:
		if c.Database.URL == "" {
			bad("database.url", "required when database.driver=postgres")
		}
	default:
		oneOf(bad, "database.driver", c.Database.Driver, DriverSQLite, DriverPostgres)
	}
	atLeast(bad, "database.max_open_conns", c.Database.MaxOpenConns, 1)

	if prod && len(cleanList(c.Webhooks.Secrets)) == 0 {
		bad("webhooks.secrets", "required when env=production")
	}
	if c.Webhooks.Tolerance <= 0 || c.Webhooks.Tolerance > maxTolerance {
		bad("webhooks.tolerance", "must be above 0 and at most %v, got %v", maxTolerance, c.Webhooks.Tolerance)
	}
	if c.Webhooks.MaxBody < minMaxBody || c.Webhooks.MaxBody > maxMaxBody {
		bad("webhooks.max_body", "must be between %d and %d bytes, got %d", minMaxBody, maxMaxBody, c.Webhooks.MaxBody)
	}
	atLeast(bad, "webhooks.max_in_flight", c.Webhooks.MaxInFlight, 1)

	if prod {
		for _, s := range c.Webhooks.Secrets {
			refuseDevSecret(bad, "webhooks.secrets", s)
		}
		refuseDevSecret(bad, "workos.api_key", c.WorkOS.APIKey)
		refuseDevSecret(bad, "auth.jwt_secret", c.Auth.JWTSecret)
		if c.Auth.JWTSecret != "" && len(c.Auth.JWTSecret) < minJWTSecretLen {
			bad("auth.jwt_secret", "must be at least %d bytes when env=production", minJWTSecretLen)
		}
	}

	httpURL(bad, "workos.endpoint", c.WorkOS.Endpoint)
	httpURL(bad, "workos.portal_return_url", c.WorkOS.PortalReturnURL)
	httpURL(bad, "workos.portal_success_url", c.WorkOS.PortalSuccessURL)
	httpURL(bad, "auth.jwks_url", c.Auth.JWKSURL)
	httpURL(bad, "saml.login_url", c.SAML.LoginURL)
	notNegative(bad, "workos.events_poll_interval", c.WorkOS.EventsPollInterval)
	notNegative(bad, "workos.reconcile_interval", c.WorkOS.ReconcileInterval)

	atLeast(bad, "seats.test_mode_limit", c.Seats.TestModeLimit, 0)
	notNegative(bad, "seats.cutover_grace", c.Seats.CutoverGrace)
	oneOf(bad, "seats.on_directory_deleted", c.Seats.OnDirectoryDeleted, "keep", "free")
	if c.Seats.GuardShare <= 0 || c.Seats.GuardShare > 1 {
		bad("seats.guard_share", "want a share in (0, 1], got %v", c.Seats.GuardShare)
	}
	atLeast(bad, "seats.guard_min", c.Seats.GuardMin, 0)
	positive(bad, "seats.guard_window", c.Seats.GuardWindow)

	oneOf(bad, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	oneOf(bad, "log.format", c.Log.Format, "", "text", "json")

	atLeast(bad, "applier.workers", c.Applier.Workers, 1)
	atLeast(bad, "applier.batch_size", c.Applier.BatchSize, 1)
	atLeast(bad, "applier.max_attempts", c.Applier.MaxAttempts, 1)
	positive(bad, "applier.unmatched_after", c.Applier.UnmatchedAfter)
	positive(bad, "applier.lease", c.Applier.Lease)

	positive(bad, "http.request_timeout", c.HTTP.RequestTimeout)
	positive(bad, "http.shutdown_timeout", c.HTTP.ShutdownTimeout)
	if c.HTTP.DebugListen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.DebugListen); err != nil {
			bad("http.debug_listen", "want host:port such as \"127.0.0.1:6060\": %v", err)
		}
	}
	if c.HTTP.APIRate < 0 || math.IsNaN(c.HTTP.APIRate) || math.IsInf(c.HTTP.APIRate, 0) {
		bad("http.api_rate", "must be a number of requests per second, 0 for no limit, got %v", c.HTTP.APIRate)
	}
	atLeast(bad, "http.api_burst", c.HTTP.APIBurst, 1)

	return errors.Join(errs...)
}

type reporter func(key, format string, args ...any)

func oneOf(bad reporter, key, got string, allowed ...string) {
	if slices.Contains(allowed, got) {
		return
	}
	quoted := make([]string, len(allowed))
	for i, a := range allowed {
		quoted[i] = fmt.Sprintf("%q", a)
	}
	bad(key, "must be one of %s, got %q", strings.Join(quoted, ", "), got)
}

func atLeast(bad reporter, key string, got, least int) {
	if got < least {
		bad(key, "must be at least %d, got %d", least, got)
	}
}

func positive(bad reporter, key string, got time.Duration) {
	if got <= 0 {
		bad(key, "must be above 0, got %v", got)
	}
}

func notNegative(bad reporter, key string, got time.Duration) {
	if got < 0 {
		bad(key, "must not be negative, got %v", got)
	}
}

// refuseDevSecret never prints the secret: the message names the key only.
func refuseDevSecret(bad reporter, key, secret string) {
	if slices.Contains(devSecrets, strings.TrimSpace(secret)) {
		bad(key, "the development secret from seatsync.dev.yaml is refused when env=production")
	}
}

// httpURL accepts "" (unset) or an absolute http(s) URL with a host.
func httpURL(bad reporter, key, raw string) {
	if raw == "" {
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		bad(key, "not a valid URL: %v", err)
		return
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(key, "must be an absolute http or https URL, got %q", raw)
	}
}
