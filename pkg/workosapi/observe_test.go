package workosapi_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

// calls is a workosapi.Observer that remembers what it heard.
type calls struct {
	mu   sync.Mutex
	seen []string
}

func (c *calls) WorkOSRequest(method, endpoint, status string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen = append(c.seen, method+" "+endpoint+" "+status)
}

func TestObserver(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	obs := &calls{}
	c, _ := newClient(t, srv, func(o *workosapi.Options) { o.Observer = obs })
	ctx := t.Context()
	srv.FailNext("GET", "/directories", 1, 503, "")
	if _, err := c.ListDirectories(ctx, "org_1"); err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second finds the organization by external id
		if _, _, err := c.EnsureOrganization(ctx, "plan_observed", "Observed", nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.ListEvents(ctx, workosapi.EventsQuery{Types: []string{"dsync.user.created"}, Limit: 10}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"GET /directories 503", "GET /directories 200", // each retry counts
		"POST /organizations 201",
		"POST /organizations 400", "GET /organizations/external_id/:id 200", // ids never become labels
		"GET /events 200",
	}
	if !slices.Equal(obs.seen, want) {
		t.Errorf("observer heard\n%q\nwant\n%q", obs.seen, want)
	}

	down := &calls{}
	c, err := workosapi.New(workosapi.Options{APIKey: "sk_test", Endpoint: "http://127.0.0.1:1/v1/", MaxRetries: -1, Observer: down})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = c.ListEvents(ctx, workosapi.EventsQuery{Limit: 1})
	if want := []string{"GET /events error"}; !slices.Equal(down.seen, want) {
		t.Errorf("unreachable WorkOS: observer heard %q, want %q (the endpoint's /v1 prefix cut)", down.seen, want)
	}
}
