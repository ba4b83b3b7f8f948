package workostest

import (
	"net/http"
)

// Directory is a WorkOS directory object (reference §8.1).
type Directory struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	ExternalKey    string `json:"external_key"`
	Type           string `json:"type"`
	State          string `json:"state"`
	Name           string `json:"name"`
	Domain         string `json:"domain,omitempty"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

// AddDirectory stores dir under organization orgID and returns it as stored.
// Empty fields get defaults: a new id, type "okta scim v2.0", state "linked",
// a name, and the current time.
func (s *Server) AddDirectory(orgID string, dir Directory) Directory {
	s.mu.Lock()
	defer s.mu.Unlock()
	dir.Object, dir.OrganizationID = "directory", orgID
	if dir.ID == "" {
		dir.ID = s.newID("directory_")
	}
	dir.ExternalKey = or(dir.ExternalKey, randomHex(8))
	dir.Type = or(dir.Type, "okta scim v2.0")
	dir.State = or(dir.State, "linked")
	dir.Name = or(dir.Name, "Directory "+dir.ID)
	dir.CreatedAt = or(dir.CreatedAt, stamp(s.now()))
	dir.UpdatedAt = or(dir.UpdatedAt, dir.CreatedAt)
	s.dirs[dir.ID] = dir
	return dir
}

func (s *Server) listDirectories(w http.ResponseWriter, r *http.Request) {
	limit, desc, ok := listParams(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	org := q.Get("organization_id")
	s.mu.Lock()
	byID := map[string]Directory{}
	var ids []string
	for id, d := range s.dirs {
		if org == "" || d.OrganizationID == org {
			ids = append(ids, id)
			byID[id] = d
		}
	}
	s.mu.Unlock()
	page, meta := paginate(ids, desc, q.Get("before"), q.Get("after"), limit)
	data := make([]Directory, 0, len(page))
	for _, id := range page {
		data = append(data, byID[id])
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data, "list_metadata": meta})
}

func or(v, def string) string {
	if v == "" {
		return def
	}
	return v
}
