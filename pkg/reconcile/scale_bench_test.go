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
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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

// heapPeak samples the heap in use while it runs: the peak of what the
// process holds, garbage not yet collected included. base is the heap in use
// when it started, just after a collection: the fake's users and the store.
type heapPeak struct {
	base uint64
	peak atomic.Uint64
	stop chan struct{}
	done sync.WaitGroup
}

func startHeapPeak() *heapPeak {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	h := &heapPeak{stop: make(chan struct{}), base: ms.HeapInuse}
	h.peak.Store(ms.HeapInuse)
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
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > h.peak.Load() {
					h.peak.Store(ms.HeapInuse)
				}
			}
		}
	}()
	return h
}

// end stops sampling and returns the peak and the base in MiB.
func (h *heapPeak) end() (peak, base float64) {
	close(h.stop)
	h.done.Wait()
	return float64(h.peak.Load()) / (1 << 20), float64(h.base) / (1 << 20)
}

// scaleReconciler is a fresh Postgres store with organization, plan and
// WorkOS link, and a Reconciler over it.
func scaleReconciler(b *testing.B, wos *workosapi.Client) (*store.Store, *reconcile.Reconciler) {
	b.Helper()
	opts := storetest.Options(b, "postgres")
	// As in this package's tests, commits need not wait for the disk: each
	// snapshot commits on its own, and on a shared disk the wait for the WAL
	// flush is most of the time (docs/PERFORMANCE.md has both).
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
	return st, reconcile.New(st, app, wos, reconcile.Options{Holder: "bench", PageSize: scalePage})
}

// BenchmarkReconcile is a plan's first reconciliation: N users listed from
// the fake WorkOS, 100 a request, each applied as a snapshot into an empty
// store (every one changes: a seat granted), then the check for users gone.
// Each iteration starts on a fresh database, created outside the timer.
// Besides ns/op it reports requests/op, peak-heap-MiB, the largest heap in use
// sampled every 10 ms while the run goes on, and base-heap-MiB, the heap in
// use when it started (the fake's N users, mostly): peak minus base is what
// the run itself held, garbage not yet collected included.
func BenchmarkReconcile(b *testing.B) {
	for _, n := range scaleUsers {
		b.Run(fmt.Sprintf("users=%d", n), func(b *testing.B) {
			_, wos, _ := scaleFake(b, n)
			ctx := b.Context()
			var requests int
			var peak, base float64
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				st, rec := scaleReconciler(b, wos)
				h := startHeapPeak()
				b.StartTimer()
				rep, err := rec.Run(ctx, scalePlan, nil)
				b.StopTimer()
				p, bh := h.end()
				peak, base = max(peak, p), max(base, bh)
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
			b.ReportMetric(peak, "peak-heap-MiB")
			b.ReportMetric(base, "base-heap-MiB")
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
			var peak, base float64
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				h := startHeapPeak()
				b.StartTimer()
				listed, pages, err := listAll(ctx, wos, dir)
				b.StopTimer()
				p, bh := h.end()
				peak, base = max(peak, p), max(base, bh)
				if err != nil || listed != n {
					b.Fatalf("listed %d users, %v; want %d", listed, err, n)
				}
				requests += pages
				b.StartTimer()
			}
			b.ReportMetric(float64(requests)/float64(b.N), "requests/op")
			b.ReportMetric(peak, "peak-heap-MiB")
			b.ReportMetric(base, "base-heap-MiB")
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
