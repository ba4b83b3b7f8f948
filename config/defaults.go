package config

import (
	"strings"
	"time"
)

// Values of Config.Env.
const (
	EnvDev        = "dev"
	EnvProduction = "production"
)

// Values of Database.Driver.
const (
	DriverSQLite   = "sqlite"
	DriverPostgres = "postgres"
)

// envPrefix starts every environment variable: database.url is read from
// SEATSYNC_DATABASE_URL.
const envPrefix = "SEATSYNC"

// defaults mirrors the table in SPEC §10, plus the operational keys SPEC leaves
// to the implementation. Every key must be here, even with a zero value:
// viper's Unmarshal only fills keys it already knows, so a key missing from
// this table would silently ignore its environment variable.
var defaults = map[string]any{
	"env":    EnvDev,
	"listen": ":8080",

	"database.driver":         DriverSQLite,
	"database.path":           "var/seatsync.db",
	"database.url":            "",
	"database.auto_migrate":   true,
	"database.force_sqlite":   false,
	"database.max_open_conns": 20,

	"webhooks.secrets":       []string{},
	"webhooks.tolerance":     5 * time.Minute,
	"webhooks.max_body":      int64(1 << 20),
	"webhooks.max_in_flight": 256,

	"workos.api_key":              "",
	"workos.endpoint":             "https://api.workos.com",
	"workos.portal_return_url":    "",
	"workos.portal_success_url":   "",
	"workos.events_poll_interval": time.Duration(0),
	"workos.reconcile_interval":   time.Duration(0),

	"auth.jwt_secret": "",
	"auth.jwks_url":   "",
	"auth.issuer":     "",
	"auth.audience":   "",

	"seats.test_mode_limit":      10,
	"seats.cutover_grace":        10 * time.Minute,
	"seats.on_directory_deleted": "keep",
	"seats.guard_share":          0.5,
	"seats.guard_min":            20,
	"seats.guard_window":         10 * time.Minute,
	"seats.guard_downgrade":      false,

	"saml.login_url": "",

	"log.level":  "info",
	"log.format": "", // text in dev, json in production: see Config.LogFormat

	"applier.workers":         4,
	"applier.batch_size":      1000,
	"applier.max_attempts":    10,
	"applier.unmatched_after": time.Hour,
	"applier.lease":           time.Minute,

	"http.request_timeout":  10 * time.Second,
	"http.shutdown_timeout": 30 * time.Second,
	"http.debug_listen":     "",
	"http.api_rate":         20.0,
	"http.api_burst":        40,
}

// envKeyReplacer turns a key into the tail of its environment variable name.
var envKeyReplacer = strings.NewReplacer(".", "_")

// envName returns the environment variable that sets key.
func envName(key string) string {
	return envPrefix + "_" + strings.ToUpper(envKeyReplacer.Replace(key))
}
