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

// rowsCTE returns "WITH v(names) AS (…)" over cols, slices of n values each
// (one per name), and the statement's arguments.
func (s *Store) rowsCTE(names string, n int, cols ...any) (string, []any) {
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
func (s *Store) execRows(ctx context.Context, q string, args []any) (int64, error) {
	res, err := s.q(ctx).Statement.ConnPool.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}

// queryStrings runs a statement built on rowsCTE that returns one text column.
func (s *Store) queryStrings(ctx context.Context, q string, args []any) ([]string, error) {
	rows, err := s.q(ctx).Statement.ConnPool.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	defer func(rows *sql.Rows) { _ = rows.Close() }(rows)
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, translate(err)
		}
		out = append(out, v)
	}
	return out, translate(rows.Err())
}
