package membership_test

import (
	"fmt"
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// Shared fixtures of the rule tables. Emails are normalized, as the applier
// hands them to the rules.
const (
	p0 = "plan_0" // sorts before p1: wins a two-plan claim
	p1 = "plan_1" // the plan under test
	p2 = "plan_2"

	u1 = "directory_user_1"
	u2 = "directory_user_2"

	alice = "alice@acme.test"
	bob   = "bob@acme.test"
	eve   = "eve@other.test"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// ver is the version of a user's n-th change: updated_at and created_at n
// minutes after t0.
func ver(n int) membership.Version {
	at := t0.Add(time.Duration(n) * time.Minute)
	return membership.Version{UpdatedAt: at, CreatedAt: at, EventID: fmt.Sprintf("event_%03d", n)}
}

// dirUser is a directory user at its n-th change, with InA and Added as stored
// rows have them for an active user in scope.
func dirUser(id, email, state string, n int) membership.DirectoryUser {
	u := membership.DirectoryUser{ID: id, DirectoryID: "directory_1", OrganizationID: "org_1", Email: email,
		FirstName: "F" + id[len(id)-1:], LastName: "L", State: state, Version: ver(n)}
	u.InA = state == "active" && email != ""
	u.Added = u.InA
	return u
}

// testPlan is p1 in mode with limit L = 3 and added users, grace 0.
func testPlan(mode membership.Mode, added int) membership.Plan {
	p := membership.Plan{ID: p1, OrganizationID: "org_1", Mode: mode, Limit: 3, Added: added}
	if mode == membership.ModeDirectory {
		at := t0.Add(-time.Hour)
		p.CutoverAt, p.DowngradedAt = &at, &at
	}
	return p
}

// manualSeat is a member an admin gave a seat on plan before the directory.
func manualSeat(email, plan string) membership.Member {
	return membership.Member{Email: email, PlanID: plan, Source: membership.SourceManual, ManualPlanID: plan}
}

// dirSeat is a member holding a directory seat on plan through user id.
func dirSeat(email, plan, id string) membership.Member {
	return membership.Member{Email: email, PlanID: plan, Source: membership.SourceDirectory, DirectoryUserID: id}
}

// seatString renders a seat as "plan/source/directory_user", "free" for none.
func seatString(s membership.Seat) string {
	if s.PlanID == "" && s.Source == "" && s.DirectoryUserID == "" {
		return "free"
	}
	if s.PlanID == "" && s.Source == "" {
		return "free/" + s.DirectoryUserID
	}
	return s.PlanID + "/" + string(s.Source) + "/" + s.DirectoryUserID
}

func memberSeat(m membership.Member) membership.Seat {
	return membership.Seat{PlanID: m.PlanID, Source: m.Source, DirectoryUserID: m.DirectoryUserID}
}

// changeString renders a member change: "email -> seat [manual=plan] [new]".
func changeString(c membership.MemberChange) string {
	s := c.After.Email + " -> " + seatString(memberSeat(c.After))
	if c.After.ManualPlanID != "" {
		s += " manual=" + c.After.ManualPlanID
	}
	if c.New {
		s += " new"
	}
	return s
}

// auditString renders an audit entry: "action email (reason)".
func auditString(a membership.AuditEntry) string {
	s := a.Action
	if a.MemberEmail != "" {
		s += " " + a.MemberEmail
	}
	if a.FromPlanID != "" {
		s += " from " + a.FromPlanID
	}
	return s + " (" + a.Reason + ")"
}

func changeStrings(cs []membership.MemberChange) []string {
	out := []string{}
	for _, c := range cs {
		out = append(out, changeString(c))
	}
	return out
}

func auditStrings(as []membership.AuditEntry) []string {
	out := []string{}
	for _, a := range as {
		out = append(out, auditString(a))
	}
	return out
}

func userString(u *membership.DirectoryUser) string {
	if u == nil {
		return "<unchanged>"
	}
	return fmt.Sprintf("{%s %s state=%s deleted=%v inA=%v added=%v v=%s}", u.ID, u.Email, u.State, u.Deleted, u.InA, u.Added, u.Version.EventID)
}

func lines(ss []string) string {
	if len(ss) == 0 {
		return "\n\t\t(none)"
	}
	return "\n\t\t" + strings.Join(ss, "\n\t\t")
}

func itoa(n int) string { return fmt.Sprint(n) }
