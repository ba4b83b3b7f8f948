package config

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// specDefaults is SPEC §10 written out again, independently of defaults.go,
// with the operational keys the implementation adds.
var specDefaults = map[string]any{
	"env":                         "dev",
	"listen":                      ":8080",
	"database.driver":             "sqlite",
	"database.path":               "var/seatsync.db",
	"database.url":                "",
	"database.auto_migrate":       true,
	"database.force_sqlite":       false,
	"database.max_open_conns":     20,
	"webhooks.secrets":            []string{},
	"webhooks.tolerance":          5 * time.Minute,
	"webhooks.max_body":           int64(1048576),
	"webhooks.max_in_flight":      256,
	"workos.api_key":              "",
	"workos.endpoint":             "https://api.workos.com",
	"workos.portal_return_url":    "",
	"workos.portal_success_url":   "",
	"workos.events_poll_interval": time.Duration(0),
	"workos.reconcile_interval":   time.Duration(0),
	"auth.jwt_secret":             "",
	"auth.jwks_url":               "",
	"auth.issuer":                 "",
	"auth.audience":               "",
	"seats.test_mode_limit":       10,
	"seats.cutover_grace":         10 * time.Minute,
	"seats.on_directory_deleted":  "keep",
	"seats.guard_share":           0.5,
	"seats.guard_min":             20,
	"seats.guard_window":          10 * time.Minute,
	"seats.guard_downgrade":       false,
	"saml.login_url":              "",
	"log.level":                   "info",
	"log.format":                  "",
	"applier.workers":             4,
	"applier.batch_size":          1000,
	"applier.max_attempts":        10,
	"applier.unmatched_after":     time.Hour,
	"applier.lease":               time.Minute,
	"http.request_timeout":        10 * time.Second,
	"http.shutdown_timeout":       30 * time.Second,
	"http.debug_listen":           "",
	"http.api_rate":               20.0,
	"http.api_burst":              40,
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom("", nil)
	if err != nil {
		t.Fatalf("LoadFrom(\"\", nil): %v", err)
	}
	if got, want := slices.Sorted(maps.Keys(defaults)), slices.Sorted(maps.Keys(specDefaults)); !slices.Equal(got, want) {
		t.Fatalf("defaults keys = %v, want the SPEC keys %v", got, want)
	}
	for _, key := range slices.Sorted(maps.Keys(specDefaults)) {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			got, want := field(t, c, key), specDefaults[key]
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s = %#v, want %#v", key, got, want)
			}
		})
	}
}

func TestEnvName(t *testing.T) {
	t.Parallel()
	for key, want := range map[string]string{
		"env":                       "SEATSYNC_ENV",
		"database.url":              "SEATSYNC_DATABASE_URL",
		"workos.portal_return_url":  "SEATSYNC_WORKOS_PORTAL_RETURN_URL",
		"webhooks.secrets":          "SEATSYNC_WEBHOOKS_SECRETS",
		"workos.reconcile_interval": "SEATSYNC_WORKOS_RECONCILE_INTERVAL",
	} {
		if got := envName(key); got != want {
			t.Errorf("envName(%q) = %q, want %q", key, got, want)
		}
	}
}

// TestLoadFrom_envOverridesEveryKey proves that no key in the defaults table
// silently ignores its environment variable.
func TestLoadFrom_envOverridesEveryKey(t *testing.T) {
	t.Parallel()
	productionDB := []string{
		"SEATSYNC_DATABASE_DRIVER=postgres",
		"SEATSYNC_DATABASE_URL=postgres://seatsync@db/seatsync",
		"SEATSYNC_WEBHOOKS_SECRETS=whsec_production_test",
	}
	overrides := map[string]struct {
		value string
		want  any
		extra []string // other variables the value needs to validate
	}{
		"env":                         {"production", "production", productionDB},
		"listen":                      {"127.0.0.1:9090", "127.0.0.1:9090", nil},
		"database.driver":             {"postgres", "postgres", []string{"SEATSYNC_DATABASE_URL=postgres://db/x"}},
		"database.path":               {"/tmp/other.db", "/tmp/other.db", nil},
		"database.url":                {"postgres://db/seatsync", "postgres://db/seatsync", nil},
		"database.auto_migrate":       {"false", false, nil},
		"database.force_sqlite":       {"true", true, nil},
		"database.max_open_conns":     {"7", 7, nil},
		"webhooks.secrets":            {"whsec_a,whsec_b", []string{"whsec_a", "whsec_b"}, nil},
		"webhooks.tolerance":          {"90s", 90 * time.Second, nil},
		"webhooks.max_body":           {"2048", int64(2048), nil},
		"webhooks.max_in_flight":      {"64", 64, nil},
		"workos.api_key":              {"sk_test_123", "sk_test_123", nil},
		"workos.endpoint":             {"http://localhost:9999", "http://localhost:9999", nil},
		"workos.portal_return_url":    {"https://app.test/plans/{plan_id}", "https://app.test/plans/{plan_id}", nil},
		"workos.portal_success_url":   {"https://app.test/ok/{plan_id}", "https://app.test/ok/{plan_id}", nil},
		"workos.events_poll_interval": {"30s", 30 * time.Second, nil},
		"workos.reconcile_interval":   {"6h", 6 * time.Hour, nil},
		"auth.jwt_secret":             {"another-secret", "another-secret", nil},
		"auth.jwks_url":               {"https://idp.test/jwks.json", "https://idp.test/jwks.json", nil},
		"auth.issuer":                 {"https://idp.test", "https://idp.test", nil},
		"auth.audience":               {"seatsync", "seatsync", nil},
		"seats.test_mode_limit":       {"3", 3, nil},
		"seats.cutover_grace":         {"1m30s", 90 * time.Second, nil},
		"seats.on_directory_deleted":  {"free", "free", nil},
		"seats.guard_share":           {"0.25", 0.25, nil},
		"seats.guard_min":             {"5", 5, nil},
		"seats.guard_window":          {"1m", time.Minute, nil},
		"seats.guard_downgrade":       {"true", true, nil},
		"saml.login_url":              {"https://login.test/", "https://login.test/", nil},
		"log.level":                   {"debug", "debug", nil},
		"log.format":                  {"json", "json", nil},
		"applier.workers":             {"16", 16, nil},
		"applier.batch_size":          {"50", 50, nil},
		"applier.max_attempts":        {"3", 3, nil},
		"applier.unmatched_after":     {"2h", 2 * time.Hour, nil},
		"applier.lease":               {"45s", 45 * time.Second, nil},
		"http.request_timeout":        {"3s", 3 * time.Second, nil},
		"http.shutdown_timeout":       {"1m", time.Minute, nil},
		"http.debug_listen":           {"127.0.0.1:6060", "127.0.0.1:6060", nil},
		"http.api_rate":               {"2.5", 2.5, nil},
		"http.api_burst":              {"5", 5, nil},
	}
	for _, key := range slices.Sorted(maps.Keys(defaults)) {
		t.Run(key, func(t *testing.T) {
			t.Parallel()
			o, ok := overrides[key]
			if !ok {
				t.Fatalf("no override case for %s: add one", key)
			}
			if reflect.DeepEqual(o.want, specDefaults[key]) {
				t.Fatalf("override for %s equals its default; it would prove nothing", key)
			}
			environ := append([]string{envName(key) + "=" + o.value}, o.extra...)
			c, err := LoadFrom("", environ)
			if err != nil {
				t.Fatalf("LoadFrom(%q): %v", environ, err)
			}
			if got := field(t, c, key); !reflect.DeepEqual(got, o.want) {
				t.Errorf("%s from %s = %#v, want %#v", key, envName(key), got, o.want)
			}
		})
	}
	for key := range overrides {
		if _, ok := defaults[key]; !ok {
			t.Errorf("override case for %s, which is not in defaults", key)
		}
	}
}

func TestConfig_LogFormat(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env, format, want string
	}{
		{"dev", "", "text"},
		{"production", "", "json"},
		{"dev", "json", "json"},
		{"production", "text", "text"},
	}
	for _, tt := range tests {
		c := &Config{Env: tt.env, Log: Log{Format: tt.format}}
		if got := c.LogFormat(); got != tt.want {
			t.Errorf("LogFormat() with env=%s log.format=%q = %q, want %q", tt.env, tt.format, got, tt.want)
		}
	}
}

// field returns the value of key in c, found through the mapstructure tags.
func field(t *testing.T, c *Config, key string) any {
	t.Helper()
	v := reflect.ValueOf(*c)
	for part := range strings.SplitSeq(key, ".") {
		fields := reflect.VisibleFields(v.Type())
		i := slices.IndexFunc(fields, func(f reflect.StructField) bool {
			return f.Tag.Get("mapstructure") == part
		})
		if i < 0 {
			t.Fatalf("no field for key %s", key)
		}
		v = v.FieldByIndex(fields[i].Index)
	}
	return v.Interface()
}
