package membership_test

import (
	"fmt"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
)

// BenchmarkApplyUser applies an email change of a user holding a directory
// seat, in a plan whose organization has a few other plans: the common
// steady-state event, touching two members.
func BenchmarkApplyUser(b *testing.B) {
	s := snapshot(testPlan(membership.ModeDirectory, 40), stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1))
	s.Scope = membership.Scope{AllowedDomains: []string{"acme.test", "acme.example"}, ScopingGroups: []string{"Clockwise Users"},
		UserGroups: []string{"directory_group_1", "Clockwise Users"}}
	s.Claims = map[string][]membership.Claim{bob: {claim(p2, u2, false)}}
	s.Plans = map[string]membership.PlanView{}
	for i := range 4 {
		id := fmt.Sprintf("plan_%d", 10+i)
		s.Plans[id] = membership.PlanView{ID: id, Mode: membership.ModeTest}
	}
	ch := change(incoming(u1, bob, "active", 2))
	b.ReportAllocs()
	for b.Loop() {
		r := membership.ApplyUser(s, ch)
		if r.Outcome != membership.OutcomeApplied || len(r.Changes) != 2 {
			b.Fatalf("outcome %s, %d changes", r.Outcome, len(r.Changes))
		}
	}
}

// BenchmarkApplyUserStale is the duplicate delivery: rejected by the version check.
func BenchmarkApplyUserStale(b *testing.B) {
	s := snapshot(testPlan(membership.ModeDirectory, 40), stored(u1, alice, "active", 2, true), dirSeat(alice, p1, u1))
	ch := change(incoming(u1, alice, "active", 2))
	b.ReportAllocs()
	for b.Loop() {
		if r := membership.ApplyUser(s, ch); r.Outcome != membership.OutcomeStale {
			b.Fatalf("outcome %s", r.Outcome)
		}
	}
}

// BenchmarkSeatFor decides a member claimed by directory users of several plans.
func BenchmarkSeatFor(b *testing.B) {
	m := membership.Member{Email: alice, PlanID: "plan_13", Source: membership.SourceDirectory, ManualPlanID: "plan_11", DirectoryUserID: "du_13"}
	plans := map[string]membership.PlanView{}
	var claims []membership.Claim
	for i := range 4 {
		id := fmt.Sprintf("plan_%d", 10+i)
		plans[id] = membership.PlanView{ID: id, Mode: membership.ModeDirectory, DowngradeDone: i%2 == 0}
		claims = append(claims, membership.Claim{PlanID: id, DirectoryUserID: fmt.Sprintf("du_%d", 10+i), InA: i >= 2})
	}
	want := membership.Seat{PlanID: "plan_12", Source: membership.SourceDirectory, DirectoryUserID: "du_12"}
	b.ReportAllocs()
	for b.Loop() {
		if got := membership.SeatFor(m, claims, plans); got != want {
			b.Fatalf("SeatFor = %+v, want %+v", got, want)
		}
	}
}
