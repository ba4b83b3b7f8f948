package membership

import "time"

// Outcome is the processing state of an inbox event.
type Outcome string

// Inbox outcomes. Pending events wait for an applier; the others are final
// until an operator retries the event.
const (
	OutcomePending   Outcome = "pending"
	OutcomeApplied   Outcome = "applied"
	OutcomeIgnored   Outcome = "ignored"   // a type seatsync does not act on
	OutcomeStale     Outcome = "stale"     // older than what is stored (SPEC §4.3)
	OutcomeRejected  Outcome = "rejected"  // contradicts a tenant link (SPEC §4.2)
	OutcomeUnmatched Outcome = "unmatched" // no plan for its organization after the retry bound
	OutcomeConflict  Outcome = "conflict"  // an email change onto another person's email
	OutcomeFailed    Outcome = "failed"    // errored past the retry bound
)

// Source says which transport delivered an event.
type Source string

// Event transports.
const (
	SourceWebhook   Source = "webhook"
	SourceEventsAPI Source = "events_api"
)

// InboxEvent is one WorkOS event as received: the verbatim envelope plus the
// fields seatsync indexes.
type InboxEvent struct {
	EventID   string
	Type      string
	CreatedAt time.Time
	Payload   []byte
	Source    Source
}

// IsKnownEventType reports whether the applier acts on events of type t; others
// are stored as OutcomeIgnored and never retried.
func IsKnownEventType(t string) bool {
	switch t {
	case "dsync.activated", "dsync.deactivated", "dsync.deleted",
		"dsync.user.created", "dsync.user.updated", "dsync.user.deleted",
		"dsync.group.created", "dsync.group.updated", "dsync.group.deleted",
		"dsync.group.user_added", "dsync.group.user_removed":
		return true
	}
	return false
}
