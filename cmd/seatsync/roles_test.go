package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/store/storetest"
)

// migrateLockKey is store's advisory lock around migrations (store/migrate.go).
const migrateLockKey = 0x5ea75ec

// TestLeastPrivilegeRole follows docs/OPERATIONS.md on a fresh database, with
// the SQL taken from that file: a migrator role owns the schema and migrates,
// an app role gets rows only. seatsync then serves as the app role with
// database.auto_migrate off and never attempts a migration; events are
// stored, applied and retried, the plan status is read; and the app role can
// neither create nor drop a table.
func TestLeastPrivilegeRole(t *testing.T) {
	t.Parallel()
	dbURL := storetest.NewPostgresDB(t)
	admin := pgConnect(t, dbURL)
	var super bool
	if err := admin.QueryRow(t.Context(), "SELECT rolsuper FROM pg_roles WHERE rolname = current_user").Scan(&super); err != nil {
		t.Fatal(err)
	}
	if !super {
		t.Skip("creating roles and handing them a database needs a superuser at TEST_DATABASE_URL")
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	// Roles are cluster-wide and tests run in parallel: unique names, dropped at the end.
	suffix := randomSuffix(t)
	mig, app := "seatsync_migrator_"+suffix, "seatsync_app_"+suffix
	migPW, appPW := randomSuffix(t), randomSuffix(t)
	t.Cleanup(func() { dropRoles(t, dbURL, mig, app) })
	roleURL := func(role, pw string) string {
		r := *u
		r.User = url.UserPassword(role, pw)
		return r.String()
	}
	migURL, appURL := roleURL(mig, migPW), roleURL(app, appPW)

	blocks := sqlBlocks(t, "../../docs/OPERATIONS.md")
	if len(blocks) != 3 {
		t.Fatalf("docs/OPERATIONS.md has %d sql blocks, want 3 (cluster, schema, grants)", len(blocks))
	}
	doc := strings.NewReplacer("seatsync_migrator", mig, "seatsync_app", app, "change-me-migrator", migPW, "change-me-app", appPW,
		// The test database exists already: hand it over instead of creating it.
		"CREATE DATABASE seatsync OWNER", "ALTER DATABASE "+dbName+" OWNER TO", "DATABASE seatsync", "DATABASE "+dbName)
	pgExec(t, admin, doc.Replace(blocks[0])) // step 1, as a superuser
	pgExec(t, admin, doc.Replace(blocks[1])) // step 2, as a superuser in the database

	// Step 3: migrate as the migrator.
	environ := []string{"SEATSYNC_DATABASE_DRIVER=postgres", "SEATSYNC_WEBHOOKS_SECRETS=" + testSecret,
		"SEATSYNC_AUTH_JWT_SECRET=" + testJWTSecret, "SEATSYNC_LISTEN=127.0.0.1:0", "SEATSYNC_LOG_LEVEL=warn",
		"SEATSYNC_SEATS_CUTOVER_GRACE=0s"}
	var out bytes.Buffer
	if err := run(t.Context(), []string{"migrate"}, &out, &out, append(environ, "SEATSYNC_DATABASE_URL="+migURL)); err != nil {
		t.Fatalf("seatsync migrate as %s: %v\n%s", mig, err, out.String())
	}
	migrator := pgConnect(t, migURL)
	pgExec(t, migrator, doc.Replace(blocks[2])) // step 4, as the migrator

	// A later migration's table is the app's too, through the default privileges.
	pgExec(t, migrator, "CREATE TABLE later_migration (id BIGSERIAL PRIMARY KEY, v TEXT)")
	appConn := pgConnect(t, appURL)
	pgExec(t, appConn, "INSERT INTO later_migration (v) VALUES ('x'); DELETE FROM later_migration")
	for _, ddl := range []string{
		"CREATE TABLE app_table (i INT)",
		"DROP TABLE inbox_events",
		"ALTER TABLE members ADD COLUMN x INT",
		"CREATE INDEX app_index ON members (name)",
		"TRUNCATE audit_entries",
	} {
		var pe *pgconn.PgError
		if _, err := appConn.Exec(t.Context(), ddl); !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("%s as %s = %v; want permission denied (42501)", ddl, app, err)
		}
	}

	// Step 5: the app role with auto_migrate off. While another session holds
	// the migration lock, starting with auto_migrate on waits for it (the
	// control), and starting with it off does not: no migration is attempted.
	appEnv := append(environ, "SEATSYNC_DATABASE_URL="+appURL)
	if _, err := admin.Exec(t.Context(), "SELECT pg_advisory_lock($1)", int64(migrateLockKey)); err != nil {
		t.Fatal(err)
	}
	start := func(autoMigrate string, timeout time.Duration) error {
		cfg := loadConfig(t, append(appEnv, "SEATSYNC_DATABASE_AUTO_MIGRATE="+autoMigrate))
		ctx, cancel := context.WithTimeout(t.Context(), timeout)
		defer cancel()
		svc, err := newService(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err == nil {
			_ = svc.store.Close()
		}
		t.Logf("start with auto_migrate=%s: %v", autoMigrate, err)
		return err
	}
	if err := start("true", 2*time.Second); err == nil || !strings.Contains(err.Error(), "migrate: lock") {
		t.Fatalf("serve with auto_migrate on = %v; want it to wait for the migration lock until its deadline, "+
			"or the control proves nothing", err)
	}
	if err := start("false", 10*time.Second); err != nil {
		t.Fatalf("serve as %s with auto_migrate off: %v", app, err)
	}
	if _, err := admin.Exec(t.Context(), "SELECT pg_advisory_unlock($1)", int64(migrateLockKey)); err != nil {
		t.Fatal(err)
	}

	ti := startInstance(t, loadConfig(t, append(appEnv, "SEATSYNC_DATABASE_AUTO_MIGRATE=false")), false)
	if res, err := http.Get(ti.url + "/readyz"); err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("readyz as %s = %v, %v; want 200", app, res, err)
	} else {
		_ = res.Body.Close()
	}
	call := func(method, path string, body, out any, want int) {
		t.Helper()
		if code := ti.apiCall(t, method, path, body, out); code != want {
			t.Fatalf("%s %s as %s = %d, want %d", method, path, app, code, want)
		}
	}
	call(http.MethodPut, "/api/v1/organizations/repair", map[string]any{"name": "Repair", "domains": []string{"repair.test"}}, nil, http.StatusOK)
	call(http.MethodPut, "/api/v1/plans/plan_repair", map[string]any{"organization_id": "repair", "name": "Repair",
		"admins": []string{"admin@repair.test"}, "workos_organization_id": "org_REPAIR"}, nil, http.StatusCreated)
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(bodies ...[]byte) {
		t.Helper()
		for _, body := range bodies {
			if code := deliver(t, client, ti.url, body); code != http.StatusOK {
				t.Fatalf("delivery as %s: %d", app, code)
			}
		}
		if err := ti.applier.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	// The first event names no organization for its unknown directory: it fails.
	send(userCreated("event_role_orphan", "directory_user_3", "three@repair.test", ""))
	send(userCreated("event_role_1", "directory_user_1", "one@repair.test", "org_REPAIR"),
		userCreated("event_role_2", "directory_user_2", "two@repair.test", "org_REPAIR"))
	// Now the directory is known, so a retry applies it.
	var retried struct{ Retried, Skipped int }
	call(http.MethodPost, "/api/v1/events/retry", map[string]any{"outcome": "failed"}, &retried, http.StatusOK)
	if retried.Retried != 1 {
		t.Fatalf("retry of failed events as %s = %+v, want 1 retried", app, retried)
	}
	send()
	var status struct {
		Mode  string `json:"mode"`
		Seats struct {
			Paid int `json:"paid"`
		} `json:"seats"`
	}
	call(http.MethodGet, "/api/v1/plans/plan_repair", nil, &status, http.StatusOK)
	if status.Mode != "test" || status.Seats.Paid != 3 {
		t.Fatalf("plan status as %s = %+v; want test mode with 3 paid seats", app, status)
	}
}

// sqlBlocks returns the ```sql fenced blocks of a Markdown file, in order.
func sqlBlocks(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []string
	var cur *strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case cur == nil && line == "```sql":
			cur = &strings.Builder{}
		case cur != nil && line == "```":
			blocks = append(blocks, cur.String())
			cur = nil
		case cur != nil:
			cur.WriteString(line + "\n")
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return blocks
}

func pgConnect(t *testing.T, u string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatalf("connect as %s: %v", userOf(u), err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// pgExec runs each statement of sql (separated by ";" at line ends) on its own,
// so none runs in an implicit transaction with the others.
func pgExec(t *testing.T, c *pgx.Conn, sql string) {
	t.Helper()
	for stmt := range strings.SplitSeq(sql, ";\n") {
		if stmt = strings.TrimSuffix(strings.TrimSpace(stmt), ";"); stmt == "" {
			continue
		}
		if _, err := c.Exec(t.Context(), stmt); err != nil {
			t.Fatalf("%s (as %s): %v", stmt, c.Config().User, err)
		}
	}
}

// dropRoles drops roles created by a test: ownership goes back to the
// connecting superuser, their privileges are dropped, then the roles.
func dropRoles(t *testing.T, dbURL string, roles ...string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Errorf("drop roles %v: %v", roles, err)
		return
	}
	defer c.Close(ctx)
	for _, r := range roles {
		var exists bool
		if err := c.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", r).Scan(&exists); err != nil || !exists {
			continue
		}
		id := pgx.Identifier{r}.Sanitize()
		for _, q := range []string{"REASSIGN OWNED BY " + id + " TO CURRENT_USER", "DROP OWNED BY " + id, "DROP ROLE " + id} {
			if _, err := c.Exec(ctx, q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	}
}

func loadConfig(t *testing.T, environ []string) *config.Config {
	t.Helper()
	cfg, err := config.LoadFrom("", environ)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func randomSuffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func userOf(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return "?"
	}
	return p.User.Username()
}
