package applier_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

var rules = store.Rules{TestModeLimit: 10, OnDirectoryDeleted: "keep"}

// TestInitialSync is the initial sync of the seat-rules issue: 5 manual seats and
// 20 free members, then 300 shuffled dsync.user.created, 3 of them for manual holders.
func TestInitialSync(t *testing.T) {
	t.Parallel()
	for _, grace := range []time.Duration{0, 10 * time.Minute} {
		storetest.Each(t, func(t *testing.T, dialect string) {
			r := rules
			r.CutoverGrace = grace
			w := newWorld(t, dialect, r)
			ctx := t.Context()
			for i := range 5 {
				if _, err := w.app.AddManualSeat(ctx, testPlan, fmt.Sprintf("manual%d@acme.test", i), "", "admin:admin@acme.test"); err != nil {
					t.Fatal(err)
				}
			}
			for i := range 20 {
				if err := w.app.AddFreeMember(ctx, testOrg, fmt.Sprintf("free%d@acme.test", i), ""); err != nil {
					t.Fatal(err)
				}
			}
			var evs []membership.InboxEvent
			want := map[string]string{}
			for i := range 300 {
				email := fmt.Sprintf("user%03d@acme.test", i)
				if i < 3 {
					email = fmt.Sprintf("manual%d@acme.test", i)
				}
				evs = append(evs, userEvent("created", fmt.Sprintf("directory_user_%03d", i), email, "active", 1))
				want[email] = testPlan + "/directory"
			}
			rand.New(rand.NewPCG(1, uint64(grace))).Shuffle(len(evs), func(i, j int) { evs[i], evs[j] = evs[j], evs[i] })
			w.put(t, evs...)
			w.drain(t)
			for i := 3; i < 5; i++ {
				want[fmt.Sprintf("manual%d@acme.test", i)] = ""
			}
			for i := range 20 {
				want[fmt.Sprintf("free%d@acme.test", i)] = ""
			}
			if grace > 0 {
				// Nobody is downgraded before the grace ends.
				got := w.seats(t)
				for i := 3; i < 5; i++ {
					if e := fmt.Sprintf("manual%d@acme.test", i); got[e] != testPlan+"/manual" {
						t.Fatalf("before grace end: %s = %q, want kept manual seat", e, got[e])
					}
				}
				p := w.plan(t)
				if p.DowngradeDueAt == nil || !p.DowngradeDueAt.Equal(t0.Add(grace)) {
					t.Fatalf("downgrade due = %v, want %v", p.DowngradeDueAt, t0.Add(grace))
				}
				if n, err := w.app.RunDueDowngrades(ctx); err != nil || n != 0 {
					t.Fatalf("RunDueDowngrades before due = %d, %v; want 0", n, err)
				}
				w.now = t0.Add(grace)
				if n, err := w.app.RunDueDowngrades(ctx); err != nil || n != 1 {
					t.Fatalf("RunDueDowngrades at due = %d, %v; want 1", n, err)
				}
			}
			got := w.seats(t)
			if len(got) != len(want) {
				t.Errorf("members = %d, want %d", len(got), len(want))
			}
			for e, s := range want {
				if got[e] != s {
					t.Errorf("%s: seat %q, want %q", e, got[e], s)
				}
			}
			if p := w.plan(t); p.Mode != "directory" || p.DowngradedAt == nil || p.DowngradeDueAt != nil {
				t.Errorf("plan mode %s downgraded %v due %v; want directory, done", p.Mode, p.DowngradedAt, p.DowngradeDueAt)
			}
		})
	}
}
