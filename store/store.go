// Package store keeps seatsync's state in Postgres or an embedded SQLite file,
// through GORM. It is the only package that imports GORM.
package store

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Options selects and tunes the database.
type Options struct {
	Driver       string // "sqlite" or "postgres"
	Path         string // SQLite file
	URL          string // Postgres URL
	MaxOpenConns int
	Log          *slog.Logger
}

// Store is the database. It wraps either the connection pool or one
// transaction, so the same methods run inside Tx.
type Store struct {
	db      *gorm.DB
	dialect string
	log     *slog.Logger
	growth  *growth // Postgres only; shared by the store and its transactions
}

// Open connects to the database named by opts.
func Open(ctx context.Context, opts Options) (*Store, error) {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg := &gorm.Config{TranslateError: true, Logger: logger.Discard, NowFunc: func() time.Time { return time.Now().UTC() }}
	var dial gorm.Dialector
	switch opts.Driver {
	case "postgres":
		dial = postgres.Open(opts.URL)
	case "sqlite":
		if dir := filepath.Dir(opts.Path); dir != "" {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("open store: %w", err)
			}
		}
		// WAL lets readers run beside the one writer; busy_timeout waits for it.
		dial = sqlite.Open(opts.Path + "?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)")
	default:
		return nil, fmt.Errorf("open store: unknown driver %q", opts.Driver)
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", translate(err))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if opts.Driver == "sqlite" {
		// SQLite has one writer; a single connection turns lock contention into
		// queueing instead of SQLITE_BUSY errors.
		sqlDB.SetMaxOpenConns(1)
	} else if opts.MaxOpenConns > 0 {
		sqlDB.SetMaxOpenConns(opts.MaxOpenConns)
		sqlDB.SetMaxIdleConns(opts.MaxOpenConns)
	}
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, dialect: opts.Driver, log: log}
	if opts.Driver == "postgres" {
		s.growth = &growth{db: db, log: log.Warn}
	}
	if err := s.Ping(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, err
	}
	return s, nil
}

// Dialect is "postgres" or "sqlite".
func (s *Store) Dialect() string { return s.dialect }

// Close closes the connection pool.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	return sqlDB.Close()
}

// Pool returns the connection pool, for its statistics (the go_sql_* metrics);
// queries go through Store's methods. It fails on a Store inside Tx.
func (s *Store) Pool() (*sql.DB, error) { return s.db.DB() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return translate(err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping database: %w", translate(err))
	}
	return nil
}

// Tx runs fn in one transaction; fn's Store sees only that transaction.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&Store{db: db, dialect: s.dialect, log: s.log, growth: s.growth})
	})
	if err != nil {
		return translate(err)
	}
	return nil
}

// Snapshot runs fn in a read-only transaction that sees one snapshot of the
// database throughout (repeatable read on Postgres; SQLite's WAL gives a
// transaction one snapshot from its first read).
func (s *Store) Snapshot(ctx context.Context, fn func(tx *Store) error) error {
	var opts []*sql.TxOptions
	if s.dialect == "postgres" {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		return fn(&Store{db: db, dialect: s.dialect, log: s.log, growth: s.growth})
	}, opts...)
	if err != nil {
		return translate(err)
	}
	return nil
}

// q starts a query. Raw queries read their rows with Find, not Scan: gorm's
// Scan renders every statement with its arguments for a trace recorder even
// when logging is off, which cost the ingest path (256 two-kilobyte payloads
// a statement) about a tenth of the server's CPU.
func (s *Store) q(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// forUpdate is the row-lock suffix; SQLite serializes writers by itself.
func (s *Store) forUpdate() string {
	if s.dialect == "postgres" {
		return " FOR UPDATE"
	}
	return ""
}
