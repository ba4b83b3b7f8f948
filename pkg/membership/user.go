package membership

import (
	"slices"
	"time"
)

// DirectoryUser is the last known state of a WorkOS directory user.
type DirectoryUser struct {
	ID             string
	DirectoryID    string
	OrganizationID string // the WorkOS organization id the data named
	Email          string
	FirstName      string
	LastName       string
	State          string // active, inactive, suspended
	Deleted        bool   // tombstone: a late created/updated cannot resurrect it
	InA            bool   // in the plan's set A
	Added          bool   // in E: was in A at some point since the directory was linked
	Version        Version
}

// Name is the display name of u.
func (u DirectoryUser) Name() string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// Scope is what decides membership of A beyond the user's own state.
type Scope struct {
	AllowedDomains []string // empty = any domain
	ScopingGroups  []string // group ids or names; empty = every user counts
	UserGroups     []string // ids and names of the groups the user is in
}

// InA reports whether u belongs to A (SPEC §3) and, if not, why.
func InA(u DirectoryUser, s Scope) (bool, string) {
	switch {
	case u.Deleted:
		return false, "deleted in the directory"
	case u.State != "active":
		return false, "state " + u.State + " in the directory"
	case u.Email == "":
		return false, "no email in the directory"
	case len(s.AllowedDomains) > 0 && !slices.Contains(s.AllowedDomains, EmailDomain(u.Email)):
		return false, reasonDomain
	case len(s.ScopingGroups) > 0 && !slices.ContainsFunc(s.UserGroups, func(g string) bool { return slices.Contains(s.ScopingGroups, g) }):
		return false, "not in a scoping group"
	}
	return true, ""
}

const reasonDomain = "email domain not allowed"

// UserChange is one received user fact: an event's data, or a reconciliation snapshot.
type UserChange struct {
	User    DirectoryUser // Version set; Deleted for dsync.user.deleted
	EventID string
	Actor   string
	// Reevaluate re-decides the stored user after its scope changed (group
	// membership, allowed domains, reactivation): no ordering check.
	Reevaluate bool
}

// UserSnapshot is everything ApplyUser reads: the rows one user change touches.
type UserSnapshot struct {
	Now     time.Time
	Plan    Plan
	Scope   Scope
	Stored  *DirectoryUser      // nil when the user is new
	Members map[string]Member   // by email: existing members for the old and new email
	Claims  map[string][]Claim  // by email: other directory users carrying it
	Plans   map[string]PlanView // the organization's other plans
}

// MemberChange moves one member to a new seat.
type MemberChange struct {
	Before Member
	After  Member
	New    bool // no member row existed
}

// UserResult is what a user change does.
type UserResult struct {
	Outcome Outcome
	Reason  string
	User    *DirectoryUser // the user row to store; nil = unchanged
	Plan    Plan
	Cutover bool // the plan cut over with this change
	Changes []MemberChange
	Audit   []AuditEntry
}

// ApplyUser applies one user change to the snapshot: the ordering check of
// SPEC §4.3, the set E and the cutover of §3, and the seats of the members whose
// email the user has or had. Work is proportional to the change.
func ApplyUser(s UserSnapshot, ch UserChange) UserResult {
	r := UserResult{Outcome: OutcomeApplied, Plan: s.Plan}
	u := ch.User
	u.InA, _ = InA(u, s.Scope)
	stale := s.Stored != nil && !ch.Reevaluate && u.Version.Compare(s.Stored.Version) <= 0
	if stale {
		// A stale event still proves the user was added (E is a union over
		// everything received), so it may trigger the cutover.
		r.Outcome, r.Reason = OutcomeStale, "older than the stored version"
		if !u.InA || s.Stored.Added {
			return r
		}
		stored := *s.Stored
		stored.Added = true
		r.User = &stored
		r.addToE(s, ch)
		return r
	}
	if s.Stored != nil && s.Stored.Email != "" && u.Email != "" && u.Email != s.Stored.Email && !u.Deleted && len(s.Claims[u.Email]) > 0 {
		// Another live directory user carries the new email: moving the seat
		// would take it from that person. Report it and change nothing but E,
		// which still learns that this user was added.
		r.Outcome, r.Reason = OutcomeConflict, "new email "+u.Email+" belongs to another directory user"
		r.Audit = append(r.Audit, AuditEntry{PlanID: s.Plan.ID, At: s.Now, Actor: ch.Actor, Action: ActionConflict,
			MemberEmail: u.Email, EventID: ch.EventID, Reason: r.Reason})
		if u.InA && !s.Stored.Added {
			stored := *s.Stored
			stored.Added = true
			r.User = &stored
			r.addToE(s, ch)
		}
		return r
	}
	u.Added = u.InA || (s.Stored != nil && s.Stored.Added)
	r.User = &u
	if u.InA && (s.Stored == nil || !s.Stored.Added) {
		r.addToE(s, ch)
	}
	if r.Plan.Frozen {
		r.Reason = "directory inactive: seats frozen"
		return r
	}
	_, why := InA(u, s.Scope)
	if why == reasonDomain {
		r.Reason = "skipped: domain" // recorded, but no seat (SPEC §4.2)
	}
	emails := []string{}
	if s.Stored != nil && s.Stored.Email != "" && s.Stored.Email != u.Email {
		emails = append(emails, s.Stored.Email)
	}
	if u.Email != "" {
		emails = append(emails, u.Email)
	}
	plans := s.planViews(r.Plan)
	for _, e := range emails {
		claims := slices.Clone(s.Claims[e])
		if e == u.Email {
			claims = append(claims, Claim{PlanID: s.Plan.ID, DirectoryUserID: u.ID, InA: u.InA})
		}
		m, exists := s.Members[e]
		if !exists {
			m = Member{Email: e, Name: u.Name()}
		}
		seat := SeatFor(m, claims, plans)
		if !seat.Differs(m) || (!exists && seat.PlanID == "") {
			continue
		}
		after := m
		after.PlanID, after.Source, after.DirectoryUserID = seat.PlanID, seat.Source, seat.DirectoryUserID
		if e == u.Email && u.Name() != "" {
			after.Name = u.Name()
		}
		r.Changes = append(r.Changes, MemberChange{Before: m, After: after, New: !exists})
		if a := SeatAction(m, seat); a != "" {
			reason := "active in the directory"
			switch {
			case seat.PlanID == s.Plan.ID && seat.Source == SourceManual:
				reason = leaveReason(e, u, why) + "; keeps the seat an admin gave"
			case seat.PlanID == "" || seat.PlanID != s.Plan.ID && m.PlanID == s.Plan.ID:
				reason = leaveReason(e, u, why)
			}
			r.Audit = append(r.Audit, AuditEntry{PlanID: s.Plan.ID, At: s.Now, Actor: ch.Actor, Action: a,
				MemberEmail: e, FromPlanID: m.PlanID, EventID: ch.EventID, Reason: reason})
			if a == ActionMoved && m.PlanID != s.Plan.ID {
				// The plan the seat left records it too, so its admins see why.
				r.Audit = append(r.Audit, AuditEntry{PlanID: m.PlanID, At: s.Now, Actor: ch.Actor, Action: a,
					MemberEmail: e, FromPlanID: m.PlanID, EventID: ch.EventID, Reason: "moved to plan " + seat.PlanID + ": " + reason})
			}
		}
	}
	return r
}

func leaveReason(email string, u DirectoryUser, why string) string {
	if email != u.Email {
		return "email changed to " + u.Email + " in the directory"
	}
	return why
}

// addToE counts the user into E and checks the cutover.
func (r *UserResult) addToE(s UserSnapshot, ch UserChange) {
	p, cut := CheckCutover(r.Plan, r.Plan.Added+1, s.Now)
	r.Plan = p
	if !cut {
		return
	}
	r.Cutover = true
	reason := "more than the test-mode limit of users added by the directory"
	r.Audit = append(r.Audit, AuditEntry{PlanID: s.Plan.ID, At: s.Now, Actor: ch.Actor, Action: ActionCutover,
		EventID: ch.EventID, Reason: reason})
}

func (s UserSnapshot) planViews(p Plan) map[string]PlanView {
	views := make(map[string]PlanView, len(s.Plans)+1)
	for id, v := range s.Plans {
		views[id] = v
	}
	views[p.ID] = p.View()
	return views
}
