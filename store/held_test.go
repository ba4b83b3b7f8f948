package store_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestRecentRevocationsIndex checks that the guard's count of recent
// revocations is right and reads the partial index audit_entries_revocations
// (migration 0005), not every audit entry of the plan: on Postgres even in a
// generic plan, which must prove the index predicate without the parameters.
func TestRecentRevocationsIndex(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		now := time.Now().UTC().Truncate(time.Second)
		actions := []string{membership.ActionMovedToFree, membership.ActionMoved, membership.ActionGranted,
			membership.ActionSourceChanged, membership.ActionGranted, membership.ActionGranted,
			membership.ActionGranted, membership.ActionGranted, membership.ActionGranted, membership.ActionGranted}
		var entries []membership.AuditEntry
		want := 0
		for i := range 3000 {
			e := membership.AuditEntry{PlanID: []string{"p", "q"}[i%2], At: now.Add(-time.Duration(i) * time.Second),
				Actor: "directory:d", Action: actions[i/2%len(actions)], MemberEmail: "m@x.test", FromPlanID: "p"}
			if i%6 == 0 {
				e.FromPlanID = "q" // a seat that came from another plan
			}
			if e.PlanID == "p" && e.FromPlanID == "p" && (e.Action == membership.ActionMovedToFree || e.Action == membership.ActionMoved) && i < 600 {
				want++
			}
			entries = append(entries, e)
		}
		for i := 0; i < len(entries); i += 500 {
			if err := s.AddAudit(ctx, entries[i:i+500]...); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.RecentRevocations(ctx, "p", now.Add(-599*time.Second))
		if err != nil || got != want || want == 0 {
			t.Fatalf("RecentRevocations = %d, %v; want %d", got, err, want)
		}
		plan, err := s.RecentRevocationsPlan(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(plan, "audit_entries_revocations") {
			t.Errorf("RecentRevocations does not use audit_entries_revocations:\n%s", plan)
		}
	})
}
