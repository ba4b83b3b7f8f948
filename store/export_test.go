package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
)

// RecentRevocationsPlan explains RecentRevocations' query for plan p.
func (s *Store) RecentRevocationsPlan(ctx context.Context) (string, error) {
	return s.explain(ctx, "audit_entries", recentRevocations, "p", "p", time.Now().UTC())
}

// ListEventsPlan explains ListEvents' query for status.
func (s *Store) ListEventsPlan(ctx context.Context, status string) (string, error) {
	q, args := listEventsQuery(status, 0, 51)
	return s.explain(ctx, "inbox_events", q, args...)
}

// PlanFailedEventsPlan explains the query of PlanEventCounts' failed count for plan p.
func (s *Store) PlanFailedEventsPlan(ctx context.Context) (string, error) {
	return s.explain(ctx, "inbox_events", planFailedEvents, "p")
}

// explain explains query (with ? placeholders) for args after analyzing
// table. On Postgres it shows the generic plan: the one a statement the
// driver prepared and cached runs with after a few executions, which knows
// no parameter's value (the arguments are passed to EXECUTE as literals).
func (s *Store) explain(ctx context.Context, table, query string, args ...any) (string, error) {
	if s.dialect == "sqlite" {
		var rows []struct{ Detail string }
		err := s.q(ctx).Raw("EXPLAIN QUERY PLAN "+query, args...).Find(&rows).Error
		var lines []string
		for _, r := range rows {
			lines = append(lines, r.Detail)
		}
		return strings.Join(lines, "\n"), err
	}
	q := query
	for n := 1; strings.Contains(q, "?"); n++ {
		q = strings.Replace(q, "?", fmt.Sprintf("$%d", n), 1)
	}
	lits := make([]string, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case string:
			lits[i] = "'" + strings.ReplaceAll(v, "'", "''") + "'"
		case time.Time:
			lits[i] = "'" + v.Format(time.RFC3339Nano) + "'"
		default:
			lits[i] = fmt.Sprint(v)
		}
	}
	var lines []string
	err := s.q(ctx).Connection(func(db *gorm.DB) error {
		defer db.Exec("RESET plan_cache_mode")
		for _, stmt := range []string{"ANALYZE " + table, "SET plan_cache_mode = force_generic_plan",
			"PREPARE explained_plan AS " + q} {
			if err := db.Exec(stmt).Error; err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		defer db.Exec("DEALLOCATE explained_plan")
		return db.Raw("EXPLAIN EXECUTE explained_plan(" + strings.Join(lits, ", ") + ")").Find(&lines).Error
	})
	return strings.Join(lines, "\n"), err
}
