package main

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/store/storetest"
)

// TestReplicas runs three instances on one Postgres and delivers every event of
// a burst to two of them at once: the end state equals one instance's, nothing
// deadlocks, and no change is audited twice.
func TestReplicas(t *testing.T) {
	t.Parallel()
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	r := rand.New(rand.NewPCG(seed, 2))
	hs := make([]history, 40)
	var bodies, deletes [][]byte
	for i := range hs {
		hs[i] = genHistory(r, i)
		bodies = append(bodies, hs[i].events...)
		deletes = append(deletes, hs[i].deletes...)
	}
	opts := storetest.Options(t, "postgres")
	var replicas []*testInstance
	for range 3 {
		replicas = append(replicas, startInstance(t, testConfig(t, opts, "SEATSYNC_APPLIER_WORKERS=4"), true))
	}
	ref := startInstance(t, testConfig(t, storetest.Options(t, "postgres")), false)
	for _, h := range hs {
		h.setup(t, replicas[0])
		h.setup(t, ref)
	}
	sendAll(t, []string{ref.url}, append(append([][]byte{}, bodies...), deletes...), 1)
	if err := ref.applier.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}

	// Each event goes to two replicas: urls[i%3] and urls[(i+1)%3] via the doubled list.
	burst := shuffled(r, bodies, 0)
	var doubled [][]byte
	var urls []string
	for i, b := range burst {
		doubled = append(doubled, b, b)
		urls = append(urls, replicas[i%3].url, replicas[(i+1)%3].url)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		sendAll(t, urls, doubled, 12) // urls[i] belongs to doubled[i]
		settle(t, replicas[0])
		sendAll(t, []string{replicas[1].url, replicas[2].url}, deletes, 4)
		settle(t, replicas[0])
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Minute):
		t.Fatal("replicas did not settle within 10 minutes: deadlock?")
	}
	if want, got := dump(t, ref), dump(t, replicas[0]); want != got {
		t.Fatalf("replicas differ from one instance (seed %d):\n%s", seed, diffLines(want, got))
	}
	conn, err := pgx.Connect(context.Background(), opts.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var dups int
	err = conn.QueryRow(context.Background(), `SELECT COUNT(*) FROM (SELECT event_id, member_email, action FROM audit_entries
		WHERE event_id <> '' GROUP BY event_id, member_email, action HAVING COUNT(*) > 1) d`).Scan(&dups)
	if err != nil {
		t.Fatal(err)
	}
	if dups != 0 {
		t.Errorf("%d audit entries written twice", dups)
	}
}
