package store

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"
)

// growth refreshes Postgres's planner statistics while an initial sync or a
// first reconciliation grows the tables from nothing: autovacuum analyzes at
// most once a minute, and until it does, the planner believes members holds a
// few dozen rows, and the generic plans it caches for prepared statements read
// the whole table for every batch (measured: 40 ms instead of 2 ms per claims
// lookup at 20,000 users; a reconciliation's lookups of 100 ids by primary key
// scanned directory_users, 20 ms at 10,000 rows). An ANALYZE also makes
// Postgres drop those cached plans. The directory users written stand for the
// growth of the tables the applier reads, and of reconcile_seen, which a
// reconciliation fills as it lists (believed empty, it turned marking the
// unlisted users gone into a nested loop over every pair: 5 s at 10,000). It
// is a performance hint only; nothing depends on it for correctness.
type growth struct {
	db       *gorm.DB // the pool, never a transaction
	log      func(msg string, args ...any)
	rows     atomic.Int64 // directory users written since the last ANALYZE
	baseline atomic.Int64 // directory users written before the last ANALYZE
	running  sync.Mutex
}

// noteWritten counts n directory users written and starts an ANALYZE in the
// background once they grew by half since the last one (and by at least 1,000).
func (s *Store) noteWritten(n int) {
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
			return tx.Exec("ANALYZE inbox_events, directory_users, members, audit_entries, reconcile_seen").Error
		})
		if err != nil {
			g.log("analyze after growth", "err", err)
		}
	}()
}
