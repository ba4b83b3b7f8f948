package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/go-gormigrate/gormigrate/v2"
	"gorm.io/gorm"
)

// Migrations are numbered SQL files, one folder per dialect, so a reviewer reads
// the exact DDL each database runs; gormigrate records them in schema_migrations.
//
//go:embed migrations
var migrationFiles embed.FS

const migrationTable = "schema_migrations"

// migrateLockKey is the Postgres advisory lock that makes replicas starting
// together run the migrations one at a time.
const migrateLockKey = 0x5ea75ec

func (s *Store) migrations() ([]*gormigrate.Migration, error) {
	dir := path.Join("migrations", s.dialect)
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	var ms []*gormigrate.Migration
	for _, e := range entries {
		sql, err := fs.ReadFile(migrationFiles, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		ms = append(ms, &gormigrate.Migration{
			ID:      strings.TrimSuffix(e.Name(), ".sql"),
			Migrate: func(tx *gorm.DB) error { return tx.Exec(string(sql)).Error },
		})
	}
	return ms, nil
}

// Migrate applies every migration not applied yet. It is idempotent.
func (s *Store) Migrate(ctx context.Context) error {
	ms, err := s.migrations()
	if err != nil {
		return err
	}
	return s.withMigrateLock(ctx, func(db *gorm.DB) error {
		opts := *gormigrate.DefaultOptions
		opts.TableName = migrationTable
		opts.UseTransaction = true
		if err := gormigrate.New(db, &opts, ms).Migrate(); err != nil {
			return fmt.Errorf("migrate: %w", translate(err))
		}
		return nil
	})
}

func (s *Store) withMigrateLock(ctx context.Context, fn func(*gorm.DB) error) error {
	if s.dialect != "postgres" {
		return fn(s.q(ctx))
	}
	// The advisory lock belongs to a session, so hold one connection throughout.
	return s.q(ctx).Connection(func(db *gorm.DB) error {
		if err := db.Exec("SELECT pg_advisory_lock(?)", migrateLockKey).Error; err != nil {
			return fmt.Errorf("migrate: lock: %w", translate(err))
		}
		defer db.Exec("SELECT pg_advisory_unlock(?)", migrateLockKey)
		return fn(db)
	})
}

// MigrationsCurrent reports whether every known migration has been applied.
func (s *Store) MigrationsCurrent(ctx context.Context) (bool, error) {
	ms, err := s.migrations()
	if err != nil {
		return false, err
	}
	var n int64
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	err = s.q(ctx).Table(migrationTable).Where("id IN ?", ids).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("check migrations: %w", translate(err))
	}
	return n == int64(len(ms)), nil
}
