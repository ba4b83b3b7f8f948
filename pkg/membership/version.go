package membership

import "time"

// Version orders the changes of one directory user (SPEC §4.3): the user data's
// updated_at, then the event's created_at, then the event id, which only breaks
// exact ties deterministically (WorkOS does not promise time-ordered ids).
type Version struct {
	UpdatedAt time.Time
	CreatedAt time.Time
	EventID   string
}

// Compare returns -1, 0 or +1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int {
	if c := v.UpdatedAt.Compare(o.UpdatedAt); c != 0 {
		return c
	}
	if c := v.CreatedAt.Compare(o.CreatedAt); c != 0 {
		return c
	}
	switch {
	case v.EventID < o.EventID:
		return -1
	case v.EventID > o.EventID:
		return 1
	}
	return 0
}

// IsZero reports whether v is the version of nothing applied yet.
func (v Version) IsZero() bool {
	return v.UpdatedAt.IsZero() && v.CreatedAt.IsZero() && v.EventID == ""
}
