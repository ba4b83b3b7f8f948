package main

import (
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// The deployment files live at the repository root, two levels up from this package.
const (
	composePath    = "../../docker-compose.yml"
	dockerfilePath = "../../Dockerfile"
)

// composeEnv is what an operator would export before `docker compose up`.
// The values are test-only placeholders.
func composeEnv() map[string]string {
	return map[string]string{
		"POSTGRES_PASSWORD":         "pw-from-env",
		"SEATSYNC_WEBHOOKS_SECRETS": "whsec-from-env",
		"SEATSYNC_AUTH_JWT_SECRET":  "jwt-from-env",
		"SEATSYNC_WORKOS_API_KEY":   "sk-from-env",
		"SEATSYNC_SAML_LOGIN_URL":   "https://sso.example.com/login",
	}
}

// loadCompose loads docker-compose.yml the way `docker compose` would, with env
// as the only source of variables (the process environment is not consulted).
func loadCompose(t *testing.T, env map[string]string) (*types.Project, error) {
	t.Helper()
	path, err := filepath.Abs(composePath)
	if err != nil {
		t.Fatal(err)
	}
	content, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(path),
		ConfigFiles: []types.ConfigFile{{Filename: path, Content: content}},
		Environment: types.Mapping(env),
	}
	return loader.LoadWithContext(t.Context(), details, func(o *loader.Options) {
		o.SetProjectName("seatsync", true)
	})
}

func mustLoadCompose(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadCompose(t, composeEnv())
	if err != nil {
		t.Fatalf("load compose file with all variables set: %v", err)
	}
	return p
}

func service(t *testing.T, p *types.Project, name string) types.ServiceConfig {
	t.Helper()
	s, ok := p.Services[name]
	if !ok {
		t.Fatalf("compose services = %v, want a service %q", slices.Sorted(maps.Keys(p.Services)), name)
	}
	return s
}

func envValue(t *testing.T, s types.ServiceConfig, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok || v == nil {
		t.Fatalf("service %s: environment %s is not set", s.Name, key)
	}
	return *v
}

func TestComposeServices(t *testing.T) {
	t.Parallel()
	p := mustLoadCompose(t)

	db := service(t, p, "db")
	if got := db.Image; got != "postgres:15" && !strings.HasPrefix(got, "postgres:15-") && !strings.HasPrefix(got, "postgres:15.") {
		t.Errorf("db image = %q, want postgres:15", got)
	}
	if db.HealthCheck == nil || db.HealthCheck.Disable || len(db.HealthCheck.Test) == 0 {
		t.Errorf("db healthcheck = %+v, want one", db.HealthCheck)
	} else if got := strings.Join(db.HealthCheck.Test, " "); !strings.Contains(got, "pg_isready") {
		t.Errorf("db healthcheck test = %q, want pg_isready", got)
	}
	for key, want := range map[string]string{"POSTGRES_DB": "seatsync", "POSTGRES_USER": "seatsync", "POSTGRES_PASSWORD": "pw-from-env"} {
		if got := envValue(t, db, key); got != want {
			t.Errorf("db %s = %q, want %q", key, got, want)
		}
	}
	if !slices.ContainsFunc(db.Volumes, func(v types.ServiceVolumeConfig) bool {
		return v.Type == types.VolumeTypeVolume && v.Target == "/var/lib/postgresql/data"
	}) {
		t.Errorf("db volumes = %+v, want a named volume at /var/lib/postgresql/data", db.Volumes)
	}

	app := service(t, p, "seatsync")
	if app.Build == nil {
		t.Errorf("seatsync build = nil, want the repository's Dockerfile")
	}
	dep, ok := app.DependsOn["db"]
	if !ok {
		t.Fatalf("seatsync depends_on = %v, want db", app.DependsOn)
	}
	if got, want := dep.Condition, types.ServiceConditionHealthy; got != want {
		t.Errorf("seatsync depends_on db condition = %q, want %q", got, want)
	}
	if !slices.ContainsFunc(app.Ports, func(pc types.ServicePortConfig) bool {
		return pc.Target == 8080 && pc.Published == "8080"
	}) {
		t.Errorf("seatsync ports = %+v, want 8080:8080", app.Ports)
	}
	if app.HealthCheck == nil || !slices.Contains(app.HealthCheck.Test, "healthcheck") {
		t.Errorf("seatsync healthcheck = %+v, want the binary's healthcheck subcommand", app.HealthCheck)
	}
	if got, want := app.Restart, types.RestartPolicyUnlessStopped; got != want {
		t.Errorf("seatsync restart = %q, want %q", got, want)
	}
	if app.StopGracePeriod == nil || time.Duration(*app.StopGracePeriod) < 30*time.Second {
		t.Errorf("seatsync stop_grace_period = %v, want at least 30s for the shutdown drain", app.StopGracePeriod)
	}

	for key, want := range map[string]string{
		"SEATSYNC_ENV":              "production",
		"SEATSYNC_DATABASE_DRIVER":  "postgres",
		"SEATSYNC_LISTEN":           ":8080",
		"SEATSYNC_WEBHOOKS_SECRETS": "whsec-from-env",
		"SEATSYNC_AUTH_JWT_SECRET":  "jwt-from-env",
		"SEATSYNC_WORKOS_API_KEY":   "sk-from-env",
		"SEATSYNC_SAML_LOGIN_URL":   "https://sso.example.com/login",
	} {
		if got := envValue(t, app, key); got != want {
			t.Errorf("seatsync %s = %q, want %q", key, got, want)
		}
	}

	raw := envValue(t, app, "SEATSYNC_DATABASE_URL")
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("SEATSYNC_DATABASE_URL = %q: %v", raw, err)
	}
	if got, want := u.Scheme, "postgres"; got != want {
		t.Errorf("database URL scheme = %q, want %q", got, want)
	}
	if got, want := u.Hostname(), "db"; got != want {
		t.Errorf("database URL host = %q, want %q (the compose service)", got, want)
	}
	if got, want := strings.TrimPrefix(u.Path, "/"), "seatsync"; got != want {
		t.Errorf("database URL database = %q, want %q", got, want)
	}
	if got, want := u.User.Username(), "seatsync"; got != want {
		t.Errorf("database URL user = %q, want %q", got, want)
	}
	if got, _ := u.User.Password(); got != "pw-from-env" {
		t.Errorf("database URL password = %q, want the one from POSTGRES_PASSWORD", got)
	}
}

func TestComposeOptionalWorkOSKey(t *testing.T) {
	t.Parallel()
	env := composeEnv()
	delete(env, "SEATSYNC_WORKOS_API_KEY")
	p, err := loadCompose(t, env)
	if err != nil {
		t.Fatalf("load without SEATSYNC_WORKOS_API_KEY: %v, want success (it is optional)", err)
	}
	if got := envValue(t, service(t, p, "seatsync"), "SEATSYNC_WORKOS_API_KEY"); got != "" {
		t.Errorf("SEATSYNC_WORKOS_API_KEY = %q, want empty", got)
	}
}

func TestComposeRequiredVariables(t *testing.T) {
	t.Parallel()
	for _, name := range []string{
		"POSTGRES_PASSWORD",
		"SEATSYNC_WEBHOOKS_SECRETS",
		"SEATSYNC_AUTH_JWT_SECRET",
		"SEATSYNC_SAML_LOGIN_URL",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, value := range []string{"unset", "empty"} {
				env := composeEnv()
				if value == "unset" {
					delete(env, name)
				} else {
					env[name] = ""
				}
				_, err := loadCompose(t, env)
				if err == nil {
					t.Fatalf("load with %s %s: err = nil, want a required-variable error", name, value)
				}
				if !strings.Contains(err.Error(), name) {
					t.Errorf("load with %s %s: err = %q, want it to name %s", name, value, err, name)
				}
			}
		})
	}
}

// interpolation is a value that is entirely one compose variable reference
// with no default to fall back on: ${VAR}, ${VAR:?message}, ${VAR?message},
// or an empty default ${VAR:-} for optional secrets. ${VAR:-hunter2} would be
// a hard-coded secret in disguise.
var interpolation = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*(?::?\?[^}]*|:?-)?\}$`)

// isSecretKey reports whether a key names a secret that must never be written
// into the compose file.
func isSecretKey(key string) bool {
	k := strings.ToUpper(key)
	return strings.Contains(k, "PASSWORD") || strings.Contains(k, "SECRET") || strings.Contains(k, "API_KEY")
}

// TestComposeNoHardcodedSecrets reads the file before interpolation, so that
// every secret is shown to come from the environment of whoever runs compose.
func TestComposeNoHardcodedSecrets(t *testing.T) {
	t.Parallel()
	content, err := os.ReadFile(composePath)
	if err != nil {
		t.Fatal(err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(content, &root); err != nil {
		t.Fatalf("parse %s: %v", composePath, err)
	}

	seen := map[string]bool{}
	var dbURLs []string
	check := func(where, key, value string) {
		if key == "SEATSYNC_DATABASE_URL" {
			dbURLs = append(dbURLs, value)
		}
		if !isSecretKey(key) {
			return
		}
		seen[key] = true
		if !interpolation.MatchString(value) {
			t.Errorf("%s: %s = %q, want ${VAR}, ${VAR:?message} or ${VAR:-} (no hard-coded secret, no default)", where, key, value)
		}
	}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := path + "." + k.Value
				if v.Kind == yaml.ScalarNode {
					check(p, k.Value, v.Value)
				} else if isSecretKey(k.Value) && v.Kind != yaml.MappingNode {
					t.Errorf("%s: secret key with a %v value, want an interpolation", p, v.Kind)
				}
				walk(v, p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				// List-form environment: "KEY=value".
				if c.Kind == yaml.ScalarNode {
					if k, v, ok := strings.Cut(c.Value, "="); ok {
						check(fmt.Sprintf("%s[%d]", path, i), k, v)
					}
				}
				walk(c, path)
			}
		}
	}
	walk(&root, "")

	for _, key := range []string{"POSTGRES_PASSWORD", "SEATSYNC_WEBHOOKS_SECRETS", "SEATSYNC_AUTH_JWT_SECRET", "SEATSYNC_WORKOS_API_KEY"} {
		if !seen[key] {
			t.Errorf("secret key %s not found in %s, want it set from the environment", key, composePath)
		}
	}

	// The database URL embeds the password: that part must be a reference too.
	// Split by hand: url.Parse rejects the spaces of a "${VAR:?message}".
	if len(dbURLs) == 0 {
		t.Fatalf("SEATSYNC_DATABASE_URL not found in %s", composePath)
	}
	for _, raw := range dbURLs {
		_, rest, _ := strings.Cut(raw, "://")
		at := strings.LastIndex(rest, "@")
		if at < 0 {
			continue // no credentials in the URL at all
		}
		if _, password, ok := strings.Cut(rest[:at], ":"); ok && !interpolation.MatchString(password) {
			t.Errorf("SEATSYNC_DATABASE_URL password = %q, want an interpolation ${...}", password)
		}
	}
}

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper-cased keyword: FROM, RUN, ...
	args string
}

type stage struct {
	from         string // image reference
	instructions []instruction
}

// parseDockerfile splits a Dockerfile into stages. It handles comments, blank
// lines and backslash continuations, which is all this repository's file uses.
func parseDockerfile(t *testing.T, text string) []stage {
	t.Helper()
	var (
		stages  []stage
		logical strings.Builder
	)
	flush := func() {
		line := strings.TrimSpace(logical.String())
		logical.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			var image string
			for f := range strings.FieldsSeq(in.args) {
				if !strings.HasPrefix(f, "--") {
					image = f
					break
				}
			}
			stages = append(stages, stage{from: image})
			return
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile: %s before the first FROM", in.cmd)
			}
			return
		}
		stages[len(stages)-1].instructions = append(stages[len(stages)-1].instructions, in)
	}
	for raw := range strings.Lines(text) {
		line := strings.TrimRight(raw, " \t\r\n")
		if trimmed := strings.TrimSpace(line); strings.HasPrefix(trimmed, "#") {
			continue // comments (and parser directives) may sit inside continuations
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			logical.WriteString(cont)
			logical.WriteString(" ")
			continue
		}
		logical.WriteString(line)
		flush()
	}
	flush()
	return stages
}

func (s stage) last(cmd string) (instruction, bool) {
	for i := len(s.instructions) - 1; i >= 0; i-- {
		if s.instructions[i].cmd == cmd {
			return s.instructions[i], true
		}
	}
	return instruction{}, false
}

func TestDockerfile(t *testing.T) {
	t.Parallel()
	content, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	stages := parseDockerfile(t, string(content))
	if got := len(stages); got < 2 {
		t.Fatalf("Dockerfile stages = %d, want a multi-stage build (at least 2)", got)
	}
	build, final := stages[0], stages[len(stages)-1]

	if !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("build stage FROM %q, want a golang image", build.from)
	}
	var cgoOff, builds bool
	for _, in := range build.instructions {
		if (in.cmd == "RUN" || in.cmd == "ENV") && strings.Contains(in.args, "CGO_ENABLED=0") {
			cgoOff = true
		}
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") && strings.Contains(in.args, "./cmd/seatsync") {
			builds = true
		}
	}
	if !cgoOff {
		t.Errorf("build stage sets CGO_ENABLED=0: got false, want true (static binary for distroless/static)")
	}
	if !builds {
		t.Errorf("build stage runs `go build ... ./cmd/seatsync`: got false, want true")
	}

	nonrootImage := strings.Contains(final.from, "distroless") && strings.HasSuffix(final.from, ":nonroot")
	user, hasUser := final.last("USER")
	if hasUser {
		name, _, _ := strings.Cut(user.args, ":")
		if name == "root" || name == "0" {
			t.Errorf("final stage USER %q, want a non-root user", user.args)
		}
	}
	if !nonrootImage && !hasUser {
		t.Errorf("final stage FROM %q without USER, want distroless :nonroot or a non-root USER", final.from)
	}

	copied := slices.ContainsFunc(final.instructions, func(in instruction) bool {
		return in.cmd == "COPY" && strings.Contains(in.args, "--from=") && strings.HasSuffix(in.args, " /seatsync")
	})
	if !copied {
		t.Errorf("final stage copies the binary from the build stage to /seatsync: got false, want true")
	}

	entry, ok := final.last("ENTRYPOINT")
	if !ok {
		t.Fatalf("final stage has no ENTRYPOINT, want [\"/seatsync\"]")
	}
	var entryArgs []string
	if err := yaml.Unmarshal([]byte(entry.args), &entryArgs); err != nil || len(entryArgs) == 0 {
		t.Fatalf("ENTRYPOINT %s: want exec form (JSON array), so signals reach the binary", entry.args)
	}
	if got, want := entryArgs[0], "/seatsync"; got != want {
		t.Errorf("ENTRYPOINT binary = %q, want %q", got, want)
	}

	if expose, ok := final.last("EXPOSE"); !ok || !slices.Contains(strings.Fields(expose.args), "8080") {
		t.Errorf("final stage EXPOSE = %q, want 8080", expose.args)
	}
	if hc, ok := final.last("HEALTHCHECK"); !ok || !strings.Contains(hc.args, "healthcheck") {
		t.Errorf("final stage HEALTHCHECK = %q, want the binary's healthcheck subcommand (no curl on distroless)", hc.args)
	}
}
