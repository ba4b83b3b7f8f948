package membership

import "time"

// Guard bounds how many paid seats one change may revoke: a misconfigured IdP
// assignment must not cost a company its paid seats in one second.
type Guard struct {
	Share     float64       // revoking more than this share of a plan's paid seats …
	Min       int           // … and at least this many is held for an admin
	Window    time.Duration // revocations within this window count as one burst
	Downgrade bool          // the cutover downgrade is guarded too
}

// Holds reports whether revoking n seats of a plan that had paid seats must
// wait for an admin.
func (g Guard) Holds(n, paid int) bool {
	return g.Share > 0 && n >= g.Min && float64(n) > g.Share*float64(paid)
}

// Kinds of held changes.
const (
	HoldBurst            = "deactivation_burst"
	HoldReconcileSweep   = "reconcile_sweep"
	HoldDirectoryDeleted = "directory_deleted"
	HoldDowngrade        = "downgrade"
)

// Audit actions of the guard.
const (
	ActionHeld     = "change_held"
	ActionApproved = "change_approved"
	ActionRejected = "change_rejected"
)

// Revocations splits changes into those that take a paid seat away from plan
// and the rest.
func Revocations(plan string, changes []MemberChange) (revoke, keep []MemberChange) {
	for _, c := range changes {
		if c.Before.PlanID == plan && c.After.PlanID != plan {
			revoke = append(revoke, c)
		} else {
			keep = append(keep, c)
		}
	}
	return revoke, keep
}
