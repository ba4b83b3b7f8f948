package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// history is a random but plausible life of one plan's directory.
type history struct {
	n         int
	planID    string
	orgID     string
	workosOrg string
	dirID     string
	limit     int
	domains   []string
	manual    []string // manual seats given before the directory
	events    [][]byte // in the order WorkOS produced them
	deletes   [][]byte // dsync.deleted, produced last
}

var histBase = time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

// genHistory builds history n from r: users created, updated, renamed,
// deactivated, reactivated and deleted, the directory activated, sometimes deleted.
func genHistory(r *rand.Rand, n int) history {
	h := history{n: n, planID: fmt.Sprintf("plan%d", n), orgID: fmt.Sprintf("org%d", n),
		workosOrg: fmt.Sprintf("org_W%d", n), dirID: fmt.Sprintf("directory_H%d", n), limit: 1 + r.IntN(4)}
	domain := fmt.Sprintf("h%d.test", n)
	if r.IntN(4) == 0 {
		h.domains = []string{domain}
	}
	seq := 0
	tick := func() time.Time { seq++; return histBase.Add(time.Duration(seq) * time.Second) }
	ev := func(typ string, data map[string]any, at time.Time) []byte {
		id := fmt.Sprintf("event_H%d_%03d", n, seq)
		b, _ := json.Marshal(map[string]any{"object": "event", "id": id, "event": typ, "data": data, "created_at": at.Format(time.RFC3339Nano)})
		return b
	}
	dirData := func(state string, at time.Time) map[string]any {
		return map[string]any{"object": "directory", "id": h.dirID, "organization_id": h.workosOrg, "type": "okta scim v2.0",
			"name": "Directory", "state": state, "domains": []any{}, "created_at": histBase.Format(time.RFC3339Nano),
			"updated_at": at.Format(time.RFC3339Nano)}
	}
	users := 1 + r.IntN(7)
	for i := range r.IntN(4) {
		// Some manual holders are also directory users, some are not.
		h.manual = append(h.manual, fmt.Sprintf("u%d.0@%s", i*2, domain))
	}
	type user struct {
		id, email, state string
		renames          int
		deleted          bool
	}
	us := make([]*user, users)
	activated := false
	for i := range us {
		email := fmt.Sprintf("u%d.0@%s", i, domain)
		if h.domains != nil && r.IntN(6) == 0 {
			email = fmt.Sprintf("u%d.0@outside.test", i)
		}
		us[i] = &user{id: fmt.Sprintf("directory_user_H%d_%d", n, i), email: email, state: "active"}
	}
	userData := func(u *user, at time.Time) map[string]any {
		return map[string]any{"object": "directory_user", "id": u.id, "directory_id": h.dirID, "organization_id": h.workosOrg,
			"email": u.email, "first_name": "F", "last_name": "L", "state": u.state, "idp_id": u.id,
			"created_at": histBase.Format(time.RFC3339Nano), "updated_at": at.Format(time.RFC3339Nano)}
	}
	for _, u := range us {
		if r.IntN(5) == 0 {
			u.state = "inactive"
		}
		at := tick()
		h.events = append(h.events, ev("dsync.user.created", userData(u, at), at))
		if !activated && r.IntN(3) == 0 {
			at := tick()
			h.events = append(h.events, ev("dsync.activated", dirData("active", at), at))
			activated = true
		}
	}
	for range r.IntN(3 * users) {
		u := us[r.IntN(users)]
		if u.deleted {
			continue
		}
		at := tick()
		switch r.IntN(5) {
		case 0: // rename to a fresh address
			u.renames++
			local, dom, _ := strings.Cut(u.email, "@")
			base, _, _ := strings.Cut(local, ".")
			u.email = fmt.Sprintf("%s.%d@%s", base, u.renames, dom)
			h.events = append(h.events, ev("dsync.user.updated", userData(u, at), at))
		case 1:
			u.state = "inactive"
			h.events = append(h.events, ev("dsync.user.updated", userData(u, at), at))
		case 2:
			u.state = "active"
			h.events = append(h.events, ev("dsync.user.updated", userData(u, at), at))
		case 3:
			u.deleted = true
			h.events = append(h.events, ev("dsync.user.deleted", userData(u, at), at))
		default: // an update that changes nothing the rules read
			h.events = append(h.events, ev("dsync.user.updated", userData(u, at), at))
		}
	}
	if !activated {
		at := tick()
		h.events = append(h.events, ev("dsync.activated", dirData("active", at), at))
	}
	if r.IntN(5) == 0 {
		at := tick()
		h.deletes = append(h.deletes, ev("dsync.deleted", dirData("deleting", at), at))
	}
	return h
}

// setup creates the history's organization, plan and manual seats through the API.
func (h history) setup(t testing.TB, ti *testInstance) {
	t.Helper()
	if c := ti.apiCall(t, http.MethodPut, "/api/v1/organizations/"+h.orgID, map[string]any{"name": h.orgID, "domains": h.domains}, nil); c != 200 {
		t.Fatalf("put organization: %d", c)
	}
	plan := map[string]any{"organization_id": h.orgID, "name": "Plan", "admins": []string{"admin@example.test"},
		"workos_organization_id": h.workosOrg, "test_mode_limit": h.limit}
	if c := ti.apiCall(t, http.MethodPut, "/api/v1/plans/"+h.planID, plan, nil); c != 201 {
		t.Fatalf("put plan: %d", c)
	}
	for _, e := range h.manual {
		if c := ti.apiCall(t, http.MethodPost, "/api/v1/plans/"+h.planID+"/members", map[string]any{"email": e}, nil); c != 201 {
			t.Fatalf("add manual seat %s: %d", e, c)
		}
	}
}

// sendAll delivers bodies with `senders` concurrent senders; every answer must be 200.
func sendAll(t testing.TB, urls []string, bodies [][]byte, senders int) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	work := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range work {
				if c := deliver(t, client, urls[i%len(urls)], bodies[i]); c != http.StatusOK {
					t.Errorf("delivery %d: status %d", i, c)
				}
			}
		})
	}
	for i := range bodies {
		work <- i
	}
	close(work)
	wg.Wait()
}

// shuffled returns bodies in random order with about dupRate of them repeated.
func shuffled(r *rand.Rand, bodies [][]byte, dupRate float64) [][]byte {
	out := append([][]byte{}, bodies...)
	for _, b := range bodies {
		if r.Float64() < dupRate {
			out = append(out, b)
		}
	}
	r.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// dump renders everything the rules decide: plans' modes, seats, directory users.
func dump(t testing.TB, ti *testInstance) string {
	t.Helper()
	ctx := context.Background()
	plans, err := ti.store.Plans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, p := range plans {
		lines = append(lines, fmt.Sprintf("plan %s mode=%s cutover=%v", p.ID, p.Mode, p.CutoverAt != nil))
		counted, _, err := ti.store.SeatCounts(ctx, p.ID, p.OrganizationID)
		if err != nil {
			t.Fatal(err)
		}
		paid := int64(0)
		after := ""
		for {
			page, err := ti.store.PlanMembers(ctx, p.ID, p.OrganizationID, "", after, 500)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range page.Members {
				d := m.Domain()
				if d.PlanID == "" {
					continue // free members exist or not depending on history; seats are what converge
				}
				if d.PlanID == p.ID {
					paid++
				}
				lines = append(lines, fmt.Sprintf("  member %s plan=%s source=%s manual=%s", d.Email, d.PlanID, d.Source, d.ManualPlanID))
			}
			if after = page.After; after == "" {
				break
			}
		}
		if paid != counted {
			t.Errorf("plan %s: seat counter says %d paid, %d members are paid", p.ID, counted, paid)
		}
		dirs, err := ti.store.PlanDirectories(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range dirs {
			lines = append(lines, fmt.Sprintf("  directory %s state=%s added=%d", d.ID, d.State, d.UsersAdded))
			users, err := ti.store.DirectoryUsers(ctx, d.ID, "", 10000)
			if err != nil {
				t.Fatal(err)
			}
			for _, u := range users {
				lines = append(lines, fmt.Sprintf("    user %s email=%s state=%s deleted=%v in_a=%v added=%v v=%s",
					u.ID, u.Email, u.State, u.Deleted, u.InA, u.Added, u.Version.EventID))
			}
		}
	}
	return strings.Join(lines, "\n")
}
