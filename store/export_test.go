package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RecentRevocationsPlan explains RecentRevocations' query for plan p. On
// Postgres it is the generic plan: the one a statement the driver prepared
// and cached runs with after a few executions, which knows no parameter's
// value.
func (s *Store) RecentRevocationsPlan(ctx context.Context) (string, error) {
	if s.dialect == "sqlite" {
		var rows []struct{ Detail string }
		err := s.q(ctx).Raw("EXPLAIN QUERY PLAN "+recentRevocations, "p", "p", time.Now().UTC()).Find(&rows).Error
		var lines []string
		for _, r := range rows {
			lines = append(lines, r.Detail)
		}
		return strings.Join(lines, "\n"), err
	}
	q := recentRevocations
	for n := 1; strings.Contains(q, "?"); n++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", n), 1)
	}
	var lines []string
	err := s.q(ctx).Connection(func(db *gorm.DB) error {
		defer db.Exec("RESET plan_cache_mode")
		for _, stmt := range []string{"ANALYZE audit_entries", "SET plan_cache_mode = force_generic_plan",
			"PREPARE recent_revocations_plan AS " + q} {
			if err := db.Exec(stmt).Error; err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		defer db.Exec("DEALLOCATE recent_revocations_plan")
		return db.Raw("EXPLAIN EXECUTE recent_revocations_plan('p', 'p', now())").Find(&lines).Error
	})
	return strings.Join(lines, "\n"), err
}
