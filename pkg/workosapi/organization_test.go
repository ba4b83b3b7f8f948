package workosapi_test

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func TestEnsureOrganization_createsOnce(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	c, _ := newClient(t, srv)
	ctx := t.Context()

	id, created, err := c.EnsureOrganization(ctx, "plan_1", "Example Corp", []string{"example.com", "example.org"})
	if err != nil || !created || id == "" {
		t.Fatalf("first: %q %v %v", id, created, err)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(srv.Calls("/organizations")[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	// Reference §9.3: domain_data and metadata set, no null domains.
	if string(body["domain_data"]) != `[{"domain":"example.com","state":"pending"},{"domain":"example.org","state":"pending"}]` ||
		string(body["metadata"]) != `{}` || string(body["external_id"]) != `"plan_1"` {
		t.Errorf("create body = %s", srv.Calls("/organizations")[0].Body)
	}
	if _, ok := body["domains"]; ok {
		t.Errorf("create body sends the deprecated domains: %s", srv.Calls("/organizations")[0].Body)
	}

	again, created, err := c.EnsureOrganization(ctx, "plan_1", "Example Corp", nil)
	if err != nil || created || again != id {
		t.Errorf("second: %q %v %v, want %q false nil", again, created, err, id)
	}
	if srv.Created("organization") != 1 {
		t.Errorf("created %d organizations", srv.Created("organization"))
	}

	// A plan id with characters that need escaping still finds its organization.
	odd := "plan/with ?#"
	first, _, err := c.EnsureOrganization(ctx, odd, "Odd", nil)
	if err != nil {
		t.Fatal(err)
	}
	if second, created, err := c.EnsureOrganization(ctx, odd, "Odd", nil); err != nil || created || second != first {
		t.Errorf("odd external id: %q %v %v, want %q", second, created, err, first)
	}
}

func TestEnsureOrganization_concurrentCallersShareOne(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	c, _ := newClient(t, srv)
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, _, err := c.EnsureOrganization(t.Context(), "plan_race", "Race", nil)
			if err != nil {
				t.Error(err)
			}
			ids[i] = id
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("different ids: %v", ids)
		}
	}
	if srv.Created("organization") != 1 {
		t.Errorf("created %d organizations, want 1", srv.Created("organization"))
	}
}

func TestEnsureOrganization_errors(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	c, _ := newClient(t, srv)
	_, _, err := c.EnsureOrganization(t.Context(), "plan_1", "", nil) // the fake requires a name
	wantCode(t, err, membership.Upstream, "workos_invalid_request", srv.APIKey)

	// A 409 is handled like external_id_already_used: fetch; none exists, so 404.
	srv.FailNext("POST", "/organizations", 1, http.StatusConflict, "")
	_, _, err = c.EnsureOrganization(t.Context(), "plan_2", "P", nil)
	wantCode(t, err, membership.Upstream, "workos_not_found", srv.APIKey)

	_, _, err = c.EnsureOrganization(t.Context(), "", "P", nil)
	wantCode(t, err, membership.Invalid, "workos_invalid_request", "")
}
