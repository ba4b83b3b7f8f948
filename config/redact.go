package config

import (
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strings"
)

// redacted replaces every secret in logs and printed output.
const redacted = "[redacted]"

// String, GoString and LogValue have value receivers so that printing or
// logging a Config, not only a *Config, is redacted.

// LogValue implements [slog.LogValuer]: a group per section with every key,
// secrets replaced by "[redacted]". An unset secret stays empty so that its
// absence is visible.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(c.attrs()...)
}

// String returns every key as key=value, space-separated and redacted like
// [Config.LogValue].
func (c Config) String() string {
	var b strings.Builder
	writeAttrs(&b, "", c.attrs())
	return b.String()
}

// GoString makes %#v redacted too.
func (c Config) GoString() string {
	return "config.Config{" + c.String() + "}"
}

func (c Config) attrs() []slog.Attr {
	secrets := make([]string, len(c.Webhooks.Secrets))
	for i := range secrets {
		secrets[i] = redacted
	}
	return []slog.Attr{
		slog.String("env", c.Env),
		slog.String("listen", c.Listen),
		slog.Group("database",
			slog.String("driver", c.Database.Driver),
			slog.String("path", c.Database.Path),
			slog.String("url", redactDSN(c.Database.URL)),
			slog.Bool("auto_migrate", c.Database.AutoMigrate),
			slog.Bool("force_sqlite", c.Database.ForceSQLite),
			slog.Int("max_open_conns", c.Database.MaxOpenConns),
		),
		slog.Group("webhooks",
			slog.Any("secrets", secrets),
			slog.Duration("tolerance", c.Webhooks.Tolerance),
			slog.Int64("max_body", c.Webhooks.MaxBody),
			slog.Int("max_in_flight", c.Webhooks.MaxInFlight),
		),
		slog.Group("workos",
			slog.String("api_key", redact(c.WorkOS.APIKey)),
			slog.String("endpoint", c.WorkOS.Endpoint),
			slog.String("portal_return_url", c.WorkOS.PortalReturnURL),
			slog.String("portal_success_url", c.WorkOS.PortalSuccessURL),
			slog.Duration("events_poll_interval", c.WorkOS.EventsPollInterval),
			slog.Duration("reconcile_interval", c.WorkOS.ReconcileInterval),
		),
		slog.Group("auth",
			slog.String("jwt_secret", redact(c.Auth.JWTSecret)),
			slog.String("jwks_url", c.Auth.JWKSURL),
			slog.String("issuer", c.Auth.Issuer),
			slog.String("audience", c.Auth.Audience),
		),
		slog.Group("seats",
			slog.Int("test_mode_limit", c.Seats.TestModeLimit),
			slog.Duration("cutover_grace", c.Seats.CutoverGrace),
			slog.String("on_directory_deleted", c.Seats.OnDirectoryDeleted),
			slog.Float64("guard_share", c.Seats.GuardShare),
			slog.Int("guard_min", c.Seats.GuardMin),
			slog.Duration("guard_window", c.Seats.GuardWindow),
			slog.Bool("guard_downgrade", c.Seats.GuardDowngrade),
		),
		slog.Group("saml", slog.String("login_url", c.SAML.LoginURL)),
		slog.Group("log",
			slog.String("level", c.Log.Level),
			slog.String("format", c.Log.Format),
		),
		slog.Group("applier",
			slog.Int("workers", c.Applier.Workers),
			slog.Int("batch_size", c.Applier.BatchSize),
			slog.Int("max_attempts", c.Applier.MaxAttempts),
			slog.Duration("unmatched_after", c.Applier.UnmatchedAfter),
			slog.Duration("lease", c.Applier.Lease),
		),
		slog.Group("http",
			slog.Duration("request_timeout", c.HTTP.RequestTimeout),
			slog.Duration("shutdown_timeout", c.HTTP.ShutdownTimeout),
			slog.String("debug_listen", c.HTTP.DebugListen),
			slog.Float64("api_rate", c.HTTP.APIRate),
			slog.Int("api_burst", c.HTTP.APIBurst),
		),
	}
}

func writeAttrs(b *strings.Builder, prefix string, attrs []slog.Attr) {
	for _, a := range attrs {
		if a.Value.Kind() == slog.KindGroup {
			writeAttrs(b, prefix+a.Key+".", a.Value.Group())
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(b, "%s%s=%v", prefix, a.Key, a.Value)
	}
}

func redact(secret string) string {
	if secret == "" {
		return ""
	}
	return redacted
}

// kvPassword matches the password in a key=value connection string, quoted
// or not: host=db password='a b' dbname=seatsync.
var kvPassword = regexp.MustCompile(`(?i)(password\s*=\s*)('(?:[^'\\]|\\.)*'?|\S*)`)

// redactDSN hides the password of a Postgres connection string, in URL form
// (in the user info or a password query parameter) or key=value form. A URL
// that cannot be parsed is hidden whole rather than risk printing it.
func redactDSN(dsn string) string {
	if dsn == "" {
		return ""
	}
	if !strings.Contains(dsn, "://") {
		return kvPassword.ReplaceAllString(dsn, "${1}"+redacted)
	}
	u, err := url.Parse(dsn)
	_, rest, _ := strings.Cut(dsn, "://")
	// An unescaped "/", "?" or "#" in a password makes url.Parse read part of
	// it as the host or path; an "@" with no user info gives that away.
	if err != nil || (u.User == nil && strings.Contains(rest, "@")) {
		return redacted
	}
	var b strings.Builder
	b.WriteString(u.Scheme + "://")
	if u.User != nil {
		b.WriteString(url.PathEscape(u.User.Username()))
		if _, ok := u.User.Password(); ok {
			b.WriteString(":" + redacted)
		}
		b.WriteByte('@')
	}
	b.WriteString(u.Host + u.EscapedPath())
	var params []string
	query := u.Query()
	for _, name := range slices.Sorted(maps.Keys(query)) {
		for _, value := range query[name] {
			if strings.Contains(strings.ToLower(name), "password") {
				value = redacted
			} else {
				value = url.QueryEscape(value)
			}
			params = append(params, url.QueryEscape(name)+"="+value)
		}
	}
	if len(params) > 0 {
		b.WriteString("?" + strings.Join(params, "&"))
	}
	return b.String()
}
