package store_test

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestSeatCounts checks that the counters the plan status reads move with
// every kind of seat change, against a real COUNT.
func TestSeatCounts(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		if err := s.PutOrganization(ctx, membership.Organization{ID: "o"}); err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{"p1", "p2"} {
			if _, err := s.PutPlan(ctx, membership.PlanSpec{ID: p, OrganizationID: "o"}); err != nil {
				t.Fatal(err)
			}
		}
		check := func(step string, p1, p2, free int64) {
			t.Helper()
			for _, c := range []struct {
				plan string
				want int64
			}{{"p1", p1}, {"p2", p2}} {
				paid, gotFree, err := s.SeatCounts(ctx, c.plan, "o")
				if err != nil || paid != c.want || gotFree != free {
					t.Fatalf("%s: SeatCounts(%s) = %d paid, %d free, %v; want %d, %d", step, c.plan, paid, gotFree, err, c.want, free)
				}
				page, err := s.PlanMembers(ctx, c.plan, "o", "paid", "", 100)
				if err != nil || int64(len(page.Members)) != paid {
					t.Fatalf("%s: counter %d but %d paid rows", step, paid, len(page.Members))
				}
			}
		}
		a := membership.Member{Email: "a@x.test", PlanID: "p1", Source: membership.SourceDirectory}
		b := membership.Member{Email: "b@x.test"}
		mustSave := func(before *membership.Member, m membership.Member) {
			t.Helper()
			if err := s.SaveMember(ctx, "o", before, m); err != nil {
				t.Fatal(err)
			}
		}
		mustSave(nil, a)
		mustSave(nil, b)
		check("created", 1, 0, 1)
		a2 := a
		a2.PlanID = "p2"
		mustSave(&a, a2)
		check("moved between plans", 0, 1, 1)
		b2 := b
		b2.PlanID, b2.Source = "p2", membership.SourceManual
		mustSave(&b, b2)
		check("granted", 0, 2, 0)
		n, err := s.Downgrade(ctx, "p2", time.Now(), "", "test")
		if err != nil || n != 2 {
			t.Fatalf("Downgrade = %d, %v; want 2", n, err)
		}
		check("downgraded", 0, 0, 2)
	})
}
