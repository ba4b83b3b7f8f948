package server

import (
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// The admin page's audit timeline: each entry as a sentence a customer admin
// can read ("bob@acme.test moved to free — not assigned in Okta after
// cutover"), with who did it and the event that caused it.

// directoryTypeNames names WorkOS directory types (reference §9: the list is
// open-ended, so unknown types fall back to directoryName's rule).
var directoryTypeNames = map[string]string{
	"azure scim v2.0":        "Microsoft Entra ID",
	"bamboohr":               "BambooHR",
	"breathe hr":             "Breathe HR",
	"cezanne hr":             "Cezanne HR",
	"cyberark scim v2.0":     "CyberArk",
	"fourth hr":              "Fourth HR",
	"gsuite directory":       "Google Workspace",
	"gusto":                  "Gusto",
	"hibob":                  "HiBob",
	"jump cloud scim v2.0":   "JumpCloud",
	"okta scim v2.0":         "Okta",
	"onelogin scim v2.0":     "OneLogin",
	"people hr":              "PeopleHR",
	"personio":               "Personio",
	"pingfederate scim v2.0": "PingFederate",
	"rippling scim v2.0":     "Rippling",
	"rippling":               "Rippling",
	"sailpoint scim v2.0":    "SailPoint",
	"sftp workday":           "Workday",
	"workday":                "Workday",
}

// directoryName names a directory type for people: "Okta" for "okta scim
// v2.0"; "" for generic SCIM, file-based and unknown-empty types, which
// sentences then call "the directory".
func directoryName(typ string) string {
	typ = strings.ToLower(strings.TrimSpace(typ))
	if n, ok := directoryTypeNames[typ]; ok {
		return n
	}
	if typ == "" || typ == "generic scim v2.0" || typ == "s3" || typ == "sftp" {
		return ""
	}
	return strings.TrimSuffix(typ, " scim v2.0")
}

// timelineEntry is one audit entry as the page shows it.
type timelineEntry struct {
	ID       int64
	At       time.Time
	Action   string
	Sentence string
	Actor    string
	EventID  string
}

// timeline turns audit rows into entries. dirNames maps directory ids to
// their names (directoryName); fallback names the plan's current directory,
// for entries made by seatsync itself.
func timeline(planID string, rows []store.AuditRow, dirNames map[string]string, fallback string) []timelineEntry {
	out := make([]timelineEntry, 0, len(rows))
	for _, r := range rows {
		name := fallback
		if id, ok := strings.CutPrefix(r.Actor, "directory:"); ok {
			name = dirNames[id]
		}
		out = append(out, timelineEntry{ID: r.ID, At: r.At, Action: r.Action, Sentence: sentence(planID, r, name),
			Actor: actorText(r.Actor, dirNames), EventID: r.EventID})
	}
	return out
}

// sentence says what an audit entry means; dir names the directory involved
// ("" = unknown).
func sentence(planID string, r store.AuditRow, dir string) string {
	why := r.Reason
	if dir != "" {
		// The rules write reasons about "the directory"; name it.
		why = strings.ReplaceAll(why, "the directory", dir)
	}
	directory := "The directory"
	if dir != "" {
		directory = "The " + dir + " directory"
	}
	who := r.MemberEmail
	var what string
	switch r.Action {
	case membership.ActionGranted:
		what = who + " got a paid seat"
	case membership.ActionMovedToFree:
		what = who + " moved to free"
	case membership.ActionMoved:
		if r.FromPlanID == planID {
			what = who + " moved to another plan"
		} else {
			what = who + " moved here from plan " + r.FromPlanID
		}
	case membership.ActionSourceChanged:
		what = "The source of " + who + "'s seat changed"
	case membership.ActionManualAdded:
		what = who + " was given a paid seat by an admin"
		why = ""
	case membership.ActionManualRemoved:
		what = who + "'s paid seat was removed by an admin"
		why = ""
	case membership.ActionCutover:
		what = "Cutover: the plan is now in directory mode"
	case membership.ActionDowngrade:
		what = "Cutover downgrade"
	case membership.ActionDirectoryLinked:
		what = directory + " was connected"
	case membership.ActionDirectoryFrozen:
		what = directory + " was deactivated"
	case membership.ActionDirectoryReactivate:
		what = directory + " is active again"
	case membership.ActionDirectoryRemoved:
		what = directory + " was deleted"
	case membership.ActionConflict:
		what = "Email conflict for " + who
	default:
		what = strings.ReplaceAll(r.Action, "_", " ")
		if who != "" {
			what += ": " + who
		}
	}
	if why == "" {
		return what
	}
	return what + " — " + why
}

// actorText says who made a change.
func actorText(actor string, dirNames map[string]string) string {
	switch {
	case actor == "system":
		return "seatsync"
	case actor == "service":
		return "the billing system"
	case strings.HasPrefix(actor, "admin:"):
		return strings.TrimPrefix(actor, "admin:")
	case strings.HasPrefix(actor, "directory:"):
		id := strings.TrimPrefix(actor, "directory:")
		if n := dirNames[id]; n != "" {
			return n + " (" + id + ")"
		}
		return "directory " + id
	}
	return actor
}
