//go:build linux

package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/internal/workossim"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store/storetest"
)

const burstSenders = 16 // concurrent deliveries, as WorkOS during an initial sync

// startBurst delivers bodies with the sender in the background; the returned
// channel closes when every delivery has ended.
func startBurst(t *testing.T, s *workossim.Sender, bodies [][]byte, within time.Duration) <-chan struct{} {
	ctx, cancel := context.WithTimeout(context.Background(), within)
	t.Cleanup(cancel)
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.DeliverAll(ctx, bodies, burstSenders)
	}()
	return done
}

func waitBurst(t *testing.T, done <-chan struct{}, within time.Duration) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(within):
		t.Fatalf("the sender did not finish within %v", within)
	}
}

func waitAcked(t *testing.T, s *workossim.Sender, n int) {
	t.Helper()
	if !pollUntil(5*time.Minute, func() bool { return s.AckCount() >= n }) {
		t.Fatalf("only %d events acknowledged after 5 minutes, want %d", s.AckCount(), n)
	}
}

// faultPGStop: Postgres crashes (pg_ctl stop -m immediate) a third into a
// burst and comes back after the outage. Webhooks answer 503 with
// Retry-After at once, goroutines stay bounded, appliers back off, and after
// the restart the sender's retries get through and everything converges.
func faultPGStop(t *testing.T, e *faultEnv) faultResult {
	step := stepTimer(t)
	n := e.sized(300, 5000)
	outage := e.dur(3*time.Second, 10*time.Second)
	hs, w := e.histories(t, n)
	bodies := burstOf(w.seed, hs)
	cl := startCluster(t)
	step("reference and cluster")
	dbURL := cl.url()
	const workers = 4
	p := startChild(t, e.bin, "fault-pgstop", replicaEnv("fault-pgstop", dbURL, "SEATSYNC_HTTP_REQUEST_TIMEOUT=5s",
		fmt.Sprintf("SEATSYNC_APPLIER_WORKERS=%d", workers)))
	setupPlans(t, p.url, hs)
	step("replica and plans")
	g0, err := p.goroutines()
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(p)
	s.GiveUpAfter = outage + 2*time.Minute
	done := startBurst(t, s, bodies, e.dur(5*time.Minute, 15*time.Minute))
	waitAcked(t, s, len(bodies)/3)
	ackedAtStop := s.AckCount()
	step("a third acknowledged")
	gor := sampleMax(100*time.Millisecond, func() (int64, error) { g, err := p.goroutines(); return int64(g), err })

	stopAt := time.Now()
	cl.crash()
	down := time.Now()
	// /readyz says so at once.
	client := &http.Client{Timeout: 5 * time.Second}
	readyStart := time.Now()
	res, err := client.Get(p.url + "/readyz")
	readyLatency := time.Since(readyStart)
	if err != nil {
		t.Errorf("/readyz during the outage: %v", err)
	} else {
		_ = res.Body.Close()
		if res.StatusCode != http.StatusServiceUnavailable || readyLatency > 2*time.Second {
			t.Errorf("/readyz during the outage: %d in %v, want 503 at once", res.StatusCode, readyLatency)
		}
	}
	time.Sleep(outage - time.Since(stopAt))
	restartAt := time.Now()
	cl.start()
	up := time.Now()
	step("outage")

	waitBurst(t, done, e.dur(4*time.Minute, 12*time.Minute))
	settled := waitSettled(t, dbURL, e.dur(2*time.Minute, 5*time.Minute))
	converged := time.Since(up)
	step("burst and settle")
	gmax, _ := gor.finish()

	// Every delivery attempt made while the database was down was answered
	// 503 with Retry-After, quickly: no hang, no connection error.
	during := attemptsBetween(s.Attempts(), down, restartAt)
	bad := 0
	for _, a := range during {
		if a.Err != nil || a.Status != http.StatusServiceUnavailable || a.RetryAfter == "" {
			if bad++; bad <= 5 {
				t.Errorf("attempt during the outage: status %d code %q Retry-After %q err %v, want 503 with Retry-After",
					a.Status, a.Code, a.RetryAfter, a.Err)
			}
		}
	}
	if len(during) == 0 {
		t.Errorf("no delivery attempt during the %v outage", outage)
	}
	p99, pmax := answerQuantile(during, 99), answerQuantile(during, 100)
	// The server's own measure (its access log) leaves out time the request
	// spent waiting for a CPU before it: this machine may be busy.
	srv := serverLatencies(p.out.String(), http.StatusServiceUnavailable)
	sp99 := quantile(srv, 99)
	if len(srv) == 0 {
		t.Error("no 503 in the replica's access log")
	}
	if sp99 > 2*time.Second {
		t.Errorf("503 latency p99 %v in the replica during the outage, want < 2s", sp99)
	}
	if pmax > 10*time.Second {
		t.Errorf("a 503 during the outage took %v to arrive: a hang", pmax)
	}
	if limit := int64(g0 + 150); gmax > limit {
		t.Errorf("goroutines grew from %d to %d during the outage, want ≤ %d", g0, gmax, limit)
	}
	// The appliers back off: with doubling waits each retries a few times
	// per outage; polling every 200 ms would be dozens of times.
	retries := strings.Count(p.out.String(), "applier: inbox unavailable")
	window := up.Sub(stopAt) + 5*time.Second
	if limit := workers * (3 + int(math.Log2(float64(window/(100*time.Millisecond))))); retries > limit {
		t.Errorf("appliers retried %d times during a %v outage, want ≤ %d (back-off)", retries, outage, limit)
	}

	rep := checkExactlyOnce(t, dbURL, s)
	checkSeats(t, dbURL, hs, w)
	return faultResult{Lost: rep.lost, Observed: fmt.Sprintf(
		"%s events by %d senders, crash after %s acknowledged; %s outage: %d webhook answers, all 503 + Retry-After, "+
			"p99 %s in the replica (%s at the sender, max %s); /readyz 503 in %s; goroutines %d → max %d; applier retries %d; "+
			"converged %s after the restart (settled %s); %s acknowledged, %d duplicate audit entries, seats = in-order",
		withCommas(len(bodies)), burstSenders, withCommas(ackedAtStop), fmtDur(outage), len(during), fmtDur(sp99), fmtDur(p99), fmtDur(pmax),
		fmtDur(readyLatency), g0, gmax, retries, fmtDur(converged), fmtDur(settled), withCommas(rep.acked), rep.dupAudit)}
}

// faultKill9: two replicas share the database; replica A is killed with
// SIGKILL while it holds inbox claims. Its connections die with it, Postgres
// rolls its transactions back and releases the claims, and B applies the rest.
func faultKill9(t *testing.T, e *faultEnv) faultResult {
	step := stepTimer(t)
	n := e.sized(300, 5000)
	hs, w := e.histories(t, n)
	bodies := burstOf(w.seed+1, hs)
	dbURL := storetest.NewPostgresDB(t)
	a := startChild(t, e.bin, "fault-kill-a", replicaEnv("fault-kill-a", dbURL))
	b := startChild(t, e.bin, "fault-kill-b", replicaEnv("fault-kill-b", dbURL))
	setupPlans(t, a.url, hs)
	step("replicas and plans")
	// First attempts go to A, retries to B: a load balancer that fails over.
	s := newSender(a, b)
	done := startBurst(t, s, bodies, e.dur(5*time.Minute, 15*time.Minute))
	waitAcked(t, s, len(bodies)/3)
	var claiming int
	if !pollUntil(30*time.Second, func() bool {
		_, c, err := replicaSessions(dbURL, "fault-kill-a")
		claiming = c
		return err == nil && c > 0
	}) {
		t.Fatal("replica A never held inbox claims")
	}
	killAt := time.Now()
	if err := a.signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !a.wait(10 * time.Second) {
		t.Fatal("replica A still running 10 s after SIGKILL")
	}
	pendingAtKill, _ := pendingCount(dbURL)
	// No stuck claims: A's sessions, and with them its transactions and row locks, end.
	var left int
	if !pollUntil(30*time.Second, func() bool {
		all, _, err := replicaSessions(dbURL, "fault-kill-a")
		left = all
		return err == nil && all == 0
	}) {
		t.Fatalf("%d sessions of the killed replica still open after 30 s", left)
	}
	released := time.Since(killAt)
	step("kill and release")
	var ee *exec.ExitError
	if err := a.exitErr(); !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Errorf("replica A exit: %v, want killed by SIGKILL", err)
	}
	waitBurst(t, done, e.dur(4*time.Minute, 12*time.Minute))
	settled := waitSettled(t, dbURL, e.dur(2*time.Minute, 5*time.Minute))
	took := time.Since(killAt)
	step("burst and settle")
	rep := checkExactlyOnce(t, dbURL, s)
	checkSeats(t, dbURL, hs, w)
	return faultResult{Lost: rep.lost, Observed: fmt.Sprintf(
		"%s events by %d senders to A, failing over to B; A killed holding claims in %d transaction(s), %s pending; "+
			"its sessions gone %s later; B applied the rest, nothing pending %s after the kill (settled %s after the burst); "+
			"%s acknowledged, %d duplicate audit entries, seats = in-order",
		withCommas(len(bodies)), burstSenders, claiming, withCommas(pendingAtKill), fmtDur(released), fmtDur(took), fmtDur(settled),
		withCommas(rep.acked), rep.dupAudit)}
}

// lockInbox holds ACCESS EXCLUSIVE on inbox_events in a transaction of its
// own: every webhook commit and every claim waits. release ends it.
func lockInbox(t *testing.T, dbURL string) (release func()) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "LOCK TABLE inbox_events IN ACCESS EXCLUSIVE MODE"); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = tx.Rollback(context.Background())
			_ = conn.Close(context.Background())
		})
	}
	t.Cleanup(release)
	return release
}

// faultSlowDB: the inbox table is locked for a while (a stuck migration, a
// long transaction) while a sender keeps pushing at a fixed rate. Webhooks
// answer 503 within http.request_timeout; more than webhooks.max_in_flight at
// once answer 503 overloaded at once; memory and goroutines stay bounded;
// /healthz answers throughout; after the lock everything is applied.
func faultSlowDB(t *testing.T, e *faultEnv) faultResult {
	step := stepTimer(t)
	rate := e.sized(80, 200) // deliveries started per second
	lead, hold := e.dur(500*time.Millisecond, time.Second), e.dur(3*time.Second, 10*time.Second)
	const timeout, maxInFlight = time.Second, 64
	hs, w := e.histories(t, int(float64(rate)*(2*lead+hold).Seconds()))
	bodies := burstOf(w.seed+2, hs)
	dbURL := storetest.NewPostgresDB(t)
	p := startChild(t, e.bin, "fault-slow", replicaEnv("fault-slow", dbURL, "SEATSYNC_HTTP_REQUEST_TIMEOUT="+timeout.String(),
		fmt.Sprintf("SEATSYNC_WEBHOOKS_MAX_IN_FLIGHT=%d", maxInFlight)))
	setupPlans(t, p.url, hs)
	step("replica and plans")
	g0, err := p.goroutines()
	if err != nil {
		t.Fatal(err)
	}
	rss0, err := p.rss()
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(p)
	// A load balancer keeps a bounded number of connections to a backend.
	s.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128}}
	s.GiveUpAfter = hold + 2*time.Minute
	rssS := sampleMax(50*time.Millisecond, p.rss)
	gorS := sampleMax(100*time.Millisecond, func() (int64, error) { g, err := p.goroutines(); return int64(g), err })

	ctx, cancel := context.WithTimeout(context.Background(), e.dur(5*time.Minute, 15*time.Minute))
	defer cancel()
	pushed := make(chan struct{})
	go func() {
		defer close(pushed)
		var wg sync.WaitGroup
		tick := time.NewTicker(time.Second / time.Duration(rate))
		defer tick.Stop()
		for _, b := range bodies {
			<-tick.C
			wg.Go(func() { _ = s.Deliver(ctx, b) })
		}
		wg.Wait()
	}()

	time.Sleep(lead)
	release := lockInbox(t, dbURL)
	locked := time.Now()
	// Non-database routes answer throughout; /readyz does not touch the inbox.
	// /healthz needs no database and must answer throughout; /readyz pings
	// the database (not the locked table) and is recorded.
	type probeStats struct {
		n, ok int
		max   time.Duration
		first string
	}
	var probesMu sync.Mutex
	probes := map[string]*probeStats{"/healthz": {}, "/readyz": {}}
	probeDone := make(chan struct{})
	go func() {
		defer close(probeDone)
		client := &http.Client{Timeout: 5 * time.Second}
		for time.Since(locked) < hold-200*time.Millisecond {
			for path, st := range probes {
				start := time.Now()
				res, err := client.Get(p.url + path)
				d := time.Since(start)
				probesMu.Lock()
				st.n++
				st.max = max(st.max, d)
				switch {
				case err != nil:
					st.first = cmp.Or(st.first, err.Error())
				case res.StatusCode != http.StatusOK:
					st.first = cmp.Or(st.first, res.Status)
				default:
					st.ok++
				}
				probesMu.Unlock()
				if err == nil {
					_ = res.Body.Close()
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()
	time.Sleep(hold)
	releaseAt := time.Now()
	release()
	step("push and lock")
	<-probeDone
	select {
	case <-pushed:
	case <-time.After(e.dur(4*time.Minute, 12*time.Minute)):
		t.Fatal("deliveries did not finish within 4 minutes of the lock's release")
	}
	step("deliveries end")
	settled := waitSettled(t, dbURL, e.dur(2*time.Minute, 5*time.Minute))
	step("settle")
	rssMax, _ := rssS.finish()
	gmax, _ := gorS.finish()
	p.waitReady(10 * time.Second)

	// Attempts that started while the lock held and could not have ended
	// before its release answered 503, within the request timeout.
	stalled := attemptsBetween(s.Attempts(), locked.Add(50*time.Millisecond), releaseAt.Add(-timeout-200*time.Millisecond))
	codes := map[string]int{}
	bad := 0
	for _, a := range stalled {
		codes[a.Code]++
		if a.Err != nil || a.Status != http.StatusServiceUnavailable || a.RetryAfter == "" ||
			(a.Code != "database_unavailable" && a.Code != "overloaded") {
			if bad++; bad <= 5 {
				t.Errorf("attempt during the stall: status %d code %q Retry-After %q err %v, want 503 with Retry-After",
					a.Status, a.Code, a.RetryAfter, a.Err)
			}
		}
	}
	if codes["database_unavailable"] == 0 || codes["overloaded"] == 0 {
		t.Errorf("answers during the stall by code: %v, want both database_unavailable and overloaded", codes)
	}
	p99, pmax := answerQuantile(stalled, 99), answerQuantile(stalled, 100)
	srv := serverLatencies(p.out.String(), http.StatusServiceUnavailable)
	smax := quantile(srv, 100)
	if len(srv) == 0 {
		t.Error("no 503 in the replica's access log")
	}
	slack := time.Second
	if raceEnabled() {
		slack = 2 * time.Second // the race detector slows every goroutine down
	}
	if smax > timeout+slack {
		t.Errorf("slowest 503 in the replica took %v, want ≤ request timeout %v + %v", smax, timeout, slack)
	}
	if pmax > timeout+5*time.Second {
		t.Errorf("a 503 during the stall took %v to arrive: a hang", pmax)
	}
	rssLimit := int64(300 << 20)
	if raceEnabled() {
		rssLimit = 1 << 30 // the race detector's shadow memory
	}
	if rssMax > rssLimit {
		t.Errorf("RSS peaked at %s, want ≤ %s", inMiB(rssMax), inMiB(rssLimit))
	}
	if limit := int64(g0 + 2*128 + 100); gmax > limit {
		t.Errorf("goroutines grew from %d to %d, want ≤ %d", g0, gmax, limit)
	}
	hz, rz := probes["/healthz"], probes["/readyz"]
	if hz.n == 0 || hz.ok != hz.n {
		t.Errorf("/healthz during the stall: %d of %d answered 200 (first failure: %s)", hz.ok, hz.n, hz.first)
	}
	rep := checkExactlyOnce(t, dbURL, s)
	checkSeats(t, dbURL, hs, w)
	return faultResult{Lost: rep.lost, Observed: fmt.Sprintf(
		"%d deliveries/s, inbox locked %s: %s answers during the stall, all 503 + Retry-After (%s database_unavailable "+
			"after the %s request timeout, %s overloaded at once), slowest %s in the replica (p99 %s, max %s at the sender); RSS %s → max %s; goroutines %d → max %d; "+
			"/healthz 200 throughout (%d probes, slowest %s), /readyz %d of %d (it pings the database), 200 after; settled %s after the burst; "+
			"%s acknowledged, %d duplicate audit entries, seats = in-order",
		rate, fmtDur(hold), withCommas(len(stalled)), withCommas(codes["database_unavailable"]), fmtDur(timeout), withCommas(codes["overloaded"]),
		fmtDur(smax), fmtDur(p99), fmtDur(pmax), inMiB(rss0), inMiB(rssMax), g0, gmax, hz.n, fmtDur(hz.max), rz.ok, rz.n, fmtDur(settled),
		withCommas(rep.acked), rep.dupAudit)}
}

// faultSIGTERM: replica A gets SIGTERM in the middle of a burst, while
// requests are inside its handlers (the inbox is held for a moment so they
// surely are). Each of them gets its answer, A's appliers finish their
// transactions, A exits 0 within http.shutdown_timeout, and after its restart
// (B took the deliveries meanwhile) every acknowledged event is applied once.
func faultSIGTERM(t *testing.T, e *faultEnv) faultResult {
	step := stepTimer(t)
	n := e.sized(300, 5000)
	shutdown := e.dur(5*time.Second, 10*time.Second)
	hs, w := e.histories(t, n)
	bodies := burstOf(w.seed+3, hs)
	dbURL := storetest.NewPostgresDB(t)
	extra := []string{"SEATSYNC_HTTP_SHUTDOWN_TIMEOUT=" + shutdown.String(), "SEATSYNC_HTTP_REQUEST_TIMEOUT=5s"}
	a := startChild(t, e.bin, "fault-term-a", replicaEnv("fault-term-a", dbURL, extra...))
	b := startChild(t, e.bin, "fault-term-b", replicaEnv("fault-term-b", dbURL, extra...))
	setupPlans(t, a.url, hs)
	step("replicas and plans")
	s := newSender(a, b)
	done := startBurst(t, s, bodies, e.dur(5*time.Minute, 15*time.Minute))
	waitAcked(t, s, len(bodies)/3)

	release := lockInbox(t, dbURL)
	// Probes: events of a type seatsync does not handle (stored as ignored),
	// each on a connection of its own, sent to A while its inbox waits.
	probe := newSender(a, b)
	probe.Client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	const probes = 8
	var pw sync.WaitGroup
	for i := range probes {
		body := fmt.Appendf(nil, `{"id":"event_probe_%d","event":"connection.activated","data":{},"created_at":"2026-01-05T09:00:00Z"}`, i)
		pw.Go(func() { _ = probe.Deliver(context.Background(), body) })
	}
	// Wait until the probes are inside A's handlers, waiting on the inbox.
	var waiting int
	if !pollUntil(30*time.Second, func() bool {
		n, err := a.goroutinesIn("store.(*InboxWriter).PutInbox")
		waiting = n
		return err == nil && n >= probes
	}) {
		t.Fatalf("only %d requests wait in A's inbox, want the %d probes", waiting, probes)
	}
	time.Sleep(200 * time.Millisecond)
	if n, err := a.goroutinesIn("store.(*InboxWriter).PutInbox"); err == nil {
		waiting = n
	}
	termAt := time.Now()
	if err := a.signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	release()
	if !a.wait(shutdown + 10*time.Second) {
		t.Fatalf("replica A still running %v after SIGTERM", shutdown+10*time.Second)
	}
	exitAfter := a.exitedAt().Sub(termAt)
	if err := a.exitErr(); err != nil {
		t.Errorf("replica A exit after SIGTERM: %v, want 0", err)
	}
	if exitAfter > shutdown+time.Second {
		t.Errorf("replica A exited %v after SIGTERM, want within http.shutdown_timeout %v", exitAfter, shutdown)
	}
	// Work still waiting at the deadline is cut off: its transactions roll back.
	cutOff := strings.Contains(a.out.String(), "background work still running at http.shutdown_timeout")
	appliers := "A's appliers finished their batches"
	if cutOff {
		appliers = "A's appliers cut off at the deadline (batches rolled back)"
	}
	// Its transactions end with it: no claim is left behind. (A backend
	// waiting for a row lock notices its client is gone once it has the lock.)
	var left int
	if !pollUntil(30*time.Second, func() bool {
		all, _, err := replicaSessions(dbURL, "fault-term-a")
		left = all
		return err == nil && all == 0
	}) {
		t.Errorf("replica A left %d database sessions 30 s after it exited", left)
	}
	sessionsGone := time.Since(a.exitedAt())
	pw.Wait()

	// Requests A had accepted before SIGTERM were answered, not reset.
	inFlight, answered, reset := 0, 0, 0
	for _, as := range [][]workossim.Attempt{s.Attempts(), probe.Attempts()} {
		for _, x := range as {
			if !strings.HasPrefix(x.URL, a.url) || !x.Start.Before(termAt.Add(-200*time.Millisecond)) || x.Start.Add(x.Latency).Before(termAt) {
				continue
			}
			inFlight++
			if x.Err == nil && x.Status != 0 {
				answered++
				if x.Status != http.StatusOK {
					t.Errorf("request in flight at SIGTERM answered %d %s, want 200", x.Status, x.Code)
				}
			} else {
				reset++
				t.Errorf("request in flight at SIGTERM got no answer: %v", x.Err)
			}
		}
	}
	if inFlight < probes {
		t.Errorf("%d requests in flight at SIGTERM, want at least the %d probes", inFlight, probes)
	}
	if got := probe.AckCount(); got != probes {
		t.Errorf("%d of %d probes acknowledged", got, probes)
	}

	restartAt := time.Now()
	a.start()
	restarted := time.Since(restartAt)
	step("SIGTERM, exit, restart")
	waitBurst(t, done, e.dur(4*time.Minute, 12*time.Minute))
	settled := waitSettled(t, dbURL, e.dur(2*time.Minute, 5*time.Minute))
	step("burst and settle")
	rep := checkExactlyOnce(t, dbURL, s)
	probeRep := checkExactlyOnce(t, dbURL, probe)
	checkSeats(t, dbURL, hs, w)
	return faultResult{Lost: rep.lost + probeRep.lost, Observed: fmt.Sprintf(
		"%s events by %d senders to A, failing over to B; SIGTERM while %d requests waited in A's handlers; "+
			"of the %d sent 200 ms or more before it, %d answered 200, %d reset; %s; A exited 0 %s after SIGTERM (shutdown timeout %s), its last session gone %s later; "+
			"restarted in %s; settled %s after the burst; %s acknowledged, %d duplicate audit entries, seats = in-order",
		withCommas(len(bodies)), burstSenders, waiting, inFlight, answered, reset, appliers, fmtDur(exitAfter), fmtDur(shutdown), fmtDur(sessionsGone), fmtDur(restarted),
		fmtDur(settled), withCommas(rep.acked+probeRep.acked), rep.dupAudit)}
}

// faultWorkOSAway: the fake WorkOS goes away (connection refused, open
// connections cut) in the middle of a reconciliation and during a portal-link
// request, then answers 500s, then comes back. The API answers 502 with a
// code naming the cause, the reconciliation records the error and stays
// resumable, the CLI reports it, and the next run resumes from its cursor.
func faultWorkOSAway(t *testing.T, e *faultEnv) faultResult {
	step := stepTimer(t)
	users := e.sized(250, 1000)
	pages := (users + 99) / 100
	fake := workostest.New(t)
	org := fake.AddOrganization("Faults", "plan_faults")
	dir := fake.AddDirectory(org, workostest.Directory{})
	for i := range users {
		fake.AddUsers(dir.ID, workostest.User{Email: fmt.Sprintf("user%d@faults.test", i)})
	}
	proxy := newFlakyProxy(t, fake.URL)
	dbURL := storetest.NewPostgresDB(t)
	const timeout = 3 * time.Second
	wenv := replicaEnv("fault-workos", dbURL, "SEATSYNC_WORKOS_API_KEY="+fake.APIKey, "SEATSYNC_WORKOS_ENDPOINT="+proxy.url(),
		"SEATSYNC_HTTP_REQUEST_TIMEOUT="+timeout.String())
	p := startChild(t, e.bin, "fault-workos", wenv)
	ti := &testInstance{url: p.url}
	if c := ti.apiCall(t, http.MethodPut, "/api/v1/organizations/faults", map[string]any{"name": "Faults", "domains": []string{"faults.test"}}, nil); c != http.StatusOK {
		t.Fatalf("put organization: %d", c)
	}
	if c := ti.apiCall(t, http.MethodPut, "/api/v1/plans/plan_faults", map[string]any{"organization_id": "faults", "name": "Faults",
		"admins": []string{"admin@faults.test"}, "workos_organization_id": org,
		// Test mode throughout: no cutover downgrade (and its own reconciliation) in the way.
		"test_mode_limit": users + 10}, nil); c != http.StatusCreated {
		t.Fatalf("put plan: %d", c)
	}
	step("fake, replica, plan")
	status := func() planStatusJSON {
		var st planStatusJSON
		if c := ti.apiCall(t, http.MethodGet, "/api/v1/plans/plan_faults", nil, &st); c != http.StatusOK {
			t.Fatalf("plan status: %d", c)
		}
		return st
	}

	// 1. WorkOS goes away after the first page of the listing.
	fake.SetLatency(200 * time.Millisecond)
	if c := ti.apiCall(t, http.MethodPost, "/api/v1/plans/plan_faults/directory/reconcile", nil, nil); c != http.StatusAccepted {
		t.Fatalf("start reconciliation: %d", c)
	}
	if !pollUntil(30*time.Second, func() bool { return fake.Requests("/directory_users") >= 2 }) {
		t.Fatal("the reconciliation never asked for a second page")
	}
	proxy.down()
	downAt := time.Now()
	fake.SetLatency(0)
	firstRun := fake.Requests("/directory_users")
	step("first page")

	// 2. Meanwhile the CLI tries too: it exits 1 naming the cause.
	type cliResult struct {
		out []byte
		err error
	}
	cli := make(chan cliResult, 1)
	go func() {
		out, err := seatsyncCommand(e.bin, wenv, "reconcile", "--plan", "plan_faults").CombinedOutput()
		cli <- cliResult{out, err}
	}()

	// 3. So does a portal link: a clear 502, within the request timeout.
	portal := func() (int, string, time.Duration) {
		tok, err := auth.Mint(testJWTSecret, auth.Principal{Email: "admin@faults.test"}, time.Hour, time.Now(), "", "")
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest(http.MethodPost, p.url+"/api/v1/plans/plan_faults/scim/portal-link", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		start := time.Now()
		res, err := (&http.Client{Timeout: 2 * timeout}).Do(req)
		if err != nil {
			t.Fatalf("portal link: %v", err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		var body struct {
			Link  string `json:"link"`
			Error struct {
				Code, Message string
			} `json:"error"`
		}
		_ = json.Unmarshal(b, &body)
		if res.StatusCode == http.StatusOK && body.Link == "" {
			t.Errorf("portal link 200 without a link: %s", b)
		}
		return res.StatusCode, body.Error.Code, time.Since(start)
	}
	code, ecode, portalDown := portal()
	if code != http.StatusBadGateway || ecode != "workos_unreachable" || portalDown > timeout+time.Second {
		t.Errorf("portal link with WorkOS gone: %d %q in %v, want 502 workos_unreachable within %v", code, ecode, portalDown, timeout)
	}

	// 4. The reconciliation records the failure and stays resumable.
	var st planStatusJSON
	if !pollUntil(60*time.Second, func() bool {
		st = status()
		return st.Reconciliation != nil && st.Reconciliation.State == "interrupted"
	}) {
		t.Fatalf("reconciliation %+v, want interrupted", st.Reconciliation)
	}
	interruptedAfter := time.Since(downAt)
	if !strings.Contains(st.Reconciliation.Error, "workos_unreachable") {
		t.Errorf("interrupted reconciliation error %q, want it to name workos_unreachable", st.Reconciliation.Error)
	}
	listedBefore := st.Reconciliation.Listed
	r := <-cli
	var ee *exec.ExitError
	if !errors.As(r.err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(r.out), "workos_unreachable: cannot reach WorkOS") {
		t.Errorf("seatsync reconcile with WorkOS gone: %v\n%s\nwant exit status 1 naming workos_unreachable", r.err, r.out)
	}

	step("outage")
	// 5. WorkOS answers 500s: 502 workos_unavailable.
	proxy.up()
	proxy.failing()
	code, ecode, portalFailing := portal()
	if code != http.StatusBadGateway || ecode != "workos_unavailable" || portalFailing > timeout+time.Second {
		t.Errorf("portal link with WorkOS failing: %d %q in %v, want 502 workos_unavailable within %v", code, ecode, portalFailing, timeout)
	}

	// 6. WorkOS is back: the next run resumes from its cursor and completes.
	proxy.up()
	if code, _, _ := portal(); code != http.StatusOK {
		t.Errorf("portal link with WorkOS back: %d, want 200", code)
	}
	resumeAt := time.Now()
	if c := ti.apiCall(t, http.MethodPost, "/api/v1/plans/plan_faults/directory/reconcile", nil, nil); c != http.StatusAccepted {
		t.Fatalf("resume reconciliation: %d", c)
	}
	if !pollUntil(60*time.Second, func() bool {
		st = status()
		return st.Reconciliation != nil && st.Reconciliation.State == "complete"
	}) {
		t.Fatalf("reconciliation %+v, want complete", st.Reconciliation)
	}
	resumed := time.Since(resumeAt)
	step("failing, back, resume")
	secondRun := fake.Requests("/directory_users") - firstRun
	if secondRun >= pages {
		t.Errorf("the second run sent %d list requests, want fewer than the %d of a full listing (resumed)", secondRun, pages)
	}
	if st.Reconciliation.Listed != users {
		t.Errorf("reconciliation listed %d users, want %d", st.Reconciliation.Listed, users)
	}
	active := 0
	if st.Directory != nil {
		active = st.Directory.ActiveUsers
	}
	if active != users {
		t.Errorf("directory has %d active users after the reconciliation, want %d", active, users)
	}
	return faultResult{Lost: users - active, Observed: fmt.Sprintf(
		"%s users in %d pages; WorkOS gone after page 1: portal-link 502 workos_unreachable in %s; reconciliation "+
			"interrupted %s later with %d listed, its error naming workos_unreachable; the CLI meanwhile exits 1 naming it; WorkOS answering 500: "+
			"portal-link 502 workos_unavailable in %s; WorkOS back: portal-link 200, the next run resumed (%d more list "+
			"requests, not %d) and completed in %s with %s users listed and active",
		withCommas(users), pages, fmtDur(portalDown), fmtDur(interruptedAfter), listedBefore, fmtDur(portalFailing),
		secondRun, pages, fmtDur(resumed), withCommas(active))}
}

// planStatusJSON is the part of GET /api/v1/plans/{id} the fault tests read.
type planStatusJSON struct {
	Directory *struct {
		ActiveUsers int `json:"active_users"`
	} `json:"directory"`
	Reconciliation *struct {
		State  string `json:"state"`
		Listed int    `json:"listed"`
		Error  string `json:"error"`
	} `json:"reconciliation"`
}
