package config

import (
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/viper"
)

const devFile = "seatsync.dev.yaml"

// writeFile writes a YAML file into a fresh directory and returns its path.
func writeFile(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "seatsync.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoadFrom_precedence(t *testing.T) {
	t.Parallel()
	path := writeFile(t, `
listen: ":9000"
seats:
  test_mode_limit: 5
  cutover_grace: 2m
webhooks:
  max_body: 4096.0
log:
  level: warn
`)
	env := []string{
		"SEATSYNC_SEATS_TEST_MODE_LIMIT=7",
		"SEATSYNC_LOG_LEVEL=", // empty counts as unset: the file wins
		"SEATSYNC_HTTP_REQUEST_TIMEOUT=4s",
		"SEATSYNC_NOT_A_KEY=whatever", // ignored
		"PATH=/usr/bin",
		"NOEQUALS",
	}
	c, err := LoadFrom(path, env)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	tests := []struct {
		key  string
		want any
		why  string
	}{
		{"seats.test_mode_limit", 7, "env over file"},
		{"listen", ":9000", "file over default"},
		{"seats.cutover_grace", 2 * time.Minute, "file over default"},
		{"webhooks.max_body", int64(4096), "whole float from the file"},
		{"log.level", "warn", "empty env leaves the file"},
		{"http.request_timeout", 4 * time.Second, "env over default"},
		{"applier.workers", 4, "default"},
	}
	for _, tt := range tests {
		if got := field(t, c, tt.key); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v, want %#v (%s)", tt.key, got, tt.want, tt.why)
		}
	}
}

func TestLoadFrom_lists(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		env  string
		want []string
	}{
		{"env comma-separated", "", "whsec_a,whsec_b", []string{"whsec_a", "whsec_b"}},
		{"env spaces and empties", "", " whsec_a , ,whsec_b,, ", []string{"whsec_a", "whsec_b"}},
		{"env only separators", "", " , ,", []string{}},
		{"env single", "", "whsec_a", []string{"whsec_a"}},
		{"yaml list", "webhooks: {secrets: [whsec_a, ' whsec_b ', '']}", "", []string{"whsec_a", "whsec_b"}},
		{"yaml string", "webhooks: {secrets: 'whsec_a, whsec_b'}", "", []string{"whsec_a", "whsec_b"}},
		{"env replaces yaml", "webhooks: {secrets: [whsec_file]}", "whsec_env", []string{"whsec_env"}},
		{"unset", "", "", []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var env []string
			if tt.env != "" {
				env = []string{"SEATSYNC_WEBHOOKS_SECRETS=" + tt.env}
			}
			c, err := LoadFrom(writeFile(t, tt.yaml), env)
			if err != nil {
				t.Fatalf("LoadFrom: %v", err)
			}
			if got := c.Webhooks.Secrets; !slices.Equal(got, tt.want) {
				t.Errorf("webhooks.secrets = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestLoadFrom_errors checks that each kind of bad input is refused with a
// message that names the key.
func TestLoadFrom_errors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		env   []string
		wants []string // fragments of the error
	}{
		{"unknown top-level key", "lisen: ':80'", nil, []string{"config: lisen: unknown key"}},
		{"unknown nested key", "webhooks:\n  tolerence: 5m", nil, []string{"config: webhooks.tolerence: unknown key"}},
		{"unknown section", "metrics: {enabled: true}", nil, []string{"config: metrics.enabled: unknown key"}},
		{"several unknown keys", "a: 1\nb: 2", nil, []string{"config: a: unknown key", "config: b: unknown key"}},
		{"map below a leaf", "webhooks: {tolerance: {x: 1}}", nil, []string{"config: webhooks.tolerance.x: unknown key"}},
		{"value for a section", "webhooks: 5", nil, []string{"config: webhooks: want a mapping"}},
		{"bad duration", "webhooks: {tolerance: banana}", nil, []string{"config: webhooks.tolerance:", `"banana"`}},
		{"duration without unit", "webhooks: {tolerance: 300}", nil, []string{"config: webhooks.tolerance: want a duration with a unit"}},
		{"bad int", "seats: {test_mode_limit: many}", nil, []string{"config: seats.test_mode_limit:"}},
		{"bad int64", "webhooks: {max_body: 1MiB}", nil, []string{"config: webhooks.max_body:"}},
		{"fraction for an int", "seats: {test_mode_limit: 1.5}", nil, []string{"config: seats.test_mode_limit: want a whole number"}},
		{"int too large", "database: {max_open_conns: 99999999999999999999999}", nil,
			[]string{"config: database.max_open_conns: want a whole number"}},
		{"int out of range from env", "", []string{"SEATSYNC_WEBHOOKS_MAX_BODY=99999999999999999999"},
			[]string{"config: webhooks.max_body:", "(from SEATSYNC_WEBHOOKS_MAX_BODY)"}},
		{"bad bool", "database: {auto_migrate: maybe}", nil, []string{"config: database.auto_migrate:"}},
		{"list for a string", "env: [dev]", nil, []string{"config: env:"}},
		{"map for a list", "webhooks: {secrets: {a: b}}", nil, []string{"config: webhooks.secrets.a: unknown key"}},
		{"two bad types at once", "seats: {test_mode_limit: many, cutover_grace: soon}", nil,
			[]string{"config: seats.test_mode_limit:", "config: seats.cutover_grace:"}},
		{"bad duration from env", "", []string{"SEATSYNC_APPLIER_LEASE=1 minute"},
			[]string{"config: applier.lease:", "(from SEATSYNC_APPLIER_LEASE)"}},
		{"bad int from env", "", []string{"SEATSYNC_APPLIER_WORKERS=four"},
			[]string{"config: applier.workers:", "(from SEATSYNC_APPLIER_WORKERS)"}},
		{"bare number duration from env", "", []string{"SEATSYNC_WEBHOOKS_TOLERANCE=300"},
			[]string{"config: webhooks.tolerance:", "missing unit"}},
		{"not a mapping", "- a\n- b", nil, []string{"config: parse "}},
		{"invalid yaml", "env: [dev", nil, []string{"config: parse "}},
		{"invalid value from env", "", []string{"SEATSYNC_LOG_LEVEL=loud"}, []string{"config: log.level:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := LoadFrom(writeFile(t, tt.yaml), tt.env)
			if err == nil {
				t.Fatalf("LoadFrom = %v, want an error", c)
			}
			for _, want := range tt.wants {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
		})
	}
}

func TestLoadFrom_missingFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "nope.yaml")
	_, err := LoadFrom(path, nil)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("LoadFrom(%q) error = %v, want one naming the file", path, err)
	}
}

func TestLoadFrom_caseInsensitiveKeys(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(writeFile(t, "Webhooks: {Tolerance: 2m}"), nil)
	if err != nil {
		t.Fatalf("LoadFrom: %v", err)
	}
	if got, want := c.Webhooks.Tolerance, 2*time.Minute; got != want {
		t.Errorf("webhooks.tolerance = %v, want %v", got, want)
	}
}

func TestLoad_devFile(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(devFile, nil)
	if err != nil {
		t.Fatalf("LoadFrom(%s): %v", devFile, err)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	checks := []struct {
		key  string
		want any
	}{
		{"env", "dev"},
		{"database.driver", "sqlite"},
		{"database.path", "var/seatsync.db"},
		{"webhooks.secrets", []string{"whsec_dev_seatsync_local_only"}},
		{"auth.jwt_secret", "dev-jwt-secret-seatsync-local-only-0123456789"},
		{"seats.cutover_grace", 10 * time.Minute},
		{"saml.login_url", "http://localhost:8080/login-placeholder"},
		{"workos.portal_return_url", "http://localhost:8080/plans/{plan_id}"},
	}
	for _, tt := range checks {
		if got := field(t, c, tt.key); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s = %#v, want %#v", tt.key, got, tt.want)
		}
	}
}

// TestLoad_devFileListsEveryKey keeps seatsync.dev.yaml a complete reference.
func TestLoad_devFileListsEveryKey(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile(devFile)
	if err != nil {
		t.Fatal(err)
	}
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
		t.Fatal(err)
	}
	got, want := slices.Sorted(slices.Values(v.AllKeys())), slices.Sorted(maps.Keys(defaults))
	if !slices.Equal(got, want) {
		t.Errorf("keys in %s = %v, want %v", devFile, got, want)
	}
}

// TestLoad_devSecretsMatchFile keeps devSecrets in step with the dev file,
// so production refuses exactly the secrets that are committed.
func TestLoad_devSecretsMatchFile(t *testing.T) {
	t.Parallel()
	c, err := LoadFrom(devFile, nil)
	if err != nil {
		t.Fatal(err)
	}
	var inFile []string
	for _, s := range append([]string{c.WorkOS.APIKey, c.Auth.JWTSecret}, c.Webhooks.Secrets...) {
		if s != "" {
			inFile = append(inFile, s)
		}
	}
	slices.Sort(inFile)
	if want := slices.Sorted(slices.Values(devSecrets)); !slices.Equal(inFile, want) {
		t.Errorf("secrets in %s = %q, devSecrets = %q", devFile, inFile, want)
	}
}

func TestLoad_devFileRefusedInProduction(t *testing.T) {
	t.Parallel()
	env := []string{
		"SEATSYNC_ENV=production",
		"SEATSYNC_DATABASE_DRIVER=postgres",
		"SEATSYNC_DATABASE_URL=postgres://db/seatsync",
		"SEATSYNC_WORKOS_API_KEY=whsec_dev_seatsync_local_only",
	}
	_, err := LoadFrom(devFile, env)
	if err == nil {
		t.Fatal("LoadFrom(dev file, env=production) succeeded, want dev secrets refused")
	}
	for _, key := range []string{"webhooks.secrets", "auth.jwt_secret", "workos.api_key"} {
		if !strings.Contains(err.Error(), "config: "+key+": the development secret") {
			t.Errorf("error %q does not refuse the dev %s", err, key)
		}
	}
	for _, secret := range devSecrets {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q prints the secret %q", err, secret)
		}
	}
}

func TestLoad_usesProcessEnvironment(t *testing.T) {
	// Not parallel: t.Setenv changes the process environment, which is
	// what Load reads.
	t.Setenv("SEATSYNC_APPLIER_WORKERS", "9")
	c, err := Load("")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := c.Applier.Workers; got != 9 {
		t.Errorf("applier.workers = %d, want 9 from SEATSYNC_APPLIER_WORKERS", got)
	}
}
