// Package storetest gives tests a migrated store of their own, on SQLite or on
// a real Postgres: each test gets a fresh database that is dropped afterwards.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/store"
)

// DefaultURL is the Postgres the development and CI machines run.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Dialects are the databases every store test runs on.
var Dialects = []string{"sqlite", "postgres"}

// AdminURL returns the Postgres server URL tests create databases on:
// TEST_DATABASE_URL, or DefaultURL, or a throwaway cluster (see cluster.go).
// An unreachable server fails the test; it never skips.
func AdminURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_DATABASE_URL")
	if u == "" {
		u = DefaultURL
		if err := ping(t.Context(), u); err != nil {
			if cu, ok := throwawayCluster(t); ok {
				return cu
			}
		}
	}
	if err := ping(t.Context(), u); err != nil {
		t.Fatalf("postgres is not reachable at %s: %v\n"+
			"Tests need a real Postgres: start one on 127.0.0.1:5432 (trust auth for user postgres),\n"+
			"or set TEST_DATABASE_URL=postgres://user:pass@host:port/db?sslmode=disable,\n"+
			"or install initdb/pg_ctl so the tests can start a throwaway cluster.", redact(u), err)
	}
	return u
}

func ping(ctx context.Context, u string) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, u)
	if err != nil {
		return err
	}
	return c.Close(ctx)
}

// NewPostgresDB creates an empty database and returns its URL; it is dropped when t ends.
func NewPostgresDB(t testing.TB) string {
	t.Helper()
	admin := AdminURL(t)
	name := "seatsync_test_" + randomHex(6)
	execSQL(t, admin, "CREATE DATABASE "+name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Errorf("drop test database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("parse %s: %v", redact(admin), err)
	}
	u.Path = "/" + name
	return u.String()
}

func execSQL(t testing.TB, u, sql string) {
	t.Helper()
	c, err := pgx.Connect(t.Context(), u)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// Options returns store options for a fresh, empty database of the dialect.
func Options(t testing.TB, dialect string) store.Options {
	t.Helper()
	switch dialect {
	case "sqlite":
		return store.Options{Driver: "sqlite", Path: filepath.Join(t.TempDir(), "seatsync.db")}
	case "postgres":
		return store.Options{Driver: "postgres", URL: NewPostgresDB(t), MaxOpenConns: 20}
	}
	t.Fatalf("unknown dialect %q", dialect)
	return store.Options{}
}

// Open returns a migrated store on a fresh database of the dialect.
func Open(t testing.TB, dialect string) *store.Store {
	t.Helper()
	return OpenWith(t, Options(t, dialect))
}

// OpenWith opens and migrates a store with opts; it is closed when t ends.
func OpenWith(t testing.TB, opts store.Options) *store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), opts)
	if err != nil {
		t.Fatalf("open %s store: %v", opts.Driver, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate %s store: %v", opts.Driver, err)
	}
	return s
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable URL)"
	}
	return p.Redacted()
}

// Each runs f as a parallel subtest on every dialect.
func Each(t *testing.T, f func(t *testing.T, dialect string)) {
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			f(t, d)
		})
	}
}
