package main

import (
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestPortalLinkRace: 20 concurrent "Configure SCIM" clicks spread over two
// replicas of one database create exactly one WorkOS organization, every
// click gets a link, and the plan stores that organization.
func TestPortalLinkRace(t *testing.T) {
	fake := workostest.New(t)
	// Slow WorkOS down, so every request reads the plan before the first
	// organization exists and they all race to create it.
	fake.SetLatency(100 * time.Millisecond)
	opts := storetest.Options(t, "postgres")
	env := []string{"SEATSYNC_WORKOS_API_KEY=" + fake.APIKey, "SEATSYNC_WORKOS_ENDPOINT=" + fake.URL,
		"SEATSYNC_WORKOS_PORTAL_RETURN_URL=https://billing.test/plans/{plan_id}"}
	replicas := []*testInstance{startInstance(t, testConfig(t, opts, env...), false)}
	replicas = append(replicas, startInstance(t, testConfig(t, opts, env...), false))

	if code := replicas[0].apiCall(t, http.MethodPut, "/api/v1/organizations/acme",
		map[string]any{"name": "Acme", "domains": []string{"acme.test"}}, nil); code != http.StatusOK {
		t.Fatalf("PUT organization: %d", code)
	}
	if code := replicas[1].apiCall(t, http.MethodPut, "/api/v1/plans/plan_race",
		map[string]any{"organization_id": "acme", "name": "Team", "admins": []string{"admin@acme.test"}}, nil); code != http.StatusCreated {
		t.Fatalf("PUT plan: %d", code)
	}
	tok, err := auth.Mint(testJWTSecret, auth.Principal{Email: "admin@acme.test"}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}

	const clicks = 20
	type answer struct {
		status int
		link   string
		body   string
	}
	answers := make([]answer, clicks)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range clicks {
		wg.Go(func() {
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost,
				replicas[i%len(replicas)].url+"/api/v1/plans/plan_race/scim/portal-link", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			<-start
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("click %d: %v", i, err)
				return
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			var body struct {
				Link string `json:"link"`
			}
			_ = json.Unmarshal(b, &body)
			answers[i] = answer{status: res.StatusCode, link: body.Link, body: string(b)}
		})
	}
	close(start)
	wg.Wait()

	links := map[string]bool{}
	for i, a := range answers {
		if a.status != http.StatusOK || a.link == "" {
			t.Errorf("click %d (replica %d): %d %s, want 200 with a link", i, i%len(replicas), a.status, a.body)
		}
		links[a.link] = true
	}
	if len(links) != clicks {
		t.Errorf("%d distinct links for %d clicks, want one each", len(links), clicks)
	}
	if n := fake.Created("organization"); n != 1 {
		t.Fatalf("WorkOS organizations created = %d, want exactly 1", n)
	}
	t.Logf("organization requests: %d", len(fake.Calls("/organizations")))
	if n := fake.Calls("/organizations"); len(n) < 2 {
		t.Errorf("only %d organization requests: the clicks did not race", len(n))
	}

	var plan struct {
		WorkOSOrganizationID string `json:"workos_organization_id"`
	}
	if code := replicas[0].apiCall(t, http.MethodGet, "/api/v1/plans/plan_race", nil, &plan); code != http.StatusOK {
		t.Fatalf("GET plan: %d", code)
	}
	if plan.WorkOSOrganizationID == "" {
		t.Fatal("plan is not linked to a WorkOS organization")
	}
	calls := fake.Calls("/portal/generate_link")
	if len(calls) != clicks {
		t.Errorf("%d generate_link calls, want %d", len(calls), clicks)
	}
	for _, c := range calls {
		var b struct {
			Organization string `json:"organization"`
			ReturnURL    string `json:"return_url"`
		}
		if err := json.Unmarshal(c.Body, &b); err != nil {
			t.Fatal(err)
		}
		if b.Organization != plan.WorkOSOrganizationID || b.ReturnURL != "https://billing.test/plans/plan_race" {
			t.Errorf("link generated for %s returning to %s, want %s and https://billing.test/plans/plan_race",
				b.Organization, b.ReturnURL, plan.WorkOSOrganizationID)
		}
	}
}
