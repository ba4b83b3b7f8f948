package workostest

import (
	"encoding/json"
	"net/http"
)

// organization is the stored form of a WorkOS organization object (reference §9.1).
type organization struct {
	Object     string            `json:"object"`
	ID         string            `json:"id"`
	Name       string            `json:"name"`
	Domains    []orgDomain       `json:"domains"`
	Metadata   map[string]string `json:"metadata"`
	ExternalID *string           `json:"external_id"`
	AllowOut   bool              `json:"allow_profiles_outside_organization"`
	CreatedAt  string            `json:"created_at"`
	UpdatedAt  string            `json:"updated_at"`
}

type orgDomain struct {
	Object         string `json:"object"`
	ID             string `json:"id"`
	OrganizationID string `json:"organization_id"`
	Domain         string `json:"domain"`
	State          string `json:"state"`
	Strategy       string `json:"verification_strategy"`
	CreatedAt      string `json:"created_at"`
	UpdatedAt      string `json:"updated_at"`
}

type createOrgBody struct {
	Name       string            `json:"name"`
	DomainData []domainData      `json:"domain_data"`
	Domains    []string          `json:"domains"`
	ExternalID *string           `json:"external_id"`
	Metadata   map[string]string `json:"metadata"`
}

type domainData struct {
	Domain string `json:"domain"`
	State  string `json:"state"`
}

// AddOrganization stores an organization directly (not counted by Created)
// and returns its id; an empty externalID leaves external_id null.
func (s *Server) AddOrganization(name, externalID string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ext *string
	if externalID != "" {
		ext = &externalID
	}
	return s.storeOrganization(createOrgBody{Name: name, ExternalID: ext}).ID
}

// storeOrganization saves a new organization; callers hold mu and have checked
// external_id uniqueness.
func (s *Server) storeOrganization(b createOrgBody) *organization {
	now := stamp(s.now())
	o := &organization{Object: "organization", ID: s.newID("org_"), Name: b.Name, Domains: []orgDomain{},
		Metadata: b.Metadata, ExternalID: b.ExternalID, CreatedAt: now, UpdatedAt: now}
	if o.Metadata == nil {
		o.Metadata = map[string]string{}
	}
	for _, d := range b.DomainData {
		o.Domains = append(o.Domains, orgDomain{Object: "organization_domain", ID: s.newID("org_domain_"),
			OrganizationID: o.ID, Domain: d.Domain, State: d.State, Strategy: "manual", CreatedAt: now, UpdatedAt: now})
	}
	s.orgs[o.ID] = o
	if b.ExternalID != nil {
		s.orgByExt[*b.ExternalID] = o.ID
	}
	return o
}

func (s *Server) createOrganization(w http.ResponseWriter, r *http.Request) {
	var b createOrgBody
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		writeMessage(w, http.StatusBadRequest, "Invalid JSON body")
		return
	}
	if b.Name == "" {
		writeValidation(w, "name", "required")
		return
	}
	for _, d := range b.DomainData {
		if d.State != "pending" && d.State != "verified" {
			writeValidation(w, "domain_data", "invalid_state")
			return
		}
	}
	s.mu.Lock()
	if b.ExternalID != nil {
		if _, taken := s.orgByExt[*b.ExternalID]; taken {
			s.mu.Unlock()
			writeJSON(w, http.StatusBadRequest, map[string]string{
				"code":    "external_id_already_used",
				"message": "An organization with the external ID " + *b.ExternalID + " already exists.",
			})
			return
		}
	}
	o := *s.storeOrganization(b)
	s.created["organization"]++
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, o)
}

func (s *Server) getOrganization(w http.ResponseWriter, r *http.Request) {
	s.writeOrganization(w, r.PathValue("id"))
}

func (s *Server) getOrganizationByExternalID(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	id, ok := s.orgByExt[r.PathValue("external_id")]
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "entity_not_found",
			"message": "Organization not found: '" + r.PathValue("external_id") + "'."})
		return
	}
	s.writeOrganization(w, id)
}

func (s *Server) writeOrganization(w http.ResponseWriter, id string) {
	s.mu.Lock()
	o, ok := s.orgs[id]
	var c organization
	if ok {
		c = *o
	}
	s.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"code": "entity_not_found",
			"message": "Organization not found: '" + id + "'."})
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// organizationName returns the name of an organization, if it exists.
func (s *Server) organizationName(id string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[id]
	if !ok {
		return "", false
	}
	return o.Name, true
}
