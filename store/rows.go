package store

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// Multi-row statements (the inbox insert, the appliers' upserts, inserts and
// finishing update) read their rows from a CTE v that rowsCTE builds from
// column slices. On Postgres the columns travel as arrays and unnest turns
// them back into rows, so the statement's text is the same for any number of
// rows: pgx prepares it once per connection and Postgres plans it once, with
// one parameter per column. A VALUES list is a new statement for every batch
// size, which pgx prepared (one more round trip) and Postgres parsed and
// planned, thousands of expressions each time. SQLite gets the VALUES list.

// rowsCTE returns "WITH v(names) AS (…)" over cols, slices of equal length
// (one per name), and the statement's arguments. Lookups by a list of keys
// join v too: a list of a thousand placeholders was, besides a new statement
// per length, a thousand selectivity estimates for every custom plan.
func (s *Store) rowsCTE(names string, cols ...any) (string, []any) {
	var sb strings.Builder
	sb.WriteString("WITH v(" + names + ") AS (")
	if s.dialect == "postgres" {
		sb.WriteString("SELECT * FROM unnest(")
		for i, c := range cols {
			if i > 0 {
				sb.WriteString(", ")
			}
			fmt.Fprintf(&sb, "$%d::%s", i+1, pgArrayType(c))
		}
		sb.WriteString("))")
		return sb.String(), cols
	}
	n := reflect.ValueOf(cols[0]).Len()
	if n == 0 { // VALUES needs a row
		return sb.String() + "SELECT " + strings.TrimSuffix(strings.Repeat("NULL, ", len(cols)), ", ") + " WHERE false)", nil
	}
	vals := make([]reflect.Value, len(cols))
	for i, c := range cols {
		vals[i] = reflect.ValueOf(c)
	}
	args := make([]any, 0, n*len(cols))
	sb.WriteString("VALUES ")
	for r := range n {
		if r > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString("(" + strings.Repeat("?, ", len(cols)-1) + "?)")
		for _, v := range vals {
			args = append(args, v.Index(r).Interface())
		}
	}
	sb.WriteString(")")
	return sb.String(), args
}

// bind appends v to the arguments of a statement built on rowsCTE and
// returns its placeholder. Placeholders must be bound in the order they
// appear in the statement (SQLite numbers them by position), and only where
// the context gives them a type (a comparison, an assignment to a column):
// in the SELECT list of an INSERT a constant, such as the batch's time, goes
// in as a column of rowsCTE instead.
func (s *Store) bind(args []any, v any) (string, []any) {
	args = append(args, v)
	if s.dialect == "postgres" {
		return fmt.Sprintf("$%d", len(args)), args
	}
	return "?", args
}

// pgArrayType names the Postgres array type pgx sends a column slice as.
func pgArrayType(col any) string {
	switch col.(type) {
	case []string, []*string:
		return "text[]"
	case [][]byte:
		return "bytea[]"
	case []time.Time, []*time.Time:
		return "timestamptz[]"
	case []bool:
		return "boolean[]"
	case []int64:
		return "bigint[]"
	}
	panic(fmt.Sprintf("store: no Postgres array type for %T", col)) // a column type this file does not know yet
}

// execRows runs a statement built on rowsCTE on the connection or transaction
// directly: GORM's builder would expand each slice argument into a list.
func (s *Store) execRows(ctx context.Context, q string, args []any) error {
	_, err := s.q(ctx).Statement.ConnPool.ExecContext(ctx, q, args...)
	return translate(err)
}

// queryRows runs a query built on rowsCTE and calls scan for each row.
func (s *Store) queryRows(ctx context.Context, q string, args []any, scan func(*sql.Rows) error) error {
	rows, err := s.q(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := scan(rows); err != nil {
			return translate(err)
		}
	}
	return translate(rows.Err())
}
