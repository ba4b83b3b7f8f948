package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestGrowthAnalyze: the statistics refresh follows directory users written,
// by the batched path as by the one-by-one path, and analyzes the tables
// whose plans a growing sync or reconciliation depends on, reconcile_seen
// included; below its threshold it does not run.
func TestGrowthAnalyze(t *testing.T) {
	t.Parallel()
	opts := storetest.Options(t, "postgres")
	s := storetest.OpenWith(t, opts)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, opts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	analyzed := func() map[string]int64 {
		t.Helper()
		rows, err := conn.Query(ctx, `SELECT relname, analyze_count FROM pg_stat_user_tables
			WHERE relname IN ('directory_users', 'members', 'inbox_events', 'audit_entries', 'reconcile_seen')`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		m := map[string]int64{}
		for rows.Next() {
			var name string
			var n int64
			if err := rows.Scan(&name, &n); err != nil {
				t.Fatal(err)
			}
			m[name] = n
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return m
	}
	putDirectory(t, s)
	users := func(from, n int) []membership.DirectoryUser {
		us := make([]membership.DirectoryUser, n)
		for i := range us {
			us[i] = membership.DirectoryUser{ID: fmt.Sprintf("u%05d", from+i), DirectoryID: "d", Email: fmt.Sprintf("u%05d@acme.test", from+i)}
		}
		return us
	}
	if err := s.SaveDirectoryUsers(ctx, users(0, 998)); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveDirectoryUser(ctx, users(998, 1)[0]); err != nil {
		t.Fatal(err)
	}
	// Statistics reach pg_stat_user_tables within a second of a backend going
	// idle; a refresh started by mistake would have shown by then.
	time.Sleep(1500 * time.Millisecond)
	for table, n := range analyzed() {
		if n != 0 {
			t.Fatalf("%s analyzed %d times after 999 users, want none below the threshold of 1,000", table, n)
		}
	}
	if err := s.SaveDirectoryUser(ctx, users(999, 1)[0]); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := analyzed()
		missing := ""
		for _, table := range []string{"directory_users", "members", "inbox_events", "audit_entries", "reconcile_seen"} {
			if got[table] == 0 {
				missing = table
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 1,000 directory users, %s was not analyzed (analyze counts %v)", missing, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
