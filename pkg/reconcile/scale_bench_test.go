package reconcile_test

// Scale benchmarks (item 4 of the performance issue): reconciliation of
// 10,000 and 100,000 directory users against the fake WorkOS, listing 100
// users a request, on Postgres. BenchmarkReconcileListing is the yardstick:
// the same pages walked through the same client without applying anything,
// which is what "bounded by the fake's paging" is measured against. They run
// only with -bench (make bench-scale); docs/PERFORMANCE.md has the results.

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"runtime/metrics"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/reconcile"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

const (
	scaleOrg    = "org_scale"
	scalePlan   = "plan_scale"
	scaleWorkOS = "org_SCALE"
	scalePage   = 100
)

var scaleUsers = []int{10_000, 100_000}

// scaleRules are the seat rules of the production defaults: the plan cuts
// over to directory mode after ten users, and the downgrade waits its grace.
var scaleRules = store.Rules{TestModeLimit: 10, CutoverGrace: 10 * time.Minute, OnDirectoryDeleted: "keep"}

// scaleFake is a fake WorkOS with one directory of n active users of
// scaleWorkOS, and a client for it.
func scaleFake(b *testing.B, n int) (*workostest.Server, *workosapi.Client, string) {
	b.Helper()
	fake := workostest.New(b)
	dir := fake.AddDirectory(scaleWorkOS, workostest.Directory{}).ID
	const chunk = 10_000
	for from := 0; from < n; from += chunk {
		users := make([]workostest.User, min(chunk, n-from))
		for i := range users {
			users[i] = workostest.User{Email: fmt.Sprintf("user%07d@scale.test", from+i), FirstName: "First",
				LastName: fmt.Sprint(from + i)}
		}
		fake.AddUsers(dir, users...)
	}
	wos, err := workosapi.New(workosapi.Options{APIKey: fake.APIKey, Endpoint: fake.URL})
	if err != nil {
		b.Fatal(err)
	}
	return fake, wos, dir
}

// heapPeak samples the heap while it runs, every 10 ms: peak is the largest
// heap in use (garbage not yet collected included, so it follows GOGC's pacing
// of the live heap), live the largest heap a collection found live. base is
// the live heap when it started, just after a collection: the fake's users
// and the store.
type heapPeak struct {
	base       uint64
	peak, live atomic.Uint64
	stop       chan struct{}
	done       sync.WaitGroup
}

func liveHeap() uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	h := &heapPeak{stop: make(chan struct{}), base: liveHeap()}
	h.sample()
	h.done.Add(1)
	go func() {
		defer h.done.Done()
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-h.stop:
				return
			case <-t.C:
				h.sample()
			}
		}
	}()
	return h
}

func (h *heapPeak) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > h.peak.Load() {
		h.peak.Store(ms.HeapInuse)
	}
	if l := liveHeap(); l > h.live.Load() {
		h.live.Store(l)
	}
}

// heapUse is what one run used, in MiB.
type heapUse struct {
	peak, base, held float64 // held: the live heap's largest growth over base
}

func (u heapUse) max(v heapUse) heapUse {
	return heapUse{peak: max(u.peak, v.peak), base: max(u.base, v.base), held: max(u.held, v.held)}
}

func (u heapUse) report(b *testing.B) {
	b.ReportMetric(u.peak, "peak-heap-MiB")
	b.ReportMetric(u.base, "base-heap-MiB")
	b.ReportMetric(u.held, "held-MiB")
}

// end stops sampling.
func (h *heapPeak) end() heapUse {
	close(h.stop)
	h.done.Wait()
	h.sample()
	const mib = 1 << 20
	held := 0.0
	if l := h.live.Load(); l > h.base {
		held = float64(l-h.base) / mib
	}
	return heapUse{peak: float64(h.peak.Load()) / mib, base: float64(h.base) / mib, held: held}
}

// autovacuum stands in for Postgres's autovacuum on a server that runs
// without it (the test server does: autovacuum = off), so that a run of many
// minutes finds its tables maintained as in production: once a minute, the
// default naptime, it vacuums and analyzes each table of the database past
// autovacuum's default thresholds. Without it, the rows updated for every
// user (the plan's seat counter, the directory's) pile up dead versions that
// every later user reads. Its time counts, as autovacuum's would on the
// database server. stop ends it.
func autovacuum(b *testing.B, dbURL string) (stop func()) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		b.Fatal(err)
	}
	var on string
	if err := conn.QueryRow(ctx, "SHOW autovacuum").Scan(&on); err != nil || on == "on" {
		cancel()
		_ = conn.Close(context.Background())
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer conn.Close(context.Background())
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			rows, err := conn.Query(ctx, `SELECT relname,
					n_dead_tup > 50 + 0.2 * n_live_tup OR n_ins_since_vacuum > 1000 + 0.2 * n_live_tup,
					n_mod_since_analyze > 50 + 0.1 * n_live_tup
				FROM pg_stat_user_tables`)
			if err != nil {
				continue
			}
			var vacuum, analyze []string
			for rows.Next() {
				var rel string
				var v, a bool
				if rows.Scan(&rel, &v, &a) == nil {
					if v {
						vacuum = append(vacuum, rel)
					} else if a {
						analyze = append(analyze, rel)
					}
				}
			}
			rows.Close()
			for _, rel := range vacuum {
				_, _ = conn.Exec(ctx, "VACUUM ANALYZE "+pgx.Identifier{rel}.Sanitize())
			}
			for _, rel := range analyze {
				_, _ = conn.Exec(ctx, "ANALYZE "+pgx.Identifier{rel}.Sanitize())
			}
		}
	}()
	return func() { cancel(); <-done }
}

// scaleReconciler is a fresh Postgres store with organization, plan and
// WorkOS link, a Reconciler over it, and the database's URL.
func scaleReconciler(b *testing.B, wos *workosapi.Client) (*store.Store, *reconcile.Reconciler, string) {
	b.Helper()
	opts := storetest.Options(b, "postgres")
	// As in this package's tests, commits need not wait for the disk: a run
	// commits once a page, and on a shared disk the wait for the WAL flush
	// would measure the disk rather than the reconciliation.
	u, err := url.Parse(opts.URL)
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("options", "-c synchronous_commit=off")
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20") // pgx reads %20, not +, as a space
	opts.URL = u.String()
	st := storetest.OpenWith(b, opts)
	ctx := b.Context()
	if err := st.PutOrganization(ctx, membership.Organization{ID: scaleOrg, Name: "Scale"}); err != nil {
		b.Fatal(err)
	}
	if _, err := st.PutPlan(ctx, membership.PlanSpec{ID: scalePlan, OrganizationID: scaleOrg, Name: "Scale",
		WorkOSOrganizationID: scaleWorkOS, Admins: []string{"admin@scale.test"}}); err != nil {
		b.Fatal(err)
	}
	app := applier.New(st, applier.Options{Rules: scaleRules, UnmatchedAfter: time.Hour})
	return st, reconcile.New(st, app, wos, reconcile.Options{Holder: "bench", PageSize: scalePage}), opts.URL
}

// BenchmarkReconcile is a plan's first reconciliation: N users listed from
// the fake WorkOS, 100 a request, each applied as a snapshot into an empty
// store (every one changes: a seat granted), then the check for users gone.
// Each iteration starts on a fresh database, created outside the timer, and
// runs with autovacuum (or its stand-in, see autovacuum).
// Besides ns/op and allocations it reports requests/op and, sampled every
// 10 ms while the run goes on (heapPeak): peak-heap-MiB, the largest heap in
// use; base-heap-MiB, the live heap before the run (the fake's N users,
// mostly); held-MiB, how far the live heap grew over base at worst: what
// the run itself kept, which stays flat when memory does not grow with N.
func BenchmarkReconcile(b *testing.B) {
	for _, n := range scaleUsers {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			_, wos, _ := scaleFake(b, n)
			ctx := b.Context()
			var requests int
			var use heapUse
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st, rec, dbURL := scaleReconciler(b, wos)
				stopVacuum := autovacuum(b, dbURL)
				h := startHeapPeak()
				b.StartTimer()
				rep, err := rec.Run(ctx, scalePlan, nil)
				b.StopTimer()
				use = use.max(h.end())
				stopVacuum()
				if err != nil {
					b.Fatalf("Run: %v", err)
				}
				if rep.Listed != n || rep.Changed != n || rep.Gone != 0 {
					b.Fatalf("report %+v, want %d listed and changed", rep, n)
				}
				if paid, _, err := st.SeatCounts(ctx, scalePlan, scaleOrg); err != nil || paid != int64(n) {
					b.Fatalf("paid seats = %d, %v; want %d", paid, err, n)
				}
				requests += rep.Requests
				_ = st.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			use.report(b)
		})
	}
}

// BenchmarkReconcileListing walks the same pages through the same client
// and applies nothing: the fake's paging, which BenchmarkReconcile is read
// against, in time and in memory.
func BenchmarkReconcileListing(b *testing.B) {
	for _, n := range scaleUsers {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			_, wos, dir := scaleFake(b, n)
			ctx := b.Context()
			var requests int
			var use heapUse
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				h := startHeapPeak()
				b.StartTimer()
				listed, pages, err := listAll(ctx, wos, dir)
				b.StopTimer()
				use = use.max(h.end())
				if err != nil || listed != n {
					b.Fatalf("listed %d users, %v; want %d", listed, err, n)
				}
				requests += pages
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			use.report(b)
		})
	}
}

func listAll(ctx context.Context, wos *workosapi.Client, dir string) (listed, pages int, err error) {
	after := ""
	for {
		page, err := wos.ListUsers(ctx, dir, after, scalePage)
		if err != nil {
			return listed, pages, err
		}
		listed, pages = listed+len(page.Users), pages+1
		if page.After == "" {
			return listed, pages, nil
		}
		after = page.After
	}
}
