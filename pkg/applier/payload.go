package applier

import (
	"fmt"
	"time"

	json "github.com/goccy/go-json"
	"github.com/seatsync/seatsync/pkg/membership"
)

// envelope is the part of a stored event the handlers read.
type envelope struct {
	ID        string          `json:"id"`
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	CreatedAt string          `json:"created_at"`
}

// userData is a WorkOS directory user object (reference §5.3). Only the fields
// the seat rules need are decoded; unknown fields are ignored.
type userData struct {
	ID             string  `json:"id"`
	DirectoryID    string  `json:"directory_id"`
	OrganizationID string  `json:"organization_id"`
	Email          *string `json:"email"`
	FirstName      *string `json:"first_name"`
	LastName       *string `json:"last_name"`
	State          string  `json:"state"`
	UpdatedAt      string  `json:"updated_at"`
	CreatedAt      string  `json:"created_at"`
}

// directoryData is the data of dsync.activated, dsync.deactivated and dsync.deleted.
type directoryData struct {
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Type           string `json:"type"`
	Name           string `json:"name"`
	State          string `json:"state"`
	UpdatedAt      string `json:"updated_at"`
	Domains        []struct {
		Domain string `json:"domain"`
	} `json:"domains"`
}

// groupData is a WorkOS directory group object (reference §5.5).
type groupData struct {
	ID             string `json:"id"`
	DirectoryID    string `json:"directory_id"`
	OrganizationID string `json:"organization_id"`
	Name           string `json:"name"`
	UpdatedAt      string `json:"updated_at"`
}

// membershipData is the data of dsync.group.user_added and user_removed.
type membershipData struct {
	DirectoryID string    `json:"directory_id"`
	User        userData  `json:"user"`
	Group       groupData `json:"group"`
}

func decode(raw []byte, v any, what string) error {
	if err := json.Unmarshal(raw, v); err != nil {
		return membership.Errorf(membership.Invalid, "invalid_payload", "decode %s: %v", what, err)
	}
	return nil
}

// parseTime reads WorkOS timestamps leniently: RFC 3339, or the space-separated
// form without zone that some samples show (reference §4.3), as UTC.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unparsable time %q", s)
}

// user converts the payload into the rules' DirectoryUser, with its version.
func (d userData) user(ev envelope, deleted bool) (membership.DirectoryUser, error) {
	if d.ID == "" || d.DirectoryID == "" {
		return membership.DirectoryUser{}, membership.Errorf(membership.Invalid, "invalid_payload", "directory user without id or directory_id")
	}
	updated, err := parseTime(d.UpdatedAt)
	if err != nil {
		return membership.DirectoryUser{}, membership.Errorf(membership.Invalid, "invalid_payload", "updated_at: %v", err)
	}
	created, err := parseTime(ev.CreatedAt)
	if err != nil {
		return membership.DirectoryUser{}, membership.Errorf(membership.Invalid, "invalid_payload", "created_at: %v", err)
	}
	u := membership.DirectoryUser{
		ID: d.ID, DirectoryID: d.DirectoryID, OrganizationID: d.OrganizationID,
		Email: membership.NormalizeEmail(deref(d.Email)), FirstName: membership.CleanName(deref(d.FirstName)), LastName: membership.CleanName(deref(d.LastName)),
		State: d.State, Deleted: deleted,
		Version: membership.Version{UpdatedAt: updated, CreatedAt: created, EventID: ev.ID},
	}
	if u.Email != "" && !membership.ValidEmail(u.Email) {
		u.Email = "" // an unusable address is treated like none: no seat
	}
	return u, nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}
