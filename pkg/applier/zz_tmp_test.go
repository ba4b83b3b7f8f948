package applier_test

import (
	"database/sql"
	"testing"
)

func TestZZSyncCommit(t *testing.T) {
	w := newWorld(t, "postgres", rules)
	db, _ := sql.Open("pgx", w.opts.URL)
	defer db.Close()
	var v string
	if err := db.QueryRow("SHOW synchronous_commit").Scan(&v); err != nil {
		t.Fatal(err)
	}
	t.Log(v)
}
