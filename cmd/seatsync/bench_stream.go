package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Names of what `seatsync bench` creates: one organization, one plan and one
// directory, linked through the plan's WorkOS organization id.
const (
	benchOrg       = "bench"
	benchPlan      = "plan_bench"
	benchWorkOSOrg = "org_BENCH"
	benchDirectory = "directory_BENCH"
	benchDomain    = "bench.example.com"
)

// benchStream is an initial sync of one directory as WorkOS delivers it:
// distinct events, and the order they are sent in, duplicates included.
type benchStream struct {
	prefix string   // every event id starts with it, so a run's events can be found
	ids    []string // distinct events
	bodies [][]byte
	order  []int // indexes into bodies, in send order

	created, updated, deactivated, duplicates int
	expectedActive                            int // users the stream leaves active: the paid seats
	payloadBytes                              int64
}

// newBenchStream builds `users` dsync.user.created events, about 2% later
// updates and 1% deactivations (newer updated_at, so they win in any order),
// shuffles them and re-sends 1% of them with the same id. The seed fixes
// everything but the event ids, which carry runTag so a second run against
// the same server sends new events.
func newBenchStream(users int, seed uint64, runTag string, base time.Time) (*benchStream, error) {
	r := rand.New(rand.NewPCG(seed, seed^0x5ea75ec))
	s := &benchStream{prefix: "event_" + runTag + "_"}
	add := func(typ string, u benchUser, prev map[string]any) error {
		id := fmt.Sprintf("%s%07d", s.prefix, len(s.ids))
		at, _ := time.Parse(time.RFC3339Nano, u.UpdatedAt)
		u.PreviousAttributes = prev
		body, err := json.Marshal(benchEnvelope{Object: "event", ID: id, Event: typ, Data: u,
			CreatedAt: at.Add(287 * time.Millisecond).Format(time.RFC3339Nano), Context: struct{}{}})
		if err != nil {
			return fmt.Errorf("bench stream: %w", err)
		}
		s.ids, s.bodies = append(s.ids, id), append(s.bodies, body)
		s.payloadBytes += int64(len(body))
		return nil
	}
	for i := range users {
		if err := add("dsync.user.created", newBenchUser(i, base.Add(time.Duration(i)*time.Millisecond), "active"), nil); err != nil {
			return nil, err
		}
	}
	s.created = users
	for _, i := range r.Perm(users)[:users*2/100] {
		u := newBenchUser(i, base.Add(30*time.Minute+time.Duration(i)*time.Millisecond), "active")
		old := u.JobTitle
		u.JobTitle = "Senior " + u.JobTitle
		u.RawAttributes.Title, u.CustomAttributes.JobTitle = u.JobTitle, u.JobTitle
		if err := add("dsync.user.updated", u, map[string]any{"job_title": old}); err != nil {
			return nil, err
		}
		s.updated++
	}
	for _, i := range r.Perm(users)[:users/100] {
		u := newBenchUser(i, base.Add(45*time.Minute+time.Duration(i)*time.Millisecond), "inactive")
		prev := map[string]any{"state": "active", "raw_attributes": map[string]any{"active": true}}
		if err := add("dsync.user.updated", u, prev); err != nil {
			return nil, err
		}
		s.deactivated++
	}
	s.expectedActive = users - s.deactivated
	s.order = make([]int, len(s.bodies), len(s.bodies)+len(s.bodies)/100)
	for i := range s.order {
		s.order[i] = i
	}
	for _, i := range r.Perm(len(s.bodies))[:len(s.bodies)/100] {
		s.order = append(s.order, i)
		s.duplicates++
	}
	r.Shuffle(len(s.order), func(i, j int) { s.order[i], s.order[j] = s.order[j], s.order[i] })
	return s, nil
}

// The types below mirror fixtures/workos/dsync_user_created.json field for
// field, so payloads have the size and shape of real deliveries (~2 KB).
type benchEnvelope struct {
	Object    string    `json:"object"`
	ID        string    `json:"id"`
	Event     string    `json:"event"`
	Data      benchUser `json:"data"`
	CreatedAt string    `json:"created_at"`
	Context   struct{}  `json:"context"`
}

type benchUser struct {
	Object             string         `json:"object"`
	ID                 string         `json:"id"`
	DirectoryID        string         `json:"directory_id"`
	OrganizationID     string         `json:"organization_id"`
	IdpID              string         `json:"idp_id"`
	Email              string         `json:"email"`
	FirstName          string         `json:"first_name"`
	LastName           string         `json:"last_name"`
	Name               string         `json:"name"`
	Emails             []benchEmail   `json:"emails"`
	Username           string         `json:"username"`
	JobTitle           string         `json:"job_title"`
	State              string         `json:"state"`
	RawAttributes      benchRawUser   `json:"raw_attributes"`
	CustomAttributes   benchCustom    `json:"custom_attributes"`
	Role               benchSlug      `json:"role"`
	Roles              []benchSlug    `json:"roles"`
	CreatedAt          string         `json:"created_at"`
	UpdatedAt          string         `json:"updated_at"`
	Groups             []benchGroup   `json:"groups"`
	PreviousAttributes map[string]any `json:"previous_attributes,omitempty"`
}

type benchEmail struct {
	Primary bool   `json:"primary"`
	Type    string `json:"type"`
	Value   string `json:"value"`
}

type benchRawUser struct {
	Schemas    []string      `json:"schemas"`
	ID         string        `json:"id"`
	UserName   string        `json:"userName"`
	Active     bool          `json:"active"`
	Name       benchSCIMName `json:"name"`
	Emails     []benchEmail  `json:"emails"`
	Title      string        `json:"title"`
	Enterprise benchCostCtr  `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

type benchSCIMName struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
}

type benchCostCtr struct {
	Department string `json:"department"`
	CostCenter string `json:"costCenter"`
}

type benchCustom struct {
	Department string `json:"department"`
	JobTitle   string `json:"job_title"`
	CostCenter string `json:"cost_center"`
}

type benchSlug struct {
	Slug string `json:"slug"`
}

type benchGroup struct {
	Object         string      `json:"object"`
	ID             string      `json:"id"`
	IdpID          string      `json:"idp_id"`
	DirectoryID    string      `json:"directory_id"`
	OrganizationID string      `json:"organization_id"`
	Name           string      `json:"name"`
	CreatedAt      string      `json:"created_at"`
	UpdatedAt      string      `json:"updated_at"`
	RawAttributes  benchRawGrp `json:"raw_attributes"`
}

type benchRawGrp struct {
	ID          string   `json:"id"`
	DisplayName string   `json:"displayName"`
	Schemas     []string `json:"schemas"`
}

// newBenchUser returns directory user i as of updatedAt.
func newBenchUser(i int, updatedAt time.Time, state string) benchUser {
	benchFirst := [...]string{"Priya", "Jonas", "Amara", "Kenji", "Lucia", "Omar", "Ingrid", "Mateo", "Zanele", "Wei"}
	benchLast := [...]string{"Raman", "Becker", "Okafor", "Sato", "Romero", "Haddad", "Larsen", "Silva", "Dlamini", "Chen"}
	benchDepts := [...]string{"Engineering", "Sales", "Support", "Finance", "Marketing", "Operations"}
	first, last, dept := benchFirst[i%len(benchFirst)], benchLast[(i/len(benchFirst))%len(benchLast)], benchDepts[i%len(benchDepts)]
	email := fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(first), strings.ToLower(last), i, benchDomain)
	idp := fmt.Sprintf("00u%017d", i)
	emails := []benchEmail{{Primary: true, Type: "work", Value: email}}
	title := dept + " Specialist"
	cc := fmt.Sprintf("CC-%d", 4100+i%len(benchDepts)*100)
	created := "2025-03-04T15:00:04.215Z"
	group := func(name string, n int) benchGroup {
		gid := fmt.Sprintf("00g%017d", n)
		return benchGroup{Object: "directory_group", ID: fmt.Sprintf("directory_group_BENCH%02d", n), IdpID: gid,
			DirectoryID: benchDirectory, OrganizationID: benchWorkOSOrg, Name: name, CreatedAt: created, UpdatedAt: created,
			RawAttributes: benchRawGrp{ID: gid, DisplayName: name, Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}}}
	}
	return benchUser{Object: "directory_user", ID: fmt.Sprintf("directory_user_BENCH%07d", i), DirectoryID: benchDirectory,
		OrganizationID: benchWorkOSOrg, IdpID: idp, Email: email, FirstName: first, LastName: last, Name: first + " " + last,
		Emails: emails, Username: email, JobTitle: title, State: state,
		RawAttributes: benchRawUser{Schemas: []string{"urn:ietf:params:scim:schemas:core:2.0:User",
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}, ID: idp, UserName: email, Active: state == "active",
			Name: benchSCIMName{GivenName: first, FamilyName: last}, Emails: emails, Title: title,
			Enterprise: benchCostCtr{Department: dept, CostCenter: cc}},
		CustomAttributes: benchCustom{Department: dept, JobTitle: title, CostCenter: cc},
		Role:             benchSlug{Slug: "member"}, Roles: []benchSlug{{Slug: "member"}},
		CreatedAt: created, UpdatedAt: updatedAt.UTC().Format(time.RFC3339Nano),
		Groups: []benchGroup{group(dept, i%len(benchDepts)), group("Seatsync Users", 99)},
	}
}
