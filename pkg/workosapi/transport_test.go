package workosapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func TestRetry_429HonoursRetryAfter(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	dir := srv.AddDirectory("org_1", workostest.Directory{})
	srv.AddUsers(dir.ID, workostest.User{Email: "a@example.com"})
	srv.FailNext("GET", "/directory_users", 1, http.StatusTooManyRequests, "3")
	srv.FailNext("GET", "/directory_users", 1, http.StatusTooManyRequests, "600") // capped at 60s
	c, sl := newClient(t, srv)

	page, err := c.ListUsers(t.Context(), dir.ID, "", 10)
	if err != nil || len(page.Users) != 1 {
		t.Fatalf("ListUsers = %+v, %v", page, err)
	}
	if got, want := sl.all(), []time.Duration{3 * time.Second, 60 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("sleeps = %v, want %v", got, want)
	}
	if c.Requests() != 3 || srv.Requests("/directory_users") != 3 {
		t.Errorf("client counted %d requests, server %d; want 3", c.Requests(), srv.Requests("/directory_users"))
	}
}

func TestRetry_500ThenSuccessWithBackoff(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	srv.FailNext("POST", "/organizations", 1, http.StatusInternalServerError, "")
	srv.FailNext("POST", "/organizations", 1, http.StatusBadGateway, "")
	c, sl := newClient(t, srv)

	id, created, err := c.EnsureOrganization(t.Context(), "plan_1", "Example", []string{"example.com"})
	if err != nil || !created || id == "" {
		t.Fatalf("EnsureOrganization = %q, %v, %v", id, created, err)
	}
	got := sl.all()
	// base 200ms doubling, equal jitter: [100ms, 200ms] then [200ms, 400ms].
	if len(got) != 2 || got[0] < 100*time.Millisecond || got[0] > 200*time.Millisecond ||
		got[1] < 200*time.Millisecond || got[1] > 400*time.Millisecond {
		t.Errorf("sleeps = %v", got)
	}
	// The POST body was sent again on each attempt.
	for i, call := range srv.Calls("/organizations") {
		if len(call.Body) == 0 {
			t.Errorf("attempt %d had an empty body", i)
		}
	}
	if srv.Created("organization") != 1 {
		t.Errorf("created %d organizations, want 1", srv.Created("organization"))
	}
}

func TestRetry_exhausted(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		code   string
	}{
		{http.StatusTooManyRequests, "workos_rate_limited"},
		{http.StatusServiceUnavailable, "workos_unavailable"},
		{http.StatusGatewayTimeout, "workos_unavailable"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			srv := workostest.New(t)
			srv.FailNext("", "/events", 100, tc.status, "")
			c, sl := newClient(t, srv, func(o *workosapi.Options) { o.MaxRetries = 3 })
			_, err := c.ListEvents(t.Context(), workosapi.EventsQuery{Types: []string{"dsync.user.created"}})
			wantCode(t, err, membership.Upstream, tc.code, srv.APIKey)
			if n := srv.Requests("/events"); n != 4 || len(sl.all()) != 3 {
				t.Errorf("%d requests, %d sleeps; want 4 and 3", n, len(sl.all()))
			}
		})
	}
}

func TestRetry_notRetried(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	srv.FailNext("", "/directory_users", 1, http.StatusUnprocessableEntity, "")
	c, sl := newClient(t, srv)
	_, err := c.ListUsers(t.Context(), "directory_1", "", 10)
	wantCode(t, err, membership.Upstream, "workos_invalid_request", srv.APIKey)
	if srv.Requests("/directory_users") != 1 || len(sl.all()) != 0 {
		t.Errorf("a 422 was retried")
	}
}

func TestRetry_realRateLimitIsPacedByRetryAfter(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	dir := srv.AddDirectory("org_1", workostest.Directory{})
	srv.AddUsers(dir.ID, make([]workostest.User, 12)...)
	srv.SetUsersRateLimit(4) // WorkOS's 4 requests per second per directory
	// Real sleeps: the client must wait out Retry-After for the limit to let it through.
	c, err := workosapi.New(workosapi.Options{APIKey: srv.APIKey, Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	seen, after := 0, ""
	for {
		page, err := c.ListUsers(t.Context(), dir.ID, after, 2)
		if err != nil {
			t.Fatal(err)
		}
		seen += len(page.Users)
		if after = page.After; after == "" {
			break
		}
	}
	if seen != 12 {
		t.Errorf("listed %d users, want 12", seen)
	}
	if srv.Requests("/directory_users") <= 6 {
		t.Errorf("%d requests: the rate limit never bit", srv.Requests("/directory_users"))
	}
}
