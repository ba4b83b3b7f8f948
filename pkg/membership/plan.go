package membership

import "time"

// Mode is a plan's relation to its directory (SPEC §3).
type Mode string

// Plan modes.
const (
	ModeManual    Mode = "manual"    // no active directory: admins manage seats
	ModeTest      Mode = "test"      // |E| ≤ L: directory grants, never revokes manual seats
	ModeDirectory Mode = "directory" // |E| > L: paid seats are exactly A
)

// DirectoryState is the lifecycle state of a linked directory.
type DirectoryState string

// Directory states.
const (
	DirectoryActive   DirectoryState = "active"
	DirectoryInactive DirectoryState = "inactive"
	DirectoryDeleted  DirectoryState = "deleted"
)

// Plan is what the seat rules need to know about a plan.
type Plan struct {
	ID             string
	OrganizationID string
	Mode           Mode
	Limit          int           // L: the test-mode limit
	Added          int           // |E| over the plan's live directories
	Grace          time.Duration // cutover grace (0 = downgrade immediately)
	CutoverAt      *time.Time
	DowngradeDueAt *time.Time // set while the cutover downgrade waits
	DowngradedAt   *time.Time
	Frozen         bool // its directory is inactive: seats stay as they are
}

// View returns the part of p that SeatFor reads.
func (p Plan) View() PlanView {
	return PlanView{ID: p.ID, Mode: p.Mode, DowngradeDone: p.DowngradedAt != nil, Frozen: p.Frozen}
}

// PlanView is the state of a plan as seen by SeatFor.
type PlanView struct {
	ID            string
	Mode          Mode
	DowngradeDone bool
	Frozen        bool
}

// ManualChangesAllowed reports whether admins may add or remove seats (SPEC §3:
// from the moment a directory is active the IdP owns the seat list).
func (p Plan) ManualChangesAllowed() bool { return p.Mode == ModeManual }

// CheckCutover returns p after |E| became added: the first time |E| exceeds L in
// test mode the plan cuts over to directory mode and the downgrade of everyone
// else is scheduled after the grace period. Nothing undoes a cutover while the
// directory lives, so the check only ever moves forward.
func CheckCutover(p Plan, added int, now time.Time) (Plan, bool) {
	p.Added = added
	if p.Mode != ModeTest || added <= p.Limit || p.Frozen {
		return p, false
	}
	p.Mode = ModeDirectory
	at := now
	due := now.Add(p.Grace)
	p.CutoverAt, p.DowngradeDueAt = &at, &due
	if p.Grace <= 0 {
		p.DowngradeDueAt, p.DowngradedAt = nil, &at
	}
	return p, true
}
