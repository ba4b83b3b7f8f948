package config

import "time"

// Config is seatsync's complete configuration. Each field's mapstructure tag
// is the last segment of its key in SPEC §10.
type Config struct {
	// Env is "dev" or "production".
	Env string `mapstructure:"env"`
	// Listen is the HTTP listen address, such as ":8080".
	Listen string `mapstructure:"listen"`

	Database Database `mapstructure:"database"`
	Webhooks Webhooks `mapstructure:"webhooks"`
	WorkOS   WorkOS   `mapstructure:"workos"`
	Auth     Auth     `mapstructure:"auth"`
	Seats    Seats    `mapstructure:"seats"`
	SAML     SAML     `mapstructure:"saml"`
	Log      Log      `mapstructure:"log"`
	Applier  Applier  `mapstructure:"applier"`
	HTTP     HTTP     `mapstructure:"http"`
}

// Database holds the database.* keys.
type Database struct {
	// Driver is "sqlite" or "postgres".
	Driver string `mapstructure:"driver"`
	// Path is the SQLite file, used when Driver is "sqlite".
	Path string `mapstructure:"path"`
	// URL is the Postgres connection string, used when Driver is "postgres".
	// It may hold a password and is redacted when logged.
	URL string `mapstructure:"url"`
	// AutoMigrate applies pending migrations at start-up.
	AutoMigrate bool `mapstructure:"auto_migrate"`
	// ForceSQLite allows SQLite when Env is "production".
	ForceSQLite bool `mapstructure:"force_sqlite"`
	// MaxOpenConns caps the connection pool.
	MaxOpenConns int `mapstructure:"max_open_conns"`
}

// Webhooks holds the webhooks.* keys.
type Webhooks struct {
	// Secrets are the WorkOS webhook signing secrets; any one may match,
	// which allows rotation. Redacted when logged.
	Secrets []string `mapstructure:"secrets"`
	// Tolerance is the allowed clock difference of the signature timestamp.
	Tolerance time.Duration `mapstructure:"tolerance"`
	// MaxBody is the largest accepted request body, in bytes.
	MaxBody int64 `mapstructure:"max_body"`
	// MaxInFlight bounds the webhook requests one replica serves at once;
	// more answer 503 with Retry-After instead of queueing.
	MaxInFlight int `mapstructure:"max_in_flight"`
}

// WorkOS holds the workos.* keys.
type WorkOS struct {
	// APIKey is the WorkOS API key. Redacted when logged.
	APIKey string `mapstructure:"api_key"`
	// Endpoint is the WorkOS API base URL.
	Endpoint string `mapstructure:"endpoint"`
	// PortalReturnURL is the billing page URL; "{plan_id}" is replaced.
	PortalReturnURL string `mapstructure:"portal_return_url"`
	// PortalSuccessURL is where WorkOS sends the admin after setup;
	// "{plan_id}" is replaced.
	PortalSuccessURL string `mapstructure:"portal_success_url"`
	// EventsPollInterval is the Events API poller interval; 0 turns it off.
	EventsPollInterval time.Duration `mapstructure:"events_poll_interval"`
	// ReconcileInterval is the scheduled reconciliation interval; 0 turns it off.
	ReconcileInterval time.Duration `mapstructure:"reconcile_interval"`
}

// Auth holds the auth.* keys for admin and service tokens.
type Auth struct {
	// JWTSecret is the HS256 secret. Redacted when logged.
	JWTSecret string `mapstructure:"jwt_secret"`
	// JWKSURL serves RS256 keys, instead of or beside JWTSecret.
	JWKSURL string `mapstructure:"jwks_url"`
	// Issuer is checked against the token's iss claim when set.
	Issuer string `mapstructure:"issuer"`
	// Audience is checked against the token's aud claim when set.
	Audience string `mapstructure:"audience"`
}

// Seats holds the seats.* keys (SPEC §3).
type Seats struct {
	// TestModeLimit is L, the seat limit of a plan in test mode.
	TestModeLimit int `mapstructure:"test_mode_limit"`
	// CutoverGrace is the delay before the cutover downgrade.
	CutoverGrace time.Duration `mapstructure:"cutover_grace"`
	// OnDirectoryDeleted is "keep" or "free".
	OnDirectoryDeleted string `mapstructure:"on_directory_deleted"`
	// GuardShare and GuardMin bound one change: revoking more than this share
	// of a plan's paid seats, and at least GuardMin of them, is held for an admin.
	GuardShare float64 `mapstructure:"guard_share"`
	GuardMin   int     `mapstructure:"guard_min"`
	// GuardWindow is how far back revocations count as one burst.
	GuardWindow time.Duration `mapstructure:"guard_window"`
	// GuardDowngrade puts the cutover downgrade under the guard too.
	GuardDowngrade bool `mapstructure:"guard_downgrade"`
}

// SAML holds the saml.* keys.
type SAML struct {
	// LoginURL is where /sso/login_redirect sends people.
	LoginURL string `mapstructure:"login_url"`
}

// Log holds the log.* keys.
type Log struct {
	// Level is "debug", "info", "warn" or "error".
	Level string `mapstructure:"level"`
	// Format is "text", "json" or "" for the environment's default; see
	// [Config.LogFormat].
	Format string `mapstructure:"format"`
}

// Applier holds the applier.* keys.
type Applier struct {
	// Workers is the number of concurrent appliers per replica.
	Workers int `mapstructure:"workers"`
	// BatchSize is how many events one applier claims and commits together.
	BatchSize int `mapstructure:"batch_size"`
	// MaxAttempts is how often an event is tried before it is parked.
	MaxAttempts int `mapstructure:"max_attempts"`
	// UnmatchedAfter is how long an event for an unknown directory waits
	// before it is marked unmatched.
	UnmatchedAfter time.Duration `mapstructure:"unmatched_after"`
	// Lease is how long a claimed event stays reserved for one replica.
	Lease time.Duration `mapstructure:"lease"`
}

// HTTP holds the http.* keys.
type HTTP struct {
	// RequestTimeout bounds the handling of one request.
	RequestTimeout time.Duration `mapstructure:"request_timeout"`
	// ShutdownTimeout bounds the drain of in-flight work on SIGTERM.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	// DebugListen, when set, serves /debug/pprof on this separate address
	// (keep it on loopback or a private network).
	DebugListen string `mapstructure:"debug_listen"`
	// APIRate is each token's sustained /api/v1 request rate per second, per
	// replica; 0 turns the limit off.
	APIRate float64 `mapstructure:"api_rate"`
	// APIBurst is how many /api/v1 requests a token may make at once.
	APIBurst int `mapstructure:"api_burst"`
}

// LogFormat returns the log format to use: Log.Format when set, otherwise
// "json" in production and "text" elsewhere.
func (c *Config) LogFormat() string {
	switch {
	case c.Log.Format != "":
		return c.Log.Format
	case c.Env == EnvProduction:
		return "json"
	default:
		return "text"
	}
}
