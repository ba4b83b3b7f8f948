package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/store/storetest"
)

// TestBenchSmoke is `make bench` in small: 2,000 users from 8 senders against
// an instance on a fresh Postgres, then the script's database checks.
func TestBenchSmoke(t *testing.T) {
	t.Parallel()
	opts := storetest.Options(t, "postgres")
	ti := startInstance(t, testConfig(t, opts), true)
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr bytes.Buffer
	start := time.Now()
	err := run(t.Context(), []string{"bench", "--url", ti.url, "--secret", testSecret, "--jwt-secret", testJWTSecret,
		"--users", "2000", "--senders", "8", "--database-url", opts.URL, "--server-pid", strconv.Itoa(os.Getpid()),
		"--json", out, "--timeout", "2m"}, &stdout, &stderr, nil)
	t.Logf("bench took %v:\n%s%s", time.Since(start).Round(time.Millisecond), stdout.String(), stderr.String())
	if err != nil {
		t.Fatalf("bench: %v", err)
	}
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(raw, &rep); err != nil {
		t.Fatalf("bench JSON: %v\n%s", err, raw)
	}
	if rep.ErrorCount != 0 || rep.Undelivered != 0 || len(rep.Errors) != 0 {
		t.Errorf("errors %v, %d undelivered; want none", rep.Errors, rep.Undelivered)
	}
	if rep.Created != 2000 || rep.DistinctEvents != 2000+rep.Updated+rep.Deactivated || rep.Sends != rep.DistinctEvents+rep.DuplicateSends {
		t.Errorf("stream: %d created, %d distinct, %d sends; want 2000 created and consistent totals", rep.Created, rep.DistinctEvents, rep.Sends)
	}
	if rep.Acked != rep.Sends || rep.AckedAccepted != rep.DistinctEvents {
		t.Errorf("acked %d (%d accepted), want %d (%d accepted)", rep.Acked, rep.AckedAccepted, rep.Sends, rep.DistinctEvents)
	}
	if !rep.Complete || rep.Applied != rep.DistinctEvents || rep.Pending != 0 {
		t.Errorf("applied %d of %d (%d pending, complete %v)", rep.Applied, rep.DistinctEvents, rep.Pending, rep.Complete)
	}
	if rep.IngestPerSec <= 0 || rep.AppliedPerSec <= 0 || rep.LagP99S == nil || rep.PeakRSSMiB == nil || *rep.PeakRSSMiB <= 0 {
		t.Errorf("ingest %v ev/s, applied %v ev/s, lag p99 %v, rss %v: want all measured", rep.IngestPerSec, rep.AppliedPerSec, rep.LagP99S, rep.PeakRSSMiB)
	}
	if rep.PlanMode != "directory" || rep.PaidSeats != int64(rep.ExpectedActiveUsers) || rep.ExpectedActiveUsers != 2000-rep.Deactivated {
		t.Errorf("plan %s with %d paid, want directory with %d", rep.PlanMode, rep.PaidSeats, rep.ExpectedActiveUsers)
	}
	checkBenchDatabase(t, opts.URL, rep)
}

// checkBenchDatabase runs the checks of bench/run.sh: every event stored once
// and finished, each user once, paid seats = the users left active, no
// audit entry written twice.
func checkBenchDatabase(t *testing.T, url string, rep benchReport) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	checks := []struct {
		name, sql string
		want      int
	}{
		{"stored events", "SELECT count(*) FROM inbox_events WHERE event_id LIKE '" + rep.Prefix + "%'", rep.DistinctEvents},
		{"distinct event ids", "SELECT count(DISTINCT event_id) FROM inbox_events", rep.DistinctEvents},
		{"events not applied or stale", "SELECT count(*) FROM inbox_events WHERE status NOT IN ('applied', 'stale')", 0},
		{"directory users", "SELECT count(*) FROM directory_users WHERE directory_id = 'directory_BENCH'", rep.Users},
		{"directory users added", "SELECT count(*) FROM directory_users WHERE added", rep.Users},
		{"users_added", "SELECT users_added FROM directories WHERE id = 'directory_BENCH'", rep.Users},
		{"directory mode", "SELECT count(*) FROM plans WHERE id = 'plan_bench' AND mode = 'directory'", 1},
		{"paid members", "SELECT count(*) FROM members WHERE plan_id = 'plan_bench'", rep.ExpectedActiveUsers},
		{"members in A", "SELECT count(*) FROM members m JOIN directory_users du ON du.email = m.email AND du.in_a WHERE m.plan_id = 'plan_bench'", rep.ExpectedActiveUsers},
		{"duplicated audit entries", "SELECT count(*) FROM (SELECT 1 FROM audit_entries GROUP BY event_id, member_email, action HAVING count(*) > 1) d", 0},
	}
	for _, c := range checks {
		var got int
		if err := conn.QueryRow(t.Context(), c.sql).Scan(&got); err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else if got != c.want {
			t.Errorf("%s = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestBenchStream(t *testing.T) {
	t.Parallel()
	s, err := newBenchStream(2000, 7, "BTEST", time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if s.created != 2000 || s.updated != 40 || s.deactivated != 20 || s.expectedActive != 1980 {
		t.Errorf("created %d, updated %d, deactivated %d, expected active %d; want 2000, 40, 20, 1980",
			s.created, s.updated, s.deactivated, s.expectedActive)
	}
	if len(s.ids) != 2060 || s.duplicates != 20 || len(s.order) != 2080 {
		t.Errorf("%d distinct, %d duplicates, %d sends; want 2060, 20, 2080", len(s.ids), s.duplicates, len(s.order))
	}
	sent := make([]int, len(s.ids))
	for _, i := range s.order {
		sent[i]++
	}
	seen := map[string]bool{}
	for i, id := range s.ids {
		if seen[id] || sent[i] < 1 || sent[i] > 2 {
			t.Fatalf("event %s: seen before %v, sent %d times", id, seen[id], sent[i])
		}
		seen[id] = true
		var env struct {
			ID    string `json:"id"`
			Event string `json:"event"`
		}
		if err := json.Unmarshal(s.bodies[i], &env); err != nil || env.ID != id {
			t.Fatalf("event %d: id %q, err %v; want %s", i, env.ID, err, id)
		}
	}
	if avg := s.payloadBytes / int64(len(s.ids)); avg < 1800 || avg > 2600 {
		t.Errorf("average payload %d bytes, want about 2 KB like the reference fixture", avg)
	}
}

func TestBenchPercentile(t *testing.T) {
	t.Parallel()
	v := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {95, 10}, {99, 10}, {10, 1}, {0, 1}} {
		if got := percentile(v, c.p); got != c.want {
			t.Errorf("percentile(1..10, %v) = %v, want %v", c.p, got, c.want)
		}
	}
	if got := percentile([]float64{}, 50); got != 0 {
		t.Errorf("percentile(empty) = %v, want 0", got)
	}
}
