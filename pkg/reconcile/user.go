package reconcile

import (
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
)

// directoryUser converts a listed user into what the rules read, the way the
// applier reads the same object from an event: a normalized email (an
// unusable one counts as none), names without control characters, and the
// user's updated_at as its version. An unreadable updated_at gives the zero
// version, which every event outranks.
func directoryUser(u workosapi.User, dirID, orgID string) membership.DirectoryUser {
	email := membership.NormalizeEmail(u.Email)
	if email != "" && !membership.ValidEmail(email) {
		email = ""
	}
	if u.OrganizationID != "" {
		orgID = u.OrganizationID // a contradicting one is refused by the tenant check (SPEC §4.2)
	}
	return membership.DirectoryUser{ID: u.ID, DirectoryID: dirID, OrganizationID: orgID, Email: email,
		FirstName: membership.CleanName(u.FirstName), LastName: membership.CleanName(u.LastName), State: u.State,
		Version: membership.Version{UpdatedAt: parseTime(u.UpdatedAt)}}
}

func parseTime(s string) time.Time {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}
