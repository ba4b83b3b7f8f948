//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/internal/workossim"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestFaults runs seatsync as real processes on real Postgres, on loopback
// only, and breaks things while a WorkOS-like sender (internal/workossim)
// delivers: Postgres crashes, a replica is killed with SIGKILL or stopped with
// SIGTERM mid-burst, the database stalls on a lock, WorkOS goes away. Each
// case ends by checking that every acknowledged event was applied exactly once
// and that the seats equal those of applying the same events in order.
//
// The cases and their results are the table of docs/RELIABILITY.md
// (faultRows, TestReliabilityDoc); -faults.update rewrites its observed column
// from this run. The short mode runs in `make test`; -faults.long is the full
// run (5,000-event bursts, a 10 s Postgres outage).
func TestFaults(t *testing.T) {
	bin := seatsyncBinary(t)
	env := &faultEnv{bin: bin, long: *faultsLong}
	cases := map[string]func(*testing.T, *faultEnv) faultResult{
		"pg_stop":       faultPGStop,
		"kill9_apply":   faultKill9,
		"slow_db":       faultSlowDB,
		"sigterm_burst": faultSIGTERM,
		"workos_away":   faultWorkOSAway,
	}
	results := map[string]faultResult{} // the subtests run one at a time
	for _, row := range faultRows {
		name := strings.TrimPrefix(row.Test, "TestFaults/")
		f := cases[name]
		delete(cases, name)
		if f == nil {
			t.Errorf("docs row %s has no case in TestFaults", row.Test)
			continue
		}
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			r := f(t, env)
			t.Logf("observed: %s; events lost: %d (%v)", r.Observed, r.Lost, time.Since(start).Round(time.Millisecond))
			if r.Lost != 0 {
				t.Errorf("%d acknowledged events lost", r.Lost)
			}
			if !t.Failed() {
				results[row.Test] = r
			}
		})
	}
	for name := range cases {
		t.Errorf("case %s is not listed in faultRows (docs/RELIABILITY.md)", name)
	}
	if *faultsUpdate && !t.Failed() {
		updateReliabilityDoc(t, results, env.long)
	}
}

// faultEnv is what the cases share: the binary and, built once on first
// use, the histories and their in-order reference.
type faultEnv struct {
	bin   string
	long  bool
	once  sync.Once
	world *faultWorld
}

// sized picks the short or the long value.
func (e *faultEnv) sized(short, long int) int {
	if e.long {
		return long
	}
	return short
}

// dur picks the short or the long duration.
func (e *faultEnv) dur(short, long time.Duration) time.Duration {
	if e.long {
		return long
	}
	return short
}

// faultWorld is a set of random plan histories and the seats of applying
// each in order on one in-process instance: the reference every case's end
// state is compared with, plan by plan.
type faultWorld struct {
	seed uint64
	hs   []history
	ref  map[string]string // plan id → its block of dump()
}

// worldEvents is how many events the shared histories hold: enough for the
// largest burst of any case.
func (e *faultEnv) worldEvents() int { return e.sized(350, 5200) }

// histories returns the first histories that hold at least `events` events,
// and the world (built on first use) whose reference covers them.
func (e *faultEnv) histories(t *testing.T, events int) ([]history, *faultWorld) {
	t.Helper()
	e.once.Do(func() { e.world = newFaultWorld(t, e.worldEvents()) })
	if e.world == nil {
		t.Fatal("building the reference failed in an earlier case")
	}
	var hs []history
	n := 0
	for _, h := range e.world.hs {
		if n >= events {
			break
		}
		hs = append(hs, h)
		n += len(h.events)
	}
	return hs, e.world
}

func newFaultWorld(t *testing.T, events int) *faultWorld {
	t.Helper()
	start := time.Now()
	w := &faultWorld{seed: rand.Uint64(), ref: map[string]string{}}
	r := rand.New(rand.NewPCG(w.seed, 3))
	for n := 0; n < events; {
		h := genHistory(r, len(w.hs))
		w.hs = append(w.hs, h)
		n += len(h.events)
	}
	ref := startInstance(t, testConfig(t, storetest.Options(t, "postgres"), "SEATSYNC_HTTP_API_RATE=0"), false)
	setupPlans(t, ref.url, w.hs)
	// In order per plan: plans share nothing, so senders may each own a few.
	const burstSenders = 8
	var wg sync.WaitGroup
	for s := range burstSenders {
		wg.Go(func() {
			client := &http.Client{Timeout: 30 * time.Second}
			for i := s; i < len(w.hs); i += burstSenders {
				for _, b := range w.hs[i].events {
					if c := deliver(t, client, ref.url, b); c != http.StatusOK {
						t.Errorf("reference delivery: %d", c)
					}
				}
			}
		})
	}
	wg.Wait()
	if err := ref.applier.Drain(t.Context()); err != nil {
		t.Fatal(err)
	}
	w.ref = planBlocks(dump(t, ref))
	t.Logf("reference: %d histories, %d events, seed %d, in %v", len(w.hs), events, w.seed, time.Since(start).Round(time.Millisecond))
	return w
}

// planBlocks splits dump() output by plan, each block's lines sorted (member
// order depends on the database's collation, not on the rules).
func planBlocks(d string) map[string]string {
	out := map[string]string{}
	var id string
	var lines []string
	flush := func() {
		if id != "" {
			sort.Strings(lines)
			out[id] = strings.Join(lines, "\n")
		}
	}
	for _, l := range strings.Split(d, "\n") {
		if rest, ok := strings.CutPrefix(l, "plan "); ok {
			flush()
			id, _, _ = strings.Cut(rest, " ")
			lines = nil
		}
		lines = append(lines, l)
	}
	flush()
	return out
}

// setupPlans creates the histories' organizations, plans and manual seats
// through url's API, as history.setup does, a few histories at a time.
func setupPlans(t *testing.T, url string, hs []history) {
	t.Helper()
	tok, err := auth.Mint(testJWTSecret, auth.Principal{Email: "billing@service", Service: true}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	call := func(method, path string, body any, want int) error {
		b, _ := json.Marshal(body)
		req, err := http.NewRequest(method, url+path, bytes.NewReader(b))
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, res.Body)
		_ = res.Body.Close()
		if res.StatusCode != want {
			return fmt.Errorf("%s %s: %d, want %d", method, path, res.StatusCode, want)
		}
		return nil
	}
	setup := func(h history) error {
		if err := call(http.MethodPut, "/api/v1/organizations/"+h.orgID, map[string]any{"name": h.orgID, "domains": h.domains}, 200); err != nil {
			return err
		}
		plan := map[string]any{"organization_id": h.orgID, "name": "Plan", "admins": []string{"admin@example.test"},
			"workos_organization_id": h.workosOrg, "test_mode_limit": h.limit}
		if err := call(http.MethodPut, "/api/v1/plans/"+h.planID, plan, 201); err != nil {
			return err
		}
		for _, e := range h.manual {
			if err := call(http.MethodPost, "/api/v1/plans/"+h.planID+"/members", map[string]any{"email": e}, 201); err != nil {
				return err
			}
		}
		return nil
	}
	work := make(chan history)
	errs := make(chan error, len(hs))
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			for h := range work {
				if err := setup(h); err != nil {
					errs <- err
				}
			}
		})
	}
	for _, h := range hs {
		work <- h
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("set up plans: %v", err)
	}
}

// burstOf returns the histories' events shuffled: the order a concurrent
// WorkOS delivery may take (directory deletions are left out).
func burstOf(seed uint64, hs []history) [][]byte {
	var bodies [][]byte
	for _, h := range hs {
		bodies = append(bodies, h.events...)
	}
	return shuffled(rand.New(rand.NewPCG(seed, 4)), bodies, 0)
}

// checkSeats compares the seats stored at dbURL with the in-order reference, plan by plan.
func checkSeats(t *testing.T, dbURL string, hs []history, w *faultWorld) {
	t.Helper()
	st, err := store.Open(t.Context(), store.Options{Driver: "postgres", URL: dbURL, MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	defer st.Close()
	got := planBlocks(dump(t, &testInstance{instance: &instance{store: st}}))
	if len(got) != len(hs) {
		t.Errorf("%d plans stored, want %d", len(got), len(hs))
	}
	bad := 0
	for _, h := range hs {
		if want, have := w.ref[h.planID], got[h.planID]; want != have {
			if bad++; bad <= 3 {
				t.Errorf("plan %s differs from the in-order result (seed %d):\n%s", h.planID, w.seed, diffLines(want, have))
			}
		}
	}
	if bad > 3 {
		t.Errorf("… %d plans differ in all", bad)
	}
}

// onceReport is what checkExactlyOnce found.
type onceReport struct {
	acked      int
	lost       int            // acknowledged but not in the inbox
	unapplied  map[string]int // acknowledged, stored, but not applied: status → count
	dupAudit   int            // audit entries written twice for one event
	unackedErr int            // events the sender gave up on
}

// checkExactlyOnce checks that every event s acknowledged is in the inbox at
// dbURL and applied (applied, stale or ignored), and that no event's change
// was audited twice. It returns what it found; lost counts the events missing.
func checkExactlyOnce(t *testing.T, dbURL string, s *workossim.Sender) onceReport {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(context.Background())
	acked := s.Acknowledged()
	ids := make([]string, 0, len(acked))
	for id := range acked {
		ids = append(ids, id)
	}
	rep := onceReport{acked: len(ids), unapplied: map[string]int{}}
	rows, err := conn.Query(ctx, `SELECT event_id, status FROM inbox_events WHERE event_id = ANY($1)`, ids)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]string{}
	for rows.Next() {
		var id, status string
		if err := rows.Scan(&id, &status); err != nil {
			t.Fatal(err)
		}
		stored[id] = status
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, id := range ids {
		status, ok := stored[id]
		switch {
		case !ok:
			rep.lost++
			missing = append(missing, id)
		case status != "applied" && status != "stale" && status != "ignored":
			rep.unapplied[status]++
		}
	}
	err = conn.QueryRow(ctx, `SELECT COUNT(*) FROM (SELECT event_id, member_email, action FROM audit_entries
		WHERE event_id <> '' GROUP BY event_id, member_email, action HAVING COUNT(*) > 1) d`).Scan(&rep.dupAudit)
	if err != nil {
		t.Fatal(err)
	}
	rep.unackedErr = len(s.Unacknowledged())
	if rep.lost > 0 {
		slices.Sort(missing)
		t.Errorf("%d acknowledged events are not in the inbox (durability): %v", rep.lost, missing[:min(len(missing), 10)])
	}
	if len(rep.unapplied) > 0 {
		t.Errorf("acknowledged events not applied: %v", rep.unapplied)
	}
	if rep.dupAudit > 0 {
		t.Errorf("%d audit entries written twice: an event was applied twice", rep.dupAudit)
	}
	if rep.unackedErr > 0 {
		for id, err := range s.Unacknowledged() {
			t.Errorf("the sender gave up on %d events, e.g. %s: %v", rep.unackedErr, id, err)
			break
		}
	}
	return rep
}

// waitSettled waits until no inbox event at dbURL is pending and returns how long that took.
func waitSettled(t *testing.T, dbURL string, within time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(within)
	for {
		n, err := pendingCount(dbURL)
		if err == nil && n == 0 {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			t.Fatalf("events still pending after %v: %d (%v)\ndatabase sessions:\n%s", within, n, err, dbActivity(dbURL))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func pendingCount(dbURL string) (int, error) {
	var n int
	err := pgQueryRow(dbURL, `SELECT COUNT(*) FROM inbox_events WHERE status = 'pending'`, &n)
	return n, err
}

// dbActivity describes the sessions of dbURL's database, for a failure message:
// what each waits for and who blocks it.
func dbActivity(dbURL string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err.Error()
	}
	defer conn.Close(context.Background())
	rows, err := conn.Query(ctx, `SELECT pid, application_name, state, COALESCE(wait_event_type || '/' || wait_event, ''),
		COALESCE(now() - xact_start, '0'), pg_blocking_pids(pid)::text, left(regexp_replace(query, '\s+', ' ', 'g'), 160)
		FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY application_name, pid`)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var sb strings.Builder
	for rows.Next() {
		var pid int
		var app, state, wait, blockers, query string
		var xact time.Duration
		if err := rows.Scan(&pid, &app, &state, &wait, &xact, &blockers, &query); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&sb, "  %d %s %s wait=%s xact=%v blocked_by=%s: %s\n", pid, app, state, wait, xact.Round(time.Millisecond), blockers, query)
	}
	return sb.String()
}

// pgQueryRow runs one query on a connection of its own.
func pgQueryRow(dbURL, sql string, dest ...any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	return conn.QueryRow(ctx, sql).Scan(dest...)
}

// replicaSessions counts the database sessions of a replica (by application_name),
// and those of them inside a transaction that holds inbox claims.
func replicaSessions(dbURL, name string) (all, claiming int, err error) {
	err = pgQueryRow(dbURL, fmt.Sprintf(`SELECT
		(SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = '%[1]s'),
		(SELECT COUNT(DISTINCT a.pid) FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid
			JOIN pg_class c ON c.oid = l.relation
		  WHERE a.application_name = '%[1]s' AND c.relname = 'inbox_events' AND l.mode = 'RowShareLock' AND l.granted)`, name),
		&all, &claiming)
	return all, claiming, err
}

// maxSampler polls a value until stopped and keeps the maximum.
type maxSampler struct {
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	max  int64
	n    int
	errs int
}

// sampleMax starts polling f every d.
func sampleMax(d time.Duration, f func() (int64, error)) *maxSampler {
	s := &maxSampler{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		tick := time.NewTicker(d)
		defer tick.Stop()
		for {
			v, err := f()
			s.mu.Lock()
			if err != nil {
				s.errs++
			} else {
				s.n++
				s.max = max(s.max, v)
			}
			s.mu.Unlock()
			select {
			case <-s.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// finish stops the sampler and returns the maximum and the number of samples.
func (s *maxSampler) finish() (maxV int64, n int) {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.max, s.n
}

// attemptsBetween returns the attempts whose request was sent in [from, to).
func attemptsBetween(as []workossim.Attempt, from, to time.Time) []workossim.Attempt {
	var out []workossim.Attempt
	for _, a := range as {
		at := a.Sent
		if at.IsZero() {
			at = a.Start
		}
		if !at.Before(from) && at.Before(to) {
			out = append(out, a)
		}
	}
	return out
}

// answerQuantile is the p-th percentile (0–100) of the attempts' answer
// times (Attempt.Answer: from the written request to its answer).
func answerQuantile(as []workossim.Attempt, p float64) time.Duration {
	ls := make([]time.Duration, len(as))
	for i, a := range as {
		ls[i] = a.Answer()
	}
	return quantile(ls, p)
}

// quantile is the p-th percentile (0–100) of ds, 0 for none.
func quantile(ds []time.Duration, p float64) time.Duration {
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return percentile(ds, p)
}

// accessLine matches the replica's access log line of a webhook delivery.
var accessLine = regexp.MustCompile(`route=/webhooks/workos status=(\d+) latency=(\S+)`)

// serverLatencies reads, from a replica's output, the latencies its access
// log gives the webhook requests answered with status (lines of 5xx answers
// are logged at level error, so they are there at log level warn).
func serverLatencies(out string, status int) []time.Duration {
	var ds []time.Duration
	for _, m := range accessLine.FindAllStringSubmatch(out, -1) {
		if m[1] != strconv.Itoa(status) {
			continue
		}
		if d, err := time.ParseDuration(m[2]); err == nil {
			ds = append(ds, d)
		}
	}
	return ds
}

// stepTimer logs how long each step of a case took (shown with -v).
func stepTimer(t *testing.T) func(step string) {
	last := time.Now()
	return func(step string) {
		t.Logf("step %-24s %v", step, time.Since(last).Round(time.Millisecond))
		last = time.Now()
	}
}

// pollUntil polls cond every 10 ms until it holds or d passes.
func pollUntil(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// newSender returns a WorkOS-like sender to the replicas' webhook endpoints.
func newSender(ps ...*childProc) *workossim.Sender {
	var urls []string
	for _, p := range ps {
		urls = append(urls, p.url+"/webhooks/workos")
	}
	s := workossim.New(testSecret, urls...)
	s.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
	return s
}

// fmtDur rounds for the observed column.
func fmtDur(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	default:
		return d.Round(time.Millisecond).String()
	}
}

func inMiB(b int64) string { return fmt.Sprintf("%d MiB", b>>20) }

// withCommas formats n with a comma every three digits, as the docs do.
func withCommas(n int) string {
	s := fmt.Sprint(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
