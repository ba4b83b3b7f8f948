package membership_test

// Rules that were once open questions, each on the smallest case that shows
// it. Some are regression tests of rules that changed (frozen plans grant
// nothing, the audit reason of a manual holder, conflicts only with live
// directory users, deterministic claims); the others pin behaviour that was
// kept on purpose, with the reason in the test's comment.

import (
	"maps"
	"slices"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
)

// "Directory deactivated: seats are frozen as they are" (SPEC §3). A frozen
// plan never grants a seat, not even a remembered manual seat that the cutover
// downgrade took; a member who holds a seat on it keeps it as is, and only the
// member's DirectoryUserID link may be refreshed (an event of another plan of
// the organization recomputes the member).
func TestFrozenPlanGrantsNoSeat(t *testing.T) {
	t.Parallel()
	p1Frozen := membership.PlanView{ID: p1, Mode: membership.ModeDirectory, DowngradeDone: true, Frozen: true}
	p2Test := membership.PlanView{ID: p2, Mode: membership.ModeTest}
	freed := membership.Member{Email: alice, ManualPlanID: p1} // downgraded: free, manual seat remembered
	for _, tt := range []struct {
		name   string
		member membership.Member
		claims []membership.Claim
		want   membership.Seat
	}{
		{"a manual seat the downgrade took is not given back", freed, nil, free("")},
		{"a user in A of the frozen plan gets no seat", membership.Member{Email: alice}, []membership.Claim{claim(p1, u1, true)}, free(u1)},
		{"a seat on the frozen plan stays, even when another plan's directory assigns the person",
			dirSeat(alice, p1, u1), []membership.Claim{claim(p2, u2, true)}, seat(p1, directory, u1)},
	} {
		plans := map[string]membership.PlanView{p1: p1Frozen, p2: p2Test}
		if got := membership.SeatFor(tt.member, tt.claims, plans); got != tt.want {
			t.Errorf("%s:\n\tSeatFor(\n\t\tmember %+v,\n\t\tclaims %+v,\n\t\tplans  %+v)\n\t= %s, want %s",
				tt.name, tt.member, tt.claims, plans, seatString(got), seatString(tt.want))
		}
	}

	// The same through ApplyUser: plan_2's directory lists alice inactive.
	// The change may relink alice, but must not move her seat.
	s := membership.UserSnapshot{Now: now, Plan: membership.Plan{ID: p2, Mode: membership.ModeTest, Limit: 3},
		Members: map[string]membership.Member{alice: freed},
		Plans:   map[string]membership.PlanView{p1: p1Frozen}}
	ch := change(incoming(u2, alice, "inactive", 1))
	r := membership.ApplyUser(s, ch)
	for _, c := range r.Changes {
		if c.After.PlanID != c.Before.PlanID || c.After.Source != c.Before.Source {
			t.Errorf("ApplyUser(plan %s, member %+v, frozen %s, change %s) changed a seat:%s\n\twant at most a new directory user link",
				p2, freed, p1, userString(&ch.User), lines(changeStrings(r.Changes)))
		}
	}
	checkResult(t, "frozen plan: an event of another plan", s, ch, r)
}

// Every audit entry says why (SPEC §1: "Admins read it to answer why"). When a
// manual holder leaves A in test mode the seat goes back to its manual source
// (source_changed); the reason names why they left and that they keep the seat
// an admin gave. Same for a manual holder whose email changed.
func TestAuditReasonWhenManualHolderLeavesA(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		ch   membership.UserChange
		want string
	}{
		{"deactivated", change(incoming(u1, alice, "inactive", 2)),
			"source_changed alice@acme.test from plan_1 (state inactive in the directory; keeps the seat an admin gave)"},
		{"email changed", change(incoming(u1, bob, "active", 2)),
			"source_changed alice@acme.test from plan_1 (email changed to bob@acme.test in the directory; keeps the seat an admin gave)"},
	} {
		s := snapshot(testMode, stored(u1, alice, "active", 1, true), holderInA(alice, p1, u1))
		r := membership.ApplyUser(s, tt.ch)
		var got []string
		for _, a := range r.Audit {
			if a.MemberEmail == alice {
				got = append(got, auditString(a))
			}
		}
		if len(got) != 1 || got[0] != tt.want {
			t.Errorf("manual holder %s in test mode: ApplyUser(plan %s, member %+v, change %s): audit for alice =%s\n\twant\n\t\t%s",
				tt.name, planState(s.Plan), s.Members[alice], userString(&tt.ch.User), lines(got), tt.want)
		}
		checkResult(t, "manual holder "+tt.name, s, tt.ch, r)
	}
}

// "A user joins E when any received event ... shows them active in scope"
// (SPEC §3). An email change onto the email of another live directory user is
// a conflict and moves no seat, but when it shows the user active in scope it
// still adds the user to E (stored Added=true, |E|+1), and may cut over — as a
// stale event does, and as the same event does when it arrives before the
// user's created event (no stored row, so no conflict check).
func TestConflictingEventStillJoinsE(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		added   int
		plan    string
		cutover bool
	}{
		{"below the limit", 1, "test added=2", false},
		{"the (L+1)-th user added", 3, "directory added=4 downgraded", true},
	} {
		s := tweak(snapshot(testPlan(membership.ModeTest, tt.added), stored(u2, bob, "inactive", 1, false), dirSeat(alice, p1, u1)),
			func(s *membership.UserSnapshot) {
				s.Claims = map[string][]membership.Claim{alice: {claim(p1, u1, true)}}
			})
		ch := change(incoming(u2, alice, "active", 2))
		r := membership.ApplyUser(s, ch)
		wantUser := "{directory_user_2 bob@acme.test state=inactive deleted=false inA=false added=true v=event_001}"
		if r.Outcome != membership.OutcomeConflict || r.Reason != "new email alice@acme.test belongs to another directory user" ||
			planState(r.Plan) != tt.plan || r.Cutover != tt.cutover || userString(r.User) != wantUser || len(r.Changes) != 0 {
			t.Errorf("%s: ApplyUser(plan %s, stored %s, claims %v, change %s)\n\tgot  outcome=%s reason=%s plan %s cutover=%v user %s changes:%s"+
				"\n\twant outcome=conflict reason=new email alice@acme.test belongs to another directory user plan %s cutover=%v user %s changes:%s",
				tt.name, planState(s.Plan), storedString(s.Stored), s.Claims, userString(&ch.User),
				r.Outcome, r.Reason, planState(r.Plan), r.Cutover, userString(r.User), lines(changeStrings(r.Changes)),
				tt.plan, tt.cutover, wantUser, lines(nil))
		}
		checkResult(t, "conflicting event "+tt.name, s, ch, r)
	}
}

// Decision, kept: with two directory users claiming one email, whether the
// later rename is a conflict depends on delivery order. In order (x1 y1 y2)
// u2's rename onto alice@ finds u1 carrying it and is reported as a conflict;
// delivered before u2's created (x1 y2 y1) there is no stored row to rename
// from, so u2 is stored with alice@ and y1 is stale. Two directory users with
// one email is a misconfiguration of the directory, reported as a conflict
// when it is detected; SPEC §4.4's conflict rule cannot converge in every
// order, since which user "was there first" is itself order-dependent. What
// must hold in every order: the email holds at most one paid seat.
func TestEmailConflictDependsOnDeliveryOrder(t *testing.T) {
	t.Parallel()
	x1 := change(incoming(u1, alice, "active", 1))
	y1 := change(incoming(u2, bob, "inactive", 2))
	y2 := change(incoming(u2, alice, "active", 3))
	h := history{limit: 1, scope: membership.Scope{AllowedDomains: []string{"acme.test"}}}
	for _, tt := range []struct {
		name     string
		delivery []membership.UserChange
		conflict bool // the last delivery of y2 is reported as a conflict
	}{
		{"in order (x1 y1 y2)", []membership.UserChange{x1, y1, y2}, true},
		{"reordered (x1 y2 y1)", []membership.UserChange{x1, y2, y1}, false},
	} {
		e := newEngine(h.limit, h.scope, h.manual)
		var y2Outcome membership.Outcome
		for _, ch := range tt.delivery {
			if r := e.deliver(ch); ch.EventID == y2.EventID {
				y2Outcome = r.Outcome
			}
		}
		paid := 0
		for email, m := range e.members {
			if email == alice && m.Paid() {
				paid++
			}
		}
		if paid > 1 {
			t.Errorf("%s: %s holds %d paid seats, want at most one\n%s", tt.name, alice, paid, e.state())
		}
		if tt.conflict && y2Outcome != membership.OutcomeConflict {
			t.Errorf("%s: y2 (%s renamed to %s) outcome %s, want conflict\n%s", tt.name, u2, alice, y2Outcome, e.state())
		}
	}
}

// An email change is a conflict only when another live directory user carries
// the new email. A member row still linked to a deleted directory user (free,
// its DirectoryUserID left over) does not make the email anyone's: the email
// is reusable, so a rename onto it is applied and moves the seat — as a new
// directory user created with that email would get it.
func TestRenameOntoDeletedUsersEmailMovesTheSeat(t *testing.T) {
	t.Parallel()
	e := newEngine(10, membership.Scope{}, nil)
	e.deliver(change(incoming(u1, alice, "active", 1)))
	e.deliver(change(deletedUser(u1, alice, 2)))             // alice@ is free, linked to the tombstone
	e.deliver(change(incoming(u2, bob, "active", 3)))        // another person ...
	r := e.deliver(change(incoming(u2, alice, "active", 4))) // ... is renamed to the freed address
	got := map[string]string{alice: seatString(memberSeat(e.members[alice])), bob: seatString(memberSeat(e.members[bob]))}
	want := map[string]string{alice: p1 + "/directory/" + u2, bob: "free"}
	if r.Outcome != membership.OutcomeApplied || got[alice] != want[alice] || got[bob] != want[bob] {
		t.Errorf("rename of %s onto the email of deleted %s: outcome %s (%s), seats %v; want applied, seats %v\n%s",
			u2, u1, r.Outcome, r.Reason, got, want, e.state())
	}
}

// Seats are a function of the current state (SPEC §4.3): when two live
// directory users carry one email, SeatFor picks the lowest plan id, then the
// lowest directory user id, whatever the order the users' events came in.
func TestDuplicateEmailSeatIndependentOfDeliveryOrder(t *testing.T) {
	t.Parallel()
	a := change(incoming(u1, alice, "active", 1))
	b := change(incoming(u2, alice, "active", 2))
	h := history{limit: 10}
	want := p1 + "/directory/" + u1
	for _, tt := range []struct {
		name     string
		delivery []membership.UserChange
	}{
		{"(u1, u2)", []membership.UserChange{a, b}},
		{"(u2, u1)", []membership.UserChange{b, a}},
	} {
		e := h.run(tt.delivery)
		if got := seatString(memberSeat(e.members[alice])); got != want {
			t.Errorf("two active users carrying %s, delivered %s: seat %s, want %s\n%s", alice, tt.name, got, want, e.state())
		}
	}
}

// Decision, kept: in test mode a manual seat is never revoked by the directory
// (SPEC §3), and it stays on the email an admin gave it to. Renaming the
// manual holder's directory user gives the new email a directory seat while
// the old email keeps its manual seat: two paid seats until the cutover, whose
// downgrade frees the old email (nobody in A carries it). A shuffled delivery
// (the rename before the created) ends in the same seats, so it converges.
func TestManualHolderRenamedInTestModeKeepsSeatOnOldEmail(t *testing.T) {
	t.Parallel()
	s := snapshot(testMode, stored(u1, alice, "active", 1, true), holderInA(alice, p1, u1))
	ch := change(incoming(u1, bob, "active", 2))
	r := membership.ApplyUser(s, ch)
	want := []string{"alice@acme.test -> plan_1/manual/ manual=plan_1", "bob@acme.test -> plan_1/directory/directory_user_1 new"}
	if got := changeStrings(r.Changes); !slices.Equal(got, want) {
		t.Errorf("ApplyUser(plan %s, stored %s, member %+v, change %s): changes%s\n\twant%s",
			planState(s.Plan), storedString(s.Stored), s.Members[alice], userString(&ch.User), lines(got), lines(want))
	}
	checkResult(t, "manual holder renamed", s, ch, r)

	// The same in the engine, in order and shuffled, then past the cutover
	// (L = 1: eve is the second user added).
	created := change(incoming(u1, alice, "active", 1))
	renamed := change(incoming(u1, bob, "active", 2))
	third := change(incoming(u2, eve, "active", 3))
	h := history{limit: 1, manual: []string{alice}}
	beforeCutover := map[string]string{alice: p1 + "/manual/", bob: p1 + "/directory/" + u1}
	afterCutover := map[string]string{bob: p1 + "/directory/" + u1, eve: p1 + "/directory/" + u2}
	for _, tt := range []struct {
		name     string
		delivery []membership.UserChange
	}{
		{"in order", []membership.UserChange{created, renamed}},
		{"shuffled", []membership.UserChange{renamed, created}},
	} {
		e := h.run(tt.delivery)
		if got := e.seats(); !maps.Equal(got, beforeCutover) {
			t.Errorf("manual holder %s renamed to %s, %s: seats %v, want %v\n%s", alice, bob, tt.name, got, beforeCutover, e.state())
		}
		e.deliver(third)
		if got := e.seats(); e.plan.Mode != membership.ModeDirectory || !maps.Equal(got, afterCutover) {
			t.Errorf("%s, then %s added past L = 1: mode %s, seats %v, want directory mode and %v\n%s",
				tt.name, eve, e.plan.Mode, got, afterCutover, e.state())
		}
	}
}

// Decision, kept: while the directory is inactive an email change is stored
// but moves no seat ("seats are frozen as they are", SPEC §3), so the old
// email keeps its seat and the stored row forgets it. The pure function cannot
// see the old email after the fact: freeing it on reactivation is the job of
// pkg/applier's resync, which re-evaluates every member holding a seat on the
// plan (reevaluateSeats); that belongs in pkg/applier's tests, not here. Here:
// what ApplyUser does while frozen.
func TestEmailChangeWhileFrozenMovesNoSeat(t *testing.T) {
	t.Parallel()
	e := newEngine(10, membership.Scope{}, nil)
	e.deliver(change(incoming(u1, alice, "active", 1)))
	e.plan.Frozen = true // dsync.deactivated
	before := e.seats()
	ch := change(incoming(u1, bob, "active", 2))
	r := e.deliver(ch)
	wantUser := "{directory_user_1 bob@acme.test state=active deleted=false inA=true added=true v=event_002}"
	if r.Outcome != membership.OutcomeApplied || r.Reason != "directory inactive: seats frozen" ||
		len(r.Changes) != 0 || len(r.Audit) != 0 || userString(r.User) != wantUser {
		t.Errorf("frozen plan, change %s: outcome %s (%s), user %s, changes:%s\n\taudit:%s\n\twant applied (directory inactive: seats frozen), user %s, no changes, no audit",
			userString(&ch.User), r.Outcome, r.Reason, userString(r.User), lines(changeStrings(r.Changes)), lines(auditStrings(r.Audit)), wantUser)
	}
	if got := e.seats(); !maps.Equal(got, before) {
		t.Errorf("frozen plan, rename %s -> %s: seats %v, want unchanged %v\n%s", alice, bob, got, before, e.state())
	}
}
