package applier_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// BenchmarkApplyInitialSync applies an initial sync of 2,000 users from the
// inbox on Postgres, one batch size per sub-benchmark (batch=1 is the one-transaction-per-event baseline); ns/event and events/s are per event.
func BenchmarkApplyInitialSync(b *testing.B) {
	for _, batch := range []int{1, 100, 500} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			const users = 2000
			var total time.Duration
			n := 0
			for b.Loop() {
				b.StopTimer()
				st := storetest.Open(b, "postgres")
				ctx := b.Context()
				if err := st.PutOrganization(ctx, membership.Organization{ID: testOrg}); err != nil {
					b.Fatal(err)
				}
				if _, err := st.PutPlan(ctx, membership.PlanSpec{ID: testPlan, OrganizationID: testOrg, WorkOSOrganizationID: workosOrg}); err != nil {
					b.Fatal(err)
				}
				for i := range users {
					if _, err := st.PutInbox(ctx, userEvent("created", fmt.Sprintf("directory_user_%05d", i), fmt.Sprintf("u%05d@acme.test", i), "active", 1)); err != nil {
						b.Fatal(err)
					}
				}
				app := applier.New(st, applier.Options{Rules: store.Rules{TestModeLimit: 10}, BatchSize: batch})
				b.StartTimer()
				start := time.Now()
				if err := app.Drain(ctx); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
				n += users
			}
			b.ReportMetric(float64(total.Nanoseconds())/float64(n), "ns/event")
			b.ReportMetric(float64(n)/total.Seconds(), "events/s")
		})
	}
}
