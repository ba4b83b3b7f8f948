package config

import (
	"math"
	"strings"
	"testing"
	"time"
)

// validDev returns the defaults, which must be valid.
func validDev(t *testing.T) *Config {
	t.Helper()
	c, err := LoadFrom("", nil)
	if err != nil {
		t.Fatalf("LoadFrom(\"\", nil): %v", err)
	}
	return c
}

// validProduction returns a minimal valid production configuration.
func validProduction(t *testing.T) *Config {
	t.Helper()
	c := validDev(t)
	c.Env = EnvProduction
	c.Database.Driver = DriverPostgres
	c.Database.URL = "postgres://seatsync@db:5432/seatsync"
	c.Webhooks.Secrets = []string{"whsec_production_0123456789"}
	c.Auth.JWTSecret = strings.Repeat("p", 32)
	return c
}

func TestValidate(t *testing.T) {
	t.Parallel()
	devSecret, devJWT := devSecrets[0], devSecrets[1]
	tests := []struct {
		name    string
		prod    bool // start from validProduction instead of validDev
		change  func(c *Config)
		wantKey string // "" when the change is valid
	}{
		{"dev defaults", false, func(*Config) {}, ""},
		{"production minimal", true, func(*Config) {}, ""},

		{"env unknown", false, func(c *Config) { c.Env = "staging" }, "env"},
		{"env empty", false, func(c *Config) { c.Env = "" }, "env"},
		{"listen empty", false, func(c *Config) { c.Listen = "" }, "listen"},
		{"listen without port", false, func(c *Config) { c.Listen = "localhost" }, "listen"},
		{"listen host and port", false, func(c *Config) { c.Listen = "127.0.0.1:8080" }, ""},

		{"driver unknown", false, func(c *Config) { c.Database.Driver = "mysql" }, "database.driver"},
		{"postgres without url", false, func(c *Config) { c.Database.Driver = DriverPostgres }, "database.url"},
		{"postgres with url", false, func(c *Config) {
			c.Database.Driver, c.Database.URL = DriverPostgres, "postgres://db/x"
		}, ""},
		{"sqlite without path", false, func(c *Config) { c.Database.Path = "" }, "database.path"},
		{"sqlite in production", true, func(c *Config) { c.Database.Driver = DriverSQLite }, "database.driver"},
		{"sqlite in production forced", true, func(c *Config) {
			c.Database.Driver, c.Database.ForceSQLite = DriverSQLite, true
		}, ""},
		{"max_open_conns zero", false, func(c *Config) { c.Database.MaxOpenConns = 0 }, "database.max_open_conns"},

		{"no secret in dev", false, func(c *Config) { c.Webhooks.Secrets = nil }, ""},
		{"no secret in production", true, func(c *Config) { c.Webhooks.Secrets = nil }, "webhooks.secrets"},
		{"blank secret in production", true, func(c *Config) { c.Webhooks.Secrets = []string{" ", ""} }, "webhooks.secrets"},
		{"dev webhook secret in production", true, func(c *Config) {
			c.Webhooks.Secrets = []string{"whsec_real_one", devSecret}
		}, "webhooks.secrets"},
		{"dev webhook secret in dev", false, func(c *Config) { c.Webhooks.Secrets = []string{devSecret} }, ""},
		{"dev jwt secret in production", true, func(c *Config) { c.Auth.JWTSecret = devJWT }, "auth.jwt_secret"},
		{"dev secret as api key in production", true, func(c *Config) { c.WorkOS.APIKey = devSecret }, "workos.api_key"},
		{"short jwt secret in production", true, func(c *Config) { c.Auth.JWTSecret = "short" }, "auth.jwt_secret"},
		{"short jwt secret in dev", false, func(c *Config) { c.Auth.JWTSecret = "short" }, ""},
		{"no jwt secret in production", true, func(c *Config) { c.Auth.JWTSecret = "" }, ""},

		{"tolerance zero", false, func(c *Config) { c.Webhooks.Tolerance = 0 }, "webhooks.tolerance"},
		{"tolerance negative", false, func(c *Config) { c.Webhooks.Tolerance = -time.Second }, "webhooks.tolerance"},
		{"tolerance one hour", false, func(c *Config) { c.Webhooks.Tolerance = time.Hour }, ""},
		{"tolerance over an hour", false, func(c *Config) { c.Webhooks.Tolerance = time.Hour + 1 }, "webhooks.tolerance"},
		{"max_body 1 KiB", false, func(c *Config) { c.Webhooks.MaxBody = 1 << 10 }, ""},
		{"max_body under 1 KiB", false, func(c *Config) { c.Webhooks.MaxBody = 1<<10 - 1 }, "webhooks.max_body"},
		{"max_body 64 MiB", false, func(c *Config) { c.Webhooks.MaxBody = 64 << 20 }, ""},
		{"max_body over 64 MiB", false, func(c *Config) { c.Webhooks.MaxBody = 64<<20 + 1 }, "webhooks.max_body"},
		{"max_in_flight zero", false, func(c *Config) { c.Webhooks.MaxInFlight = 0 }, "webhooks.max_in_flight"},
		{"max_in_flight one", false, func(c *Config) { c.Webhooks.MaxInFlight = 1 }, ""},

		{"endpoint relative", false, func(c *Config) { c.WorkOS.Endpoint = "/api" }, "workos.endpoint"},
		{"endpoint ftp", false, func(c *Config) { c.WorkOS.Endpoint = "ftp://api.workos.com" }, "workos.endpoint"},
		{"endpoint unparsable", false, func(c *Config) { c.WorkOS.Endpoint = "http://[::1" }, "workos.endpoint"},
		{"endpoint empty", false, func(c *Config) { c.WorkOS.Endpoint = "" }, ""},
		{"return url without host", false, func(c *Config) { c.WorkOS.PortalReturnURL = "https:///plans" }, "workos.portal_return_url"},
		{"return url with placeholder", false, func(c *Config) {
			c.WorkOS.PortalReturnURL = "https://app.test/plans/{plan_id}"
		}, ""},
		{"success url relative", false, func(c *Config) { c.WorkOS.PortalSuccessURL = "plans/{plan_id}" }, "workos.portal_success_url"},
		{"jwks url relative", false, func(c *Config) { c.Auth.JWKSURL = "idp.test/jwks" }, "auth.jwks_url"},
		{"saml login url relative", false, func(c *Config) { c.SAML.LoginURL = "/login" }, "saml.login_url"},
		{"poll interval negative", false, func(c *Config) { c.WorkOS.EventsPollInterval = -time.Second }, "workos.events_poll_interval"},
		{"reconcile interval negative", false, func(c *Config) { c.WorkOS.ReconcileInterval = -time.Second }, "workos.reconcile_interval"},

		{"test_mode_limit negative", false, func(c *Config) { c.Seats.TestModeLimit = -1 }, "seats.test_mode_limit"},
		{"test_mode_limit zero", false, func(c *Config) { c.Seats.TestModeLimit = 0 }, ""},
		{"cutover_grace negative", false, func(c *Config) { c.Seats.CutoverGrace = -time.Second }, "seats.cutover_grace"},
		{"cutover_grace zero", false, func(c *Config) { c.Seats.CutoverGrace = 0 }, ""},
		{"on_directory_deleted free", false, func(c *Config) { c.Seats.OnDirectoryDeleted = "free" }, ""},
		{"on_directory_deleted unknown", false, func(c *Config) { c.Seats.OnDirectoryDeleted = "delete" }, "seats.on_directory_deleted"},

		{"log level unknown", false, func(c *Config) { c.Log.Level = "trace" }, "log.level"},
		{"log format unknown", false, func(c *Config) { c.Log.Format = "logfmt" }, "log.format"},
		{"log format json", false, func(c *Config) { c.Log.Format = "json" }, ""},

		{"workers zero", false, func(c *Config) { c.Applier.Workers = 0 }, "applier.workers"},
		{"batch_size zero", false, func(c *Config) { c.Applier.BatchSize = 0 }, "applier.batch_size"},
		{"max_attempts zero", false, func(c *Config) { c.Applier.MaxAttempts = 0 }, "applier.max_attempts"},
		{"unmatched_after zero", false, func(c *Config) { c.Applier.UnmatchedAfter = 0 }, "applier.unmatched_after"},
		{"lease zero", false, func(c *Config) { c.Applier.Lease = 0 }, "applier.lease"},
		{"request_timeout zero", false, func(c *Config) { c.HTTP.RequestTimeout = 0 }, "http.request_timeout"},
		{"shutdown_timeout negative", false, func(c *Config) { c.HTTP.ShutdownTimeout = -1 }, "http.shutdown_timeout"},
		{"api_rate zero turns the limit off", false, func(c *Config) { c.HTTP.APIRate = 0 }, ""},
		{"api_rate below one per second", false, func(c *Config) { c.HTTP.APIRate = 0.2 }, ""},
		{"api_rate negative", false, func(c *Config) { c.HTTP.APIRate = -1 }, "http.api_rate"},
		{"api_rate NaN", false, func(c *Config) { c.HTTP.APIRate = math.NaN() }, "http.api_rate"},
		{"api_burst zero", false, func(c *Config) { c.HTTP.APIBurst = 0 }, "http.api_burst"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := validDev(t)
			if tt.prod {
				c = validProduction(t)
			}
			tt.change(c)
			err := c.Validate()
			if tt.wantKey == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want an error naming %s", tt.wantKey)
			}
			if want := "config: " + tt.wantKey + ": "; !strings.Contains(err.Error(), want) {
				t.Errorf("Validate() = %q, want it to contain %q", err, want)
			}
			assertLinesNameKeys(t, err)
		})
	}
}

func TestValidate_reportsEveryProblem(t *testing.T) {
	t.Parallel()
	c := validDev(t)
	c.Env, c.Log.Level, c.Applier.Workers = "prod", "loud", 0
	err := c.Validate()
	if err == nil {
		t.Fatal("Validate() = nil, want errors")
	}
	for _, key := range []string{"env", "log.level", "applier.workers"} {
		if !strings.Contains(err.Error(), "config: "+key+": ") {
			t.Errorf("Validate() = %q, missing %s", err, key)
		}
	}
	assertLinesNameKeys(t, err)
}

// assertLinesNameKeys checks that every line of err starts with
// "config: <known key>: ".
func assertLinesNameKeys(t *testing.T, err error) {
	t.Helper()
	for line := range strings.Lines(err.Error()) {
		rest, ok := strings.CutPrefix(line, "config: ")
		key, _, ok2 := strings.Cut(rest, ": ")
		if _, known := defaults[key]; !ok || !ok2 || !known {
			t.Errorf("error line %q does not start with \"config: <key>: \"", line)
		}
	}
}
