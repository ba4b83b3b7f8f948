package membership_test

import (
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SPEC §3: the seat a member should hold, from the claims on its email and the
// modes of its organization's plans. One row per rule.
type seatForTest struct {
	name   string
	member membership.Member
	claims []membership.Claim
	plans  map[string]membership.PlanView
	want   membership.Seat
}

var (
	viewManual     = membership.PlanView{ID: p1, Mode: membership.ModeManual}
	viewTest       = membership.PlanView{ID: p1, Mode: membership.ModeTest}
	viewDirPending = membership.PlanView{ID: p1, Mode: membership.ModeDirectory}
	viewDirDone    = membership.PlanView{ID: p1, Mode: membership.ModeDirectory, DowngradeDone: true}
)

func only(v membership.PlanView) map[string]membership.PlanView {
	return map[string]membership.PlanView{v.ID: v}
}

func withID(v membership.PlanView, id string) membership.PlanView {
	v.ID = id
	return v
}

func frozenView(v membership.PlanView) membership.PlanView {
	v.Frozen = true
	return v
}

func claim(plan, id string, inA bool) membership.Claim {
	return membership.Claim{PlanID: plan, DirectoryUserID: id, InA: inA}
}

func seat(plan string, src membership.SeatSource, id string) membership.Seat {
	return membership.Seat{PlanID: plan, Source: src, DirectoryUserID: id}
}

func free(id string) membership.Seat { return membership.Seat{DirectoryUserID: id} }

const (
	manual    = membership.SourceManual
	directory = membership.SourceDirectory
)

var seatForTests = []seatForTest{
	// manual mode
	{"manual mode: a manual seat is untouched",
		manualSeat(alice, p1), nil, only(viewManual), seat(p1, manual, "")},
	{"manual mode: a free member stays free",
		membership.Member{Email: alice}, nil, only(viewManual), free("")},
	{"manual mode: a directory user in A grants nothing",
		membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, true)}, only(viewManual), free(u1)},

	// test mode
	{"test mode: a user in A gets a directory seat",
		membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, true)}, only(viewTest), seat(p1, directory, u1)},
	{"test mode: a user not in A stays free",
		membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, false)}, only(viewTest), free(u1)},
	{"test mode: a directory seat is lost when the user leaves A",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, false)}, only(viewTest), free(u1)},
	{"test mode: a directory seat is lost when the user is gone (no claim)",
		dirSeat(alice, p1, u1), nil, only(viewTest), free("")},
	{"test mode: a manual seat the directory does not list is left alone",
		manualSeat(alice, p1), nil, only(viewTest), seat(p1, manual, "")},
	{"test mode: a manual holder who joins A becomes directory-sourced",
		manualSeat(alice, p1), []membership.Claim{claim(p1, u1, true)}, only(viewTest), seat(p1, directory, u1)},
	{"test mode never revokes a manual seat, even when the person leaves A",
		membership.Member{Email: alice, PlanID: p1, Source: directory, ManualPlanID: p1, DirectoryUserID: u1},
		[]membership.Claim{claim(p1, u1, false)}, only(viewTest), seat(p1, manual, u1)},
	{"test mode never revokes a manual seat, even when the user is deleted (no claim)",
		membership.Member{Email: alice, PlanID: p1, Source: directory, ManualPlanID: p1, DirectoryUserID: u1},
		nil, only(viewTest), seat(p1, manual, "")},

	// directory mode, downgrade done
	{"directory mode: a user in A holds a directory seat",
		membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, true)}, only(viewDirDone), seat(p1, directory, u1)},
	{"directory mode: a manual holder in A becomes directory-sourced",
		manualSeat(alice, p1), []membership.Claim{claim(p1, u1, true)}, only(viewDirDone), seat(p1, directory, u1)},
	{"directory mode, downgrade done: a manual seat not in A is free",
		manualSeat(alice, p1), nil, only(viewDirDone), free("")},
	{"directory mode, downgrade done: a manual holder who left A is free",
		membership.Member{Email: alice, PlanID: p1, Source: directory, ManualPlanID: p1, DirectoryUserID: u1},
		[]membership.Claim{claim(p1, u1, false)}, only(viewDirDone), free(u1)},
	{"directory mode, downgrade done: a directory seat not in A is free",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, false)}, only(viewDirDone), free(u1)},

	// directory mode, downgrade pending (grace)
	{"downgrade pending: a manual seat of a person the directory never listed is kept",
		manualSeat(alice, p1), nil, only(viewDirPending), seat(p1, manual, "")},
	{"downgrade pending: a manual holder who joined and left A is freed",
		membership.Member{Email: alice, PlanID: p1, Source: directory, ManualPlanID: p1, DirectoryUserID: u1},
		[]membership.Claim{claim(p1, u1, false)}, only(viewDirPending), free(u1)},
	{"downgrade pending: a manual holder listed inactive is freed",
		manualSeat(alice, p1), []membership.Claim{claim(p1, u1, false)}, only(viewDirPending), free(u1)},
	{"downgrade pending: listed only by another plan's directory still counts as never listed here",
		manualSeat(alice, p1), []membership.Claim{claim(p2, u2, false)},
		map[string]membership.PlanView{p1: viewDirPending, p2: withID(viewTest, p2)}, seat(p1, manual, u2)},
	{"downgrade pending: a directory seat not in A is free",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, false)}, only(viewDirPending), free(u1)},

	// frozen plans (directory inactive)
	{"frozen plan keeps a directory seat as is, even out of A",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, false)}, only(frozenView(viewDirDone)), seat(p1, directory, u1)},
	{"frozen plan keeps a manual seat as is",
		manualSeat(alice, p1), nil, only(frozenView(viewDirDone)), seat(p1, manual, "")},
	{"frozen plan grants no new seat",
		membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, true)}, only(frozenView(viewTest)), free(u1)},
	{"frozen plan keeps the seat even when another plan's directory claims the person",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, true), claim(p0, "u0", true)},
		map[string]membership.PlanView{p1: frozenView(viewTest), p0: withID(viewTest, p0)}, seat(p1, directory, u1)},
	{"a frozen plan's claim does not move a seat away from another plan",
		dirSeat(alice, p2, u2), []membership.Claim{claim(p0, "u0", true), claim(p2, u2, true)},
		map[string]membership.PlanView{p0: frozenView(withID(viewTest, p0)), p2: withID(viewTest, p2)}, seat(p2, directory, u2)},

	// one paid seat per person per organization
	{"a directory claim on another plan moves a manual seat there",
		manualSeat(alice, p2), []membership.Claim{claim(p1, u1, true)},
		map[string]membership.PlanView{p1: viewTest, p2: withID(viewManual, p2)}, seat(p1, directory, u1)},
	{"a directory claim on another plan moves a directory seat there when it leaves A here",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, false), claim(p2, u2, true)},
		map[string]membership.PlanView{p1: viewTest, p2: withID(viewTest, p2)}, seat(p2, directory, u2)},
	{"two plans claim: the lowest plan id wins",
		membership.Member{Email: alice}, []membership.Claim{claim(p2, u2, true), claim(p1, u1, true)},
		map[string]membership.PlanView{p1: viewTest, p2: withID(viewTest, p2)}, seat(p1, directory, u1)},
	{"two plans claim: the lowest plan id wins whatever the claim order",
		membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, true), claim(p2, u2, true)},
		map[string]membership.PlanView{p1: viewTest, p2: withID(viewDirDone, p2)}, seat(p1, directory, u1)},
	{"two plans claim: the holder on the higher plan id moves to the lowest",
		dirSeat(alice, p2, u2), []membership.Claim{claim(p2, u2, true), claim(p1, u1, true)},
		map[string]membership.PlanView{p1: viewDirDone, p2: withID(viewTest, p2)}, seat(p1, directory, u1)},
	{"a claim in A on a manual-mode plan does not win over a directory plan",
		membership.Member{Email: alice}, []membership.Claim{claim(p0, "u0", true), claim(p1, u1, true)},
		map[string]membership.PlanView{p0: withID(viewManual, p0), p1: viewTest}, seat(p1, directory, u1)},

	// gone
	{"inactive = gone: a user out of A holds nothing",
		dirSeat(alice, p1, u1), []membership.Claim{claim(p1, u1, false)}, only(viewDirDone), free(u1)},
	{"a claim on an unknown plan grants nothing",
		membership.Member{Email: alice}, []membership.Claim{claim("plan_gone", u1, true)}, only(viewTest), free(u1)},
	{"a remembered manual seat on an unknown (deleted) plan is not kept",
		membership.Member{Email: alice, ManualPlanID: "plan_gone"}, nil, only(viewTest), free("")},
	{"a free member with a remembered manual seat gets it back in test mode",
		membership.Member{Email: alice, ManualPlanID: p1}, nil, only(viewTest), seat(p1, manual, "")},
}

func TestSeatFor(t *testing.T) {
	t.Parallel()
	for _, tt := range seatForTests {
		if got := membership.SeatFor(tt.member, tt.claims, tt.plans); got != tt.want {
			t.Errorf("%s:\n\tSeatFor(\n\t\tmember %+v,\n\t\tclaims %+v,\n\t\tplans  %+v)\n\t= %s, want %s",
				tt.name, tt.member, tt.claims, tt.plans, seatString(got), seatString(tt.want))
		}
	}
}

// SeatFor reads no history: the same inputs give the same seat, and feeding a
// member its own seat again changes nothing (idempotence of the recompute).
func TestSeatForIsIdempotent(t *testing.T) {
	t.Parallel()
	for _, tt := range seatForTests {
		s := membership.SeatFor(tt.member, tt.claims, tt.plans)
		m := tt.member
		m.PlanID, m.Source, m.DirectoryUserID = s.PlanID, s.Source, s.DirectoryUserID
		if again := membership.SeatFor(m, tt.claims, tt.plans); again != s {
			t.Errorf("%s: SeatFor after applying %s = %s, want the same seat", tt.name, seatString(s), seatString(again))
		}
		if s.Differs(m) {
			t.Errorf("%s: %s.Differs(member holding it) = true", tt.name, seatString(s))
		}
	}
}

// SeatAction names a seat change for the audit log ("" = no seat change).
type seatActionTest struct {
	name   string
	member membership.Member
	seat   membership.Seat
	want   string
}

var seatActionTests = []seatActionTest{
	{"same plan and source: no seat change", dirSeat(alice, p1, u1), seat(p1, directory, u1), ""},
	{"only the linked directory user changes: no seat change", dirSeat(alice, p1, u1), seat(p1, directory, u2), ""},
	{"free stays free: no seat change", membership.Member{Email: alice}, free(u1), ""},
	{"free to paid: granted", membership.Member{Email: alice}, seat(p1, directory, u1), membership.ActionGranted},
	{"free to a manual seat: granted", membership.Member{Email: alice, ManualPlanID: p1}, seat(p1, manual, ""), membership.ActionGranted},
	{"paid to free: moved to free", dirSeat(alice, p1, u1), free(u1), membership.ActionMovedToFree},
	{"manual to free: moved to free", manualSeat(alice, p1), free(""), membership.ActionMovedToFree},
	{"one plan to another: moved", manualSeat(alice, p2), seat(p1, directory, u1), membership.ActionMoved},
	{"one plan to another, same source: moved", dirSeat(alice, p2, u2), seat(p1, directory, u1), membership.ActionMoved},
	{"manual to directory on the same plan: source changed", manualSeat(alice, p1), seat(p1, directory, u1), membership.ActionSourceChanged},
	{"directory to manual on the same plan: source changed", dirSeat(alice, p1, u1), seat(p1, manual, u1), membership.ActionSourceChanged},
}

func TestSeatAction(t *testing.T) {
	t.Parallel()
	for _, tt := range seatActionTests {
		if got := membership.SeatAction(tt.member, tt.seat); got != tt.want {
			t.Errorf("%s: SeatAction(%+v, %s) = %q, want %q", tt.name, tt.member, seatString(tt.seat), got, tt.want)
		}
	}
}

type differsTest struct {
	name   string
	member membership.Member
	seat   membership.Seat
	want   bool
}

var differsTests = []differsTest{
	{"same seat", dirSeat(alice, p1, u1), seat(p1, directory, u1), false},
	{"other plan", dirSeat(alice, p1, u1), seat(p2, directory, u1), true},
	{"other source", dirSeat(alice, p1, u1), seat(p1, manual, u1), true},
	{"other directory user", dirSeat(alice, p1, u1), seat(p1, directory, u2), true},
	{"name and remembered manual plan do not count", membership.Member{Email: alice, Name: "A", ManualPlanID: p2}, free(""), false},
}

func TestSeatDiffers(t *testing.T) {
	t.Parallel()
	for _, tt := range differsTests {
		if got := tt.seat.Differs(tt.member); got != tt.want {
			t.Errorf("%s: %s.Differs(%+v) = %v, want %v", tt.name, seatString(tt.seat), tt.member, got, tt.want)
		}
	}
}
