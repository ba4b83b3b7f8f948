package membership_test

// Known bugs in the seat rules, found while writing these tests. Each test
// below FAILS on purpose against the current rules: it states the behaviour
// SPEC §3–4 asks for, on the smallest case that shows the difference. Remove
// the "BUG" comment when the rule is fixed; do not delete or skip the test.
// Everything else in the package: go test -skip 'TestBug' ./pkg/membership/

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// BUG (SeatFor, frozen plans): "Directory deactivated: seats are frozen as they
// are" (SPEC §3). SeatFor keeps a remembered manual seat whenever its plan is
// frozen, even for a member who no longer holds it: a manual holder moved to
// free by the cutover downgrade gets the seat back on the frozen plan as soon
// as any event of another plan of the organization recomputes the member.
func TestBugFrozenPlanRegrantsRevokedManualSeat(t *testing.T) {
	t.Parallel()
	p1Frozen := membership.PlanView{ID: p1, Mode: membership.ModeDirectory, DowngradeDone: true, Frozen: true}
	freed := membership.Member{Email: alice, ManualPlanID: p1} // downgraded: free, manual seat remembered
	got := membership.SeatFor(freed, nil, map[string]membership.PlanView{p1: p1Frozen})
	if got != free("") {
		t.Errorf("BUG: SeatFor(free member remembering a manual seat on frozen, downgraded %s) = %s, want free: a frozen plan gains no seat", p1, seatString(got))
	}

	// The same through ApplyUser: plan_2's directory lists alice inactive.
	s := membership.UserSnapshot{Now: now, Plan: membership.Plan{ID: p2, Mode: membership.ModeTest, Limit: 3},
		Members: map[string]membership.Member{alice: freed},
		Plans:   map[string]membership.PlanView{p1: p1Frozen}}
	r := membership.ApplyUser(s, change(incoming(u2, alice, "inactive", 1)))
	if len(r.Changes) != 0 {
		t.Errorf("BUG: an event of %s changed a seat on frozen %s:%s", p2, p1, lines(changeStrings(r.Changes)))
	}
}

// BUG (ApplyUser, audit reason): every audit entry must say why (SPEC §1:
// "Admins read it to answer why"). When a manual holder leaves A in test mode
// the seat goes back to its manual source (source_changed), but the entry's
// reason is "active in the directory" — the opposite of what happened. Same for
// a manual holder whose email changed.
func TestBugAuditReasonWhenManualHolderLeavesA(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		ch   membership.UserChange
		want string
	}{
		{"deactivated", change(incoming(u1, alice, "inactive", 2)), "source_changed alice@acme.test from plan_1 (state inactive in the directory)"},
		{"email changed", change(incoming(u1, bob, "active", 2)), "source_changed alice@acme.test from plan_1 (email changed to bob@acme.test in the directory)"},
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
			t.Errorf("BUG: manual holder %s in test mode: audit for alice =%s\n\twant\n\t\t%s", tt.name, lines(got), tt.want)
		}
	}
}

// BUG (ApplyUser, E on conflict): "A user joins E when any received event ...
// shows them active in scope" (SPEC §3). An email change that is reported as a
// conflict returns before counting the user, so a user whose only active event
// conflicts never joins E — while the same event delivered before the user's
// created event (no stored row, no conflict check) does count them.
func TestBugConflictingEventDoesNotJoinE(t *testing.T) {
	t.Parallel()
	s := snapshot(testPlan(membership.ModeTest, 1), stored(u2, bob, "inactive", 1, false), dirSeat(alice, p1, u1))
	r := membership.ApplyUser(s, change(incoming(u2, alice, "active", 2)))
	if r.Outcome != membership.OutcomeConflict {
		t.Fatalf("outcome %s, want conflict", r.Outcome)
	}
	if r.Plan.Added != 2 || r.User == nil || !r.User.Added {
		t.Errorf("BUG: conflicting event showing %s active in scope: |E| %d -> %d, stored row %s; want |E| = 2 and the row marked added (as a stale event does)",
			u2, s.Plan.Added, r.Plan.Added, userString(r.User))
	}
}

// BUG (SPEC §4.3 vs §4.4, email conflicts): the conflict check runs only when a
// stored user changes email, so whether a rename onto another directory user's
// email is refused depends on whether the renamed user's earlier created event
// arrived first. Here L = 1: in order, u2's rename conflicts and the plan stays
// in test mode; delivered before u2's created, the rename is applied, u2 joins
// E and the plan cuts over. The final state must not depend on the order.
func TestBugEmailConflictDependsOnDeliveryOrder(t *testing.T) {
	t.Parallel()
	x1 := change(incoming(u1, alice, "active", 1))
	y1 := change(incoming(u2, bob, "inactive", 2))
	y2 := change(incoming(u2, alice, "active", 3))
	h := history{limit: 1, scope: membership.Scope{AllowedDomains: []string{"acme.test"}}}
	inOrder := h.run([]membership.UserChange{x1, y1, y2}).state()
	reordered := h.run([]membership.UserChange{x1, y2, y1}).state()
	if inOrder != reordered {
		t.Errorf("BUG: delivery order changed the outcome\nin order (x1 y1 y2):\n%s\nreordered (x1 y2 y1):\n%s", inOrder, reordered)
	}
}

// BUG (ApplyUser, conflict on a departed user's email): the conflict check
// trusts the member's DirectoryUserID, which keeps pointing at a directory user
// after that user was deleted (the member is free but still "linked"). Every
// later rename onto that email is then refused as a conflict forever, while a
// new directory user created with the same email gets the seat: the email is
// reusable, and the directory user it "belongs to" no longer exists.
func TestBugConflictWithDeletedUsersEmail(t *testing.T) {
	t.Parallel()
	e := newEngine(10, membership.Scope{}, nil)
	e.deliver(change(incoming(u1, alice, "active", 1)))
	e.deliver(change(deletedUser(u1, alice, 2)))             // alice@ is free, linked to the tombstone
	e.deliver(change(incoming(u2, bob, "active", 3)))        // another person ...
	r := e.deliver(change(incoming(u2, alice, "active", 4))) // ... is renamed to the freed address
	if r.Outcome != membership.OutcomeApplied || !e.members[alice].Paid() {
		t.Errorf("BUG: rename onto the email of a deleted directory user: outcome %s (%s), alice seat %s; want applied and a seat",
			r.Outcome, r.Reason, seatString(memberSeat(e.members[alice])))
	}
}

// BUG (SeatFor, determinism): when two live directory users carry one email,
// the seat's DirectoryUserID depends on which user's event came last (the
// event's own user is appended after the stored claims and the first claim in
// A wins). Seats must be a function of the current state (SPEC §4.3); the
// winner should be chosen by a stable key (e.g. the lowest directory user id).
func TestBugDuplicateEmailLinkDependsOnDeliveryOrder(t *testing.T) {
	t.Parallel()
	a := change(incoming(u1, alice, "active", 1))
	b := change(incoming(u2, alice, "active", 2))
	h := history{limit: 10}
	ab := h.run([]membership.UserChange{a, b})
	ba := h.run([]membership.UserChange{b, a})
	if got, want := seatString(memberSeat(ba.members[alice])), seatString(memberSeat(ab.members[alice])); got != want {
		t.Errorf("BUG: two active users carrying %s: seat after (u1, u2) = %s, after (u2, u1) = %s; want the same", alice, want, got)
	}
}

// BUG (ApplyUser, email change of a manual holder): "An email change moves the
// seat to the new email" (SPEC §4.4). In test mode a manual holder whose email
// changes keeps a manual seat on the old address and gets a directory seat on
// the new one: one directory user, two paid seats, and the old address keeps
// its seat forever in test mode.
func TestBugManualHolderEmailChangeDoublesSeat(t *testing.T) {
	t.Parallel()
	s := snapshot(testMode, stored(u1, alice, "active", 1, true), holderInA(alice, p1, u1))
	r := membership.ApplyUser(s, change(incoming(u1, bob, "active", 2)))
	after := map[string]membership.Member{}
	for _, c := range r.Changes {
		after[c.After.Email] = c.After
	}
	if after[alice].Paid() || !after[bob].Paid() {
		t.Errorf("BUG: manual holder renamed alice -> bob in test mode: changes%s\n\twant alice free and one paid seat, on bob", lines(changeStrings(r.Changes)))
	}
}

// BUG (ApplyUser, frozen plans): while the directory is inactive an email
// change is stored but the seats stay (right), yet the stored row then forgets
// the old email. When the directory is active again, the re-evaluation
// (Reevaluate with the stored row) only looks at the new email, so the old
// address keeps a directory seat that no directory user carries — in any mode,
// for good. Had the rename arrived after the reactivation, the old address
// would have been freed.
func TestBugFrozenEmailChangeLeavesSeatOnOldEmail(t *testing.T) {
	t.Parallel()
	e := newEngine(10, membership.Scope{}, nil)
	e.deliver(change(incoming(u1, alice, "active", 1)))
	e.plan.Frozen = true // dsync.deactivated
	e.deliver(change(incoming(u1, bob, "active", 2)))
	e.plan.Frozen = false // dsync.activated again: the applier re-evaluates every stored user
	e.now = e.now.Add(time.Minute)
	e.deliver(reevaluate(e.users[u1]))
	if e.members[alice].Paid() {
		t.Errorf("BUG: after a rename alice -> bob while frozen and the re-evaluation on reactivation, alice still holds %s; want free\n%s",
			seatString(memberSeat(e.members[alice])), e.state())
	}
}
