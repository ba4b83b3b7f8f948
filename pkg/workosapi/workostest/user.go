package workostest

import (
	"encoding/json"
	"net/http"
	"slices"
)

// User is a directory user as GET /directory_users returns it (reference §8.3,
// fixtures/workos/directory_users_list.json). It marshals to the full WorkOS
// object; an empty Email is sent as null, as WorkOS does for a user without a
// primary email.
type User struct {
	ID               string
	DirectoryID      string
	OrganizationID   string
	IdpID            string
	Email            string
	FirstName        string
	LastName         string
	State            string // "active", "inactive" or "suspended"
	CreatedAt        string
	UpdatedAt        string
	CustomAttributes map[string]any
	RawAttributes    map[string]any
	Groups           []json.RawMessage
}

// MarshalJSON writes the WorkOS wire shape.
func (u User) MarshalJSON() ([]byte, error) {
	type wire struct {
		Object           string            `json:"object"`
		ID               string            `json:"id"`
		DirectoryID      string            `json:"directory_id"`
		OrganizationID   string            `json:"organization_id"`
		IdpID            string            `json:"idp_id"`
		Email            *string           `json:"email"`
		FirstName        string            `json:"first_name"`
		LastName         string            `json:"last_name"`
		State            string            `json:"state"`
		RawAttributes    map[string]any    `json:"raw_attributes"`
		CustomAttributes map[string]any    `json:"custom_attributes"`
		CreatedAt        string            `json:"created_at"`
		UpdatedAt        string            `json:"updated_at"`
		Groups           []json.RawMessage `json:"groups"`
	}
	w := wire{Object: "directory_user", ID: u.ID, DirectoryID: u.DirectoryID, OrganizationID: u.OrganizationID,
		IdpID: u.IdpID, FirstName: u.FirstName, LastName: u.LastName, State: u.State,
		RawAttributes: u.RawAttributes, CustomAttributes: u.CustomAttributes,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Groups: u.Groups}
	if u.Email != "" {
		w.Email = &u.Email
	}
	if w.RawAttributes == nil {
		w.RawAttributes = map[string]any{}
	}
	if w.CustomAttributes == nil {
		w.CustomAttributes = map[string]any{}
	}
	if w.Groups == nil {
		w.Groups = []json.RawMessage{}
	}
	return json.Marshal(w)
}

// AddUsers stores users in directory dirID and returns them as stored. Empty
// fields get defaults: a new id (ids grow in the order added), the directory's
// organization, an idp_id, state "active" and the current time.
func (s *Server) AddUsers(dirID string, users ...User) []User {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]User, 0, len(users))
	for _, u := range users {
		u.DirectoryID = dirID
		out = append(out, s.putUser(u))
	}
	return out
}

// SetUser replaces the user with u.ID (or adds it, to u.DirectoryID), with the
// defaults of AddUsers; updated_at becomes now unless set.
func (s *Server) SetUser(u User) User {
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.users[u.ID]; ok && u.UpdatedAt == "" {
		u.UpdatedAt = stamp(s.now())
		u.CreatedAt = or(u.CreatedAt, old.CreatedAt)
	}
	return s.putUser(u)
}

// DeleteUser removes a user, as a deprovisioning would.
func (s *Server) DeleteUser(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
	s.userIDs = nil
}

// putUser fills defaults and stores u; callers hold mu.
func (s *Server) putUser(u User) User {
	if u.ID == "" {
		u.ID = s.newID("directory_user_")
	}
	u.OrganizationID = or(u.OrganizationID, s.dirs[u.DirectoryID].OrganizationID)
	u.IdpID = or(u.IdpID, "idp_"+randomHex(6))
	u.State = or(u.State, "active")
	u.CreatedAt = or(u.CreatedAt, stamp(s.now()))
	u.UpdatedAt = or(u.UpdatedAt, u.CreatedAt)
	s.users[u.ID] = u
	s.userIDs = nil
	return u
}

// directoryUserIDs returns the ids of the directory's users in ascending
// order, sorted once and kept until a user changes, so that a page costs
// O(log n + limit) and walking a large directory stays linear. Callers hold
// mu and must not modify the slice.
func (s *Server) directoryUserIDs(dir string) []string {
	if ids, ok := s.userIDs[dir]; ok {
		return ids
	}
	if s.userIDs == nil {
		s.userIDs = map[string][]string{}
	}
	ids := []string{}
	for id, u := range s.users {
		if u.DirectoryID == dir {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	s.userIDs[dir] = ids
	return ids
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) {
	limit, desc, ok := listParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	dir := q.Get("directory")
	if dir == "" {
		writeValidation(w, "directory", "required")
		return
	}
	s.mu.Lock()
	_, known := s.dirs[dir]
	var page []string
	var meta listMetadata
	switch {
	case !known:
	case desc:
		page, meta = paginate(s.directoryUserIDs(dir), desc, q.Get("before"), q.Get("after"), limit)
	default:
		page, meta = paginateAscending(s.directoryUserIDs(dir), q.Get("before"), q.Get("after"), limit)
	}
	data := make([]User, 0, len(page))
	for _, id := range page {
		data = append(data, s.users[id])
	}
	s.mu.Unlock()
	if !known {
		writeMessage(w, http.StatusNotFound, "Directory not found: '"+dir+"'.")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "list_metadata": meta})
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	u, ok := s.users[r.PathValue("id")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "entity_not_found",
			"message": "Directory User not found: '" + r.PathValue("id") + "'."})
		return
	}
	writeJSON(w, http.StatusOK, u)
}
