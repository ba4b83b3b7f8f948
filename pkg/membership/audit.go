package membership

import "time"

// Audit actions (SPEC §1): what happened to a seat or a plan.
const (
	ActionGranted             = "granted"
	ActionMovedToFree         = "moved_to_free"
	ActionMoved               = "moved"
	ActionSourceChanged       = "source_changed"
	ActionManualAdded         = "manual_seat_added"
	ActionManualRemoved       = "manual_seat_removed"
	ActionCutover             = "cutover"
	ActionDowngrade           = "downgrade"
	ActionDirectoryLinked     = "directory_linked"
	ActionDirectoryFrozen     = "directory_deactivated"
	ActionDirectoryReactivate = "directory_reactivated"
	ActionDirectoryRemoved    = "directory_removed"
	ActionConflict            = "email_conflict"
)

// AuditEntry records one seat or mode change: when, who, what, whom, which event, why.
type AuditEntry struct {
	PlanID      string
	At          time.Time
	Actor       string // "directory:<id>", "admin:<email>", "service" or "system"
	Action      string
	MemberEmail string
	FromPlanID  string
	EventID     string
	Reason      string
}
