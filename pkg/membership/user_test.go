package membership_test

import (
	"maps"
	"slices"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SPEC §3–4: one user change applied to the rows it touches. Each row names
// the rule it checks; want lists the member changes and audit entries as
// "email -> plan/source/directory_user" and "action email (reason)".
type applyUserTest struct {
	name string
	snap membership.UserSnapshot
	ch   membership.UserChange
	want applyWant
}

type applyWant struct {
	outcome membership.Outcome
	reason  string
	user    string // userString of the row to store
	plan    string // planState of the resulting plan
	cutover bool
	changes []string
	audit   []string
}

const actor = "directory:directory_1"

// incoming is a user change as the applier decodes it: InA and Added are the
// rules' to decide.
func incoming(id, email, state string, n int) membership.DirectoryUser {
	u := dirUser(id, email, state, n)
	u.InA, u.Added = false, false
	return u
}

func deletedUser(id, email string, n int) membership.DirectoryUser {
	u := incoming(id, email, "active", n)
	u.Deleted = true
	return u
}

// stored is a stored user row; added says whether it is in E.
func stored(id, email, state string, n int, added bool) *membership.DirectoryUser {
	u := dirUser(id, email, state, n)
	u.Added = added
	return &u
}

func tombstone(id, email string, n int, added bool) *membership.DirectoryUser {
	u := stored(id, email, "active", n, added)
	u.Deleted, u.InA = true, false
	return u
}

func change(u membership.DirectoryUser) membership.UserChange {
	return membership.UserChange{User: u, EventID: u.Version.EventID, Actor: actor}
}

func reevaluate(u membership.DirectoryUser) membership.UserChange {
	ch := change(u)
	ch.EventID, ch.Reevaluate = "event_resync", true
	return ch
}

func snapshot(p membership.Plan, st *membership.DirectoryUser, members ...membership.Member) membership.UserSnapshot {
	s := membership.UserSnapshot{Now: now, Plan: p, Stored: st, Members: map[string]membership.Member{}}
	for _, m := range members {
		s.Members[m.Email] = m
	}
	return s
}

// tweak returns s changed by f, for the rows that need scope, claims or plans.
func tweak(s membership.UserSnapshot, f func(*membership.UserSnapshot)) membership.UserSnapshot {
	f(&s)
	return s
}

func frozenPlan(p membership.Plan) membership.Plan {
	p.Frozen = true
	return p
}

func holderInA(email, plan, id string) membership.Member {
	m := dirSeat(email, plan, id)
	m.ManualPlanID = plan
	return m
}

// planState renders the plan fields ApplyUser may change.
func planState(p membership.Plan) string {
	s := string(p.Mode) + " added=" + itoa(p.Added)
	if p.DowngradedAt != nil {
		s += " downgraded"
	}
	if p.DowngradeDueAt != nil {
		s += " due"
	}
	return s
}

var (
	testMode = testPlan(membership.ModeTest, 0)
	dirMode  = testPlan(membership.ModeDirectory, 5)
)

var applyUserTests = []applyUserTest{
	// new users, E and the cutover
	{"new user in A gets a directory seat",
		snapshot(testMode, nil), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=1",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 new"},
			audit:   []string{"granted alice@acme.test (active in the directory)"}}},
	{"new inactive user is stored, gets no seat and is not in E",
		snapshot(testMode, nil), change(incoming(u1, alice, "inactive", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user: "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=false v=event_001}"}},
	{"new user without an email is stored and gets no seat",
		snapshot(testMode, nil), change(incoming(u1, "", "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user: "{directory_user_1  state=active deleted=false inA=false added=false v=event_001}"}},
	{"the L-th distinct user added does not cut over",
		snapshot(testPlan(membership.ModeTest, 2), nil), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=3",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 new"},
			audit:   []string{"granted alice@acme.test (active in the directory)"}}},
	{"the (L+1)-th distinct user added triggers the cutover",
		snapshot(testPlan(membership.ModeTest, 3), nil), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "directory added=4 downgraded", cutover: true,
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 new"},
			audit: []string{"cutover (more than the test-mode limit of users added by the directory)",
				"granted alice@acme.test (active in the directory)"}}},
	{"an update of a user already in E does not count again",
		snapshot(testPlan(membership.ModeTest, 3), stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)),
		change(incoming(u1, alice, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=3",
			user: "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_002}"}},
	{"a user who was never in A joins E when activated",
		snapshot(testPlan(membership.ModeTest, 1), stored(u1, alice, "inactive", 1, false)),
		change(incoming(u1, alice, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=2",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_002}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 new"},
			audit:   []string{"granted alice@acme.test (active in the directory)"}}},
	{"a user who leaves A stays in E",
		snapshot(testPlan(membership.ModeTest, 2), stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)),
		change(incoming(u1, alice, "inactive", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=2",
			user:    "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> free/directory_user_1"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (state inactive in the directory)"}}},

	// ordering (SPEC §4.3)
	{"an older version is stale and changes nothing",
		snapshot(testMode, stored(u1, alice, "active", 5, true), dirSeat(alice, p1, u1)),
		change(incoming(u1, alice, "inactive", 3)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=0", user: "<unchanged>"}},
	{"a duplicate (same version) is stale",
		snapshot(testMode, stored(u1, alice, "active", 5, true), dirSeat(alice, p1, u1)),
		change(incoming(u1, alice, "active", 5)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=0", user: "<unchanged>"}},
	{"a stale event showing the user active in scope still adds them to E",
		snapshot(testPlan(membership.ModeTest, 1), stored(u1, alice, "inactive", 5, false)),
		change(incoming(u1, alice, "active", 3)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=2",
			user: "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_005}"}},
	{"a stale event can trigger the cutover",
		snapshot(testPlan(membership.ModeTest, 3), stored(u1, alice, "inactive", 5, false)),
		change(incoming(u1, alice, "active", 3)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "directory added=4 downgraded", cutover: true,
			user:  "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_005}",
			audit: []string{"cutover (more than the test-mode limit of users added by the directory)"}}},
	{"a stale event out of scope does not add to E",
		tweak(snapshot(testPlan(membership.ModeTest, 1), stored(u1, alice, "inactive", 5, false)), func(s *membership.UserSnapshot) { s.Scope = acmeOnly }),
		change(incoming(u1, eve, "active", 3)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=1", user: "<unchanged>"}},
	{"a stale event of a user already in E does not count again",
		snapshot(testPlan(membership.ModeTest, 3), stored(u1, alice, "inactive", 5, true)),
		change(incoming(u1, alice, "active", 3)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=3", user: "<unchanged>"}},
	{"a tombstone blocks a late created",
		snapshot(testMode, tombstone(u1, alice, 5, true)), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=0", user: "<unchanged>"}},
	{"a late created behind a tombstone still proves the user was added",
		snapshot(testMode, tombstone(u1, alice, 5, false)), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeStale, reason: "older than the stored version", plan: "test added=1",
			user: "{directory_user_1 alice@acme.test state=active deleted=true inA=false added=true v=event_005}"}},
	{"a deleted event arriving first leaves a tombstone",
		snapshot(testMode, nil), change(deletedUser(u1, alice, 5)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user: "{directory_user_1 alice@acme.test state=active deleted=true inA=false added=false v=event_005}"}},
	{"Reevaluate bypasses the version check",
		snapshot(testMode, stored(u1, alice, "active", 5, false)), reevaluate(*stored(u1, alice, "active", 5, false)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=1",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_005}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 new"},
			audit:   []string{"granted alice@acme.test (active in the directory)"}}},
	{"Reevaluate after a scoping group is named takes the seat of a user outside it",
		tweak(snapshot(testMode, stored(u1, alice, "active", 5, true), dirSeat(alice, p1, u1)), func(s *membership.UserSnapshot) {
			s.Scope = membership.Scope{ScopingGroups: []string{"Clockwise Users"}, UserGroups: []string{"Everyone"}}
		}),
		reevaluate(*stored(u1, alice, "active", 5, true)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=false added=true v=event_005}",
			changes: []string{"alice@acme.test -> free/directory_user_1"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (not in a scoping group)"}}},

	// leaving A
	{"a deleted user loses the directory seat",
		snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), change(deletedUser(u1, alice, 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 alice@acme.test state=active deleted=true inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> free/directory_user_1"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (deleted in the directory)"}}},
	{"an inactive user loses the directory seat",
		snapshot(dirMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), change(incoming(u1, alice, "inactive", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "directory added=5 downgraded",
			user:    "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> free/directory_user_1"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (state inactive in the directory)"}}},
	{"a user moved out of the allowed domains loses the seat",
		tweak(snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), func(s *membership.UserSnapshot) { s.Scope = acmeOnly }),
		change(incoming(u1, eve, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, reason: "skipped: domain", plan: "test added=0",
			user:    "{directory_user_1 eve@other.test state=active deleted=false inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> free"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (email changed to eve@other.test in the directory)"}}},
	{"a domain outside the allow-list gets no seat",
		tweak(snapshot(testMode, nil), func(s *membership.UserSnapshot) { s.Scope = acmeOnly }), change(incoming(u1, eve, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, reason: "skipped: domain", plan: "test added=0",
			user: "{directory_user_1 eve@other.test state=active deleted=false inA=false added=false v=event_001}"}},
	{"a user outside the scoping groups gets no seat",
		tweak(snapshot(testMode, nil), func(s *membership.UserSnapshot) {
			s.Scope = membership.Scope{ScopingGroups: []string{"Clockwise Users"}}
		}),
		change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user: "{directory_user_1 alice@acme.test state=active deleted=false inA=false added=false v=event_001}"}},

	// email changes
	{"an email change moves the seat from the old email to the new",
		snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), change(incoming(u1, bob, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 bob@acme.test state=active deleted=false inA=true added=true v=event_002}",
			changes: []string{"alice@acme.test -> free", "bob@acme.test -> plan_1/directory/directory_user_1 new"},
			audit: []string{"moved_to_free alice@acme.test from plan_1 (email changed to bob@acme.test in the directory)",
				"granted bob@acme.test (active in the directory)"}}},
	{"an email change onto the member of another directory user is a conflict and changes nothing",
		tweak(snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1), dirSeat(bob, p1, u2)), func(s *membership.UserSnapshot) {
			s.Claims = map[string][]membership.Claim{bob: {claim(p1, u2, true)}}
		}),
		change(incoming(u1, bob, "active", 2)),
		applyWant{outcome: membership.OutcomeConflict, reason: "new email bob@acme.test belongs to another directory user", plan: "test added=0", user: "<unchanged>",
			audit: []string{"email_conflict bob@acme.test (new email bob@acme.test belongs to another directory user)"}}},
	{"an email change onto a free member linked to another (inactive) directory user is a conflict",
		tweak(snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1), membership.Member{Email: bob, DirectoryUserID: u2}), func(s *membership.UserSnapshot) {
			s.Claims = map[string][]membership.Claim{bob: {claim(p1, u2, false)}}
		}),
		change(incoming(u1, bob, "active", 2)),
		applyWant{outcome: membership.OutcomeConflict, reason: "new email bob@acme.test belongs to another directory user", plan: "test added=0", user: "<unchanged>",
			audit: []string{"email_conflict bob@acme.test (new email bob@acme.test belongs to another directory user)"}}},
	{"an email change onto an admin's manual member takes it over",
		snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1), manualSeat(bob, p1)),
		change(incoming(u1, bob, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 bob@acme.test state=active deleted=false inA=true added=true v=event_002}",
			changes: []string{"alice@acme.test -> free", "bob@acme.test -> plan_1/directory/directory_user_1 manual=plan_1"},
			audit: []string{"moved_to_free alice@acme.test from plan_1 (email changed to bob@acme.test in the directory)",
				"source_changed bob@acme.test from plan_1 (active in the directory)"}}},
	{"an email change back onto a member linked to the same user is no conflict",
		snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1), membership.Member{Email: bob, DirectoryUserID: u1}),
		change(incoming(u1, bob, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 bob@acme.test state=active deleted=false inA=true added=true v=event_002}",
			changes: []string{"alice@acme.test -> free", "bob@acme.test -> plan_1/directory/directory_user_1"},
			audit: []string{"moved_to_free alice@acme.test from plan_1 (email changed to bob@acme.test in the directory)",
				"granted bob@acme.test (active in the directory)"}}},
	{"a deleted event carrying another user's email leaves that user's seat alone",
		tweak(snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1), dirSeat(bob, p1, u2)), func(s *membership.UserSnapshot) {
			s.Claims = map[string][]membership.Claim{bob: {claim(p1, u2, true)}}
		}),
		change(deletedUser(u1, bob, 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 bob@acme.test state=active deleted=true inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> free"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (email changed to bob@acme.test in the directory)"}}},

	// manual seats (SPEC §3)
	{"a manual holder who joins A becomes directory-sourced and remembers the manual seat",
		snapshot(testMode, nil, manualSeat(alice, p1)), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=1",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 manual=plan_1"},
			audit:   []string{"source_changed alice@acme.test from plan_1 (active in the directory)"}}},
	{"a manual holder listed inactive in test mode keeps the manual seat",
		snapshot(testMode, nil, manualSeat(alice, p1)), change(incoming(u1, alice, "inactive", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=false v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/manual/directory_user_1 manual=plan_1"}}},
	{"a manual holder who joined and left A in directory mode loses the seat",
		snapshot(dirMode, stored(u1, alice, "active", 1, true), holderInA(alice, p1, u1)), change(incoming(u1, alice, "inactive", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "directory added=5 downgraded",
			user:    "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> free/directory_user_1 manual=plan_1"},
			audit:   []string{"moved_to_free alice@acme.test from plan_1 (state inactive in the directory)"}}},

	// frozen plans
	{"frozen plan: a new user in A gets no seat but joins E",
		snapshot(frozenPlan(testMode), nil), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, reason: "directory inactive: seats frozen", plan: "test added=1",
			user: "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}"}},
	{"frozen plan: an inactive user keeps the seat",
		snapshot(frozenPlan(testMode), stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), change(incoming(u1, alice, "inactive", 2)),
		applyWant{outcome: membership.OutcomeApplied, reason: "directory inactive: seats frozen", plan: "test added=0",
			user: "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_002}"}},
	{"frozen plan: an email change is stored but moves no seat",
		snapshot(frozenPlan(testMode), stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), change(incoming(u1, bob, "active", 2)),
		applyWant{outcome: membership.OutcomeApplied, reason: "directory inactive: seats frozen", plan: "test added=0",
			user: "{directory_user_1 bob@acme.test state=active deleted=false inA=true added=true v=event_002}"}},
	{"frozen plan: the (L+1)-th user does not cut over",
		snapshot(frozenPlan(testPlan(membership.ModeTest, 3)), nil), change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, reason: "directory inactive: seats frozen", plan: "test added=4",
			user: "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}"}},

	// one paid seat per organization
	{"a manual seat on another plan moves to the plan whose directory assigns the person",
		tweak(snapshot(testMode, nil, manualSeat(alice, p2)), func(s *membership.UserSnapshot) {
			s.Plans = map[string]membership.PlanView{p2: {ID: p2, Mode: membership.ModeManual}}
		}),
		change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=1",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1 manual=plan_2"},
			audit: []string{"moved alice@acme.test from plan_2 (active in the directory)",
				"moved alice@acme.test from plan_2 (moved to plan plan_1: active in the directory)"}}},
	{"a directory seat on a higher plan id moves to the lowest claiming plan",
		tweak(snapshot(testMode, nil, dirSeat(alice, p2, u2)), func(s *membership.UserSnapshot) {
			s.Plans = map[string]membership.PlanView{p2: {ID: p2, Mode: membership.ModeTest}}
			s.Claims = map[string][]membership.Claim{alice: {claim(p2, u2, true)}}
		}),
		change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=1",
			user:    "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}",
			changes: []string{"alice@acme.test -> plan_1/directory/directory_user_1"},
			audit: []string{"moved alice@acme.test from plan_2 (active in the directory)",
				"moved alice@acme.test from plan_2 (moved to plan plan_1: active in the directory)"}}},
	{"a directory seat on a lower plan id stays there",
		tweak(snapshot(testMode, nil, dirSeat(alice, p0, "u0")), func(s *membership.UserSnapshot) {
			s.Plans = map[string]membership.PlanView{p0: {ID: p0, Mode: membership.ModeTest}}
			s.Claims = map[string][]membership.Claim{alice: {claim(p0, "u0", true)}}
		}),
		change(incoming(u1, alice, "active", 1)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=1",
			user: "{directory_user_1 alice@acme.test state=active deleted=false inA=true added=true v=event_001}"}},
	{"leaving A here while another plan's directory assigns the person moves the seat there",
		tweak(snapshot(testMode, stored(u1, alice, "active", 1, true), dirSeat(alice, p1, u1)), func(s *membership.UserSnapshot) {
			s.Plans = map[string]membership.PlanView{p2: {ID: p2, Mode: membership.ModeTest}}
			s.Claims = map[string][]membership.Claim{alice: {claim(p2, u2, true)}}
		}),
		change(incoming(u1, alice, "inactive", 2)),
		applyWant{outcome: membership.OutcomeApplied, plan: "test added=0",
			user:    "{directory_user_1 alice@acme.test state=inactive deleted=false inA=false added=true v=event_002}",
			changes: []string{"alice@acme.test -> plan_2/directory/directory_user_2"},
			audit:   []string{"moved alice@acme.test from plan_1 (state inactive in the directory)"}}},
}

func TestApplyUser(t *testing.T) {
	t.Parallel()
	for _, tt := range applyUserTests {
		r := membership.ApplyUser(tt.snap, tt.ch)
		got := applyWant{outcome: r.Outcome, reason: r.Reason, user: userString(r.User), plan: planState(r.Plan),
			cutover: r.Cutover, changes: changeStrings(r.Changes), audit: auditStrings(r.Audit)}
		w := tt.want
		if w.changes == nil {
			w.changes = []string{}
		}
		if w.audit == nil {
			w.audit = []string{}
		}
		if got.outcome != w.outcome || got.reason != w.reason || got.user != w.user || got.plan != w.plan || got.cutover != w.cutover ||
			!slices.Equal(got.changes, w.changes) || !slices.Equal(got.audit, w.audit) {
			t.Errorf("%s:\n\tApplyUser(plan %s, stored %s, members %v, change %s reevaluate=%v)\n\tgot  %s\n\twant %s",
				tt.name, planState(tt.snap.Plan), storedString(tt.snap.Stored), tt.snap.Members, userString(&tt.ch.User), tt.ch.Reevaluate,
				wantString(got), wantString(w))
		}
		checkResult(t, tt.name, tt.snap, tt.ch, r)
	}
}

func wantString(w applyWant) string {
	return "outcome=" + string(w.outcome) + " reason=" + w.reason + " cutover=" + map[bool]string{true: "yes", false: "no"}[w.cutover] +
		"\n\t\tplan " + w.plan + "\n\t\tuser " + w.user + "\n\t\tchanges:" + lines(w.changes) + "\n\t\taudit:" + lines(w.audit)
}

// checkResult holds for every user change: the audit trail names the event,
// the actor and a reason for each seat change, and a change starts from the
// stored member.
func checkResult(t *testing.T, name string, s membership.UserSnapshot, ch membership.UserChange, r membership.UserResult) {
	t.Helper()
	seatChanges := 0
	for _, c := range r.Changes {
		before, exists := s.Members[c.After.Email]
		if !exists {
			before = membership.Member{Email: c.After.Email, Name: c.After.Name}
		}
		if c.New == exists || c.Before.Email != before.Email || c.Before.PlanID != before.PlanID || c.Before.Source != before.Source {
			t.Errorf("%s: change %s starts from %+v (new=%v), want the stored member %+v (exists=%v)", name, changeString(c), c.Before, c.New, before, exists)
		}
		if c.After.ManualPlanID != c.Before.ManualPlanID {
			t.Errorf("%s: change %s rewrote the remembered manual plan %q", name, changeString(c), c.Before.ManualPlanID)
		}
		if membership.SeatAction(c.Before, memberSeat(c.After)) != "" {
			seatChanges++
		}
	}
	audited := 0
	for _, a := range r.Audit {
		if a.Action == membership.ActionMoved && a.PlanID == a.FromPlanID && a.PlanID != s.Plan.ID {
			continue // the copy for the plan the seat left
		}
		if a.PlanID != s.Plan.ID || !a.At.Equal(s.Now) || a.Actor != ch.Actor || a.EventID != ch.EventID || a.Reason == "" {
			t.Errorf("%s: audit entry %+v: want plan %s, at %v, actor %s, event %s and a reason", name, a, s.Plan.ID, s.Now, ch.Actor, ch.EventID)
		}
		if a.MemberEmail != "" && a.Action != membership.ActionConflict {
			audited++
		}
	}
	if audited != seatChanges {
		t.Errorf("%s: %d seat changes but %d member audit entries:%s%s", name, seatChanges, audited, lines(changeStrings(r.Changes)), lines(auditStrings(r.Audit)))
	}
	if !r.Cutover && (r.Plan.Mode != s.Plan.Mode || !sameTime(r.Plan.CutoverAt, s.Plan.CutoverAt) || !sameTime(r.Plan.DowngradedAt, s.Plan.DowngradedAt)) {
		t.Errorf("%s: plan changed without a cutover: %s -> %s", name, planState(s.Plan), planState(r.Plan))
	}
	if d := r.Plan.Added - s.Plan.Added; d != 0 && d != 1 {
		t.Errorf("%s: |E| went from %d to %d: one change adds at most its own user", name, s.Plan.Added, r.Plan.Added)
	}
}

func storedString(u *membership.DirectoryUser) string {
	if u == nil {
		return "<none>"
	}
	return userString(u)
}

// The member's name follows the directory user's when the seat changes.
func TestApplyUserNames(t *testing.T) {
	t.Parallel()
	u := incoming(u1, alice, "active", 1)
	u.FirstName, u.LastName = "Alice", "Liddell"
	r := membership.ApplyUser(snapshot(testMode, nil), change(u))
	if len(r.Changes) != 1 || r.Changes[0].After.Name != "Alice Liddell" || r.Changes[0].Before.Name != "Alice Liddell" {
		t.Fatalf("new member: changes %+v, want one change named %q", r.Changes, "Alice Liddell")
	}

	held := manualSeat(alice, p1)
	held.Name = "A. Liddell (admin typed)"
	r = membership.ApplyUser(snapshot(testMode, nil, held), change(u))
	if len(r.Changes) != 1 || r.Changes[0].After.Name != "Alice Liddell" {
		t.Errorf("manual holder joining A: changes %+v, want the directory's name %q", r.Changes, "Alice Liddell")
	}

	u.FirstName, u.LastName = "", ""
	r = membership.ApplyUser(snapshot(testMode, nil, held), change(u))
	if len(r.Changes) != 1 || r.Changes[0].After.Name != held.Name {
		t.Errorf("directory user without a name: changes %+v, want the stored name %q kept", r.Changes, held.Name)
	}
}

// ApplyUser must not write to the snapshot it is given: the applier reuses
// rows it loaded, and the model test folds snapshots of its own maps.
func TestApplyUserLeavesSnapshotAlone(t *testing.T) {
	t.Parallel()
	for _, tt := range applyUserTests {
		s := tt.snap
		members := maps.Clone(s.Members)
		claims := map[string][]membership.Claim{}
		for k, v := range s.Claims {
			claims[k] = slices.Clone(v)
		}
		var st membership.DirectoryUser
		if s.Stored != nil {
			st = *s.Stored
		}
		plan := s.Plan
		membership.ApplyUser(s, tt.ch)
		if !maps.Equal(s.Members, members) || !maps.EqualFunc(s.Claims, claims, slices.Equal) ||
			(s.Stored != nil && *s.Stored != st) || s.Plan.Added != plan.Added || s.Plan.Mode != plan.Mode {
			t.Errorf("%s: ApplyUser modified its snapshot", tt.name)
		}
	}
}
