package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/store"
)

func (e *env) loadConfig() (*config.Config, error) {
	return config.LoadFrom(e.configPath, e.environ)
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(strings.ToUpper(cfg.Log.Level))) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat() == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func rules(cfg *config.Config) store.Rules {
	return store.Rules{TestModeLimit: cfg.Seats.TestModeLimit, CutoverGrace: cfg.Seats.CutoverGrace,
		OnDirectoryDeleted: cfg.Seats.OnDirectoryDeleted}
}

// openStore opens the configured database and, when migrate is set, brings
// its schema up to date.
func openStore(ctx context.Context, cfg *config.Config, log *slog.Logger, migrate bool) (*store.Store, error) {
	st, err := store.Open(ctx, store.Options{Driver: cfg.Database.Driver, Path: cfg.Database.Path, URL: cfg.Database.URL,
		MaxOpenConns: cfg.Database.MaxOpenConns, Log: log})
	if err != nil {
		return nil, err
	}
	if migrate {
		if err := st.Migrate(ctx); err != nil {
			_ = st.Close()
			return nil, err
		}
	}
	return st, nil
}

func migrateCmdRun(ctx context.Context, e *env) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg, newLogger(cfg, e.stderr), true)
	if err != nil {
		return err
	}
	defer st.Close()
	_, err = fmt.Fprintf(e.stdout, "migrations applied (%s)\n", cfg.Database.Driver)
	return err
}
