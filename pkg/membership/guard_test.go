package membership_test

import (
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
)

var guardTests = []struct {
	name    string
	n, paid int
	want    bool
}{
	{"a few seats are never held", 5, 6, false},
	{"under the minimum even at 100 %", 19, 19, false},
	{"at the minimum and over the share", 20, 30, true},
	{"exactly half is not more than half", 20, 40, false},
	{"just over half", 21, 40, true},
	{"a small share of a big plan", 100, 1000, false},
}

func TestGuardHolds(t *testing.T) {
	t.Parallel()
	g := membership.Guard{Share: 0.5, Min: 20}
	for _, tt := range guardTests {
		if got := g.Holds(tt.n, tt.paid); got != tt.want {
			t.Errorf("%s: Holds(%d, %d) = %v, want %v", tt.name, tt.n, tt.paid, got, tt.want)
		}
	}
	if (membership.Guard{}).Holds(1000, 1000) {
		t.Error("a zero Guard holds nothing")
	}
}

func TestRevocations(t *testing.T) {
	t.Parallel()
	changes := []membership.MemberChange{
		{Before: membership.Member{Email: "a@x.test", PlanID: "p"}, After: membership.Member{Email: "a@x.test"}},
		{Before: membership.Member{Email: "b@x.test", PlanID: "p"}, After: membership.Member{Email: "b@x.test", PlanID: "q"}},
		{Before: membership.Member{Email: "c@x.test"}, After: membership.Member{Email: "c@x.test", PlanID: "p"}},
		{Before: membership.Member{Email: "d@x.test", PlanID: "p", Source: membership.SourceManual}, After: membership.Member{Email: "d@x.test", PlanID: "p", Source: membership.SourceDirectory}},
	}
	revoke, keep := membership.Revocations("p", changes)
	if len(revoke) != 2 || revoke[0].After.Email != "a@x.test" || revoke[1].After.Email != "b@x.test" || len(keep) != 2 {
		t.Errorf("Revocations = %v / %v; want a and b revoked, c and d kept", revoke, keep)
	}
}
