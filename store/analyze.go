package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// growth refreshes Postgres's planner statistics while an initial sync grows
// the tables from nothing: autovacuum analyzes at most once a minute, and until
// it does, the planner believes members holds a few dozen rows and picks plans
// that read the whole table for every batch (measured: 40 ms instead of 2 ms
// per claims lookup at 20,000 users). It is a performance hint only; nothing
// depends on it for correctness.
type growth struct {
	db       *gorm.DB // the pool, never a transaction
	log      func(msg string, args ...any)
	rows     atomic.Int64 // rows inserted since the last ANALYZE
	baseline atomic.Int64 // rows inserted before the last ANALYZE
	running  sync.Mutex
}

// noteInserted counts n new rows and starts an ANALYZE in the background once
// the tables grew by half since the last one (and by at least 1,000 rows).
func (s *Store) noteInserted(n int) {
	g := s.growth
	if g == nil || n <= 0 {
		return
	}
	if g.rows.Add(int64(n)) < max(1000, g.baseline.Load()/2) || !g.running.TryLock() {
		return
	}
	go func() {
		defer g.running.Unlock()
		grown := g.rows.Swap(0)
		g.baseline.Add(grown)
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// A small sample (3,000 rows a table instead of 30,000) is enough to
		// steer the planner to the indexes, and it keeps these ANALYZEs, run
		// while the sync is loading the database, from costing more CPU than
		// the batches they speed up. Autovacuum's later ANALYZE takes the full sample.
		err := g.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
			if err := tx.Exec("SET LOCAL default_statistics_target = 10").Error; err != nil {
				return err
			}
			return tx.Exec("ANALYZE inbox_events, directory_users, members, audit_entries").Error
		})
		if err != nil {
			g.log("analyze after growth", "err", err)
		}
	}()
}
