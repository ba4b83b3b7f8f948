package workostest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServer_wrongKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	s := New(t, WithAPIKey("sk_test_right"))
	status, h, body := call(t, s, "GET", "/directories", nil, "sk_test_wrong")
	if status != http.StatusUnauthorized || string(body) != "Unauthorized" || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Errorf("got %d %q %q, want 401 text/plain Unauthorized", status, h.Get("Content-Type"), body)
	}
	if status, _, _ := call(t, s, "GET", "/directories", nil); status != http.StatusOK {
		t.Errorf("right key: status %d, want 200", status)
	}
	if got := s.Requests("/directories"); got != 2 {
		t.Errorf("Requests = %d, want 2 (refused ones count)", got)
	}
}

func TestServer_failNext(t *testing.T) {
	t.Parallel()
	s := New(t)
	dir := s.AddDirectory("org_1", Directory{})
	s.FailNext("POST", "/directory_users", 5, http.StatusInternalServerError, "") // wrong method: never hits
	s.FailNext("GET", "/directory_users", 2, http.StatusTooManyRequests, "7")
	s.FailNext("", "/directory_users", 1, http.StatusBadGateway, "")

	path := "/directory_users?directory=" + dir.ID
	status, h, body := call(t, s, "GET", path, nil)
	if status != http.StatusTooManyRequests || h.Get("Retry-After") != "7" || strings.TrimSpace(string(body)) != `"Ratelimited"` {
		t.Errorf("1st: %d Retry-After=%q %s, want 429 7 \"Ratelimited\"", status, h.Get("Retry-After"), body)
	}
	if status, _, _ := call(t, s, "GET", path, nil); status != http.StatusTooManyRequests {
		t.Errorf("2nd: %d, want 429", status)
	}
	status, h, body = call(t, s, "GET", path, nil)
	if status != http.StatusBadGateway || h.Get("Retry-After") != "" || !strings.Contains(string(body), `"message"`) {
		t.Errorf("3rd: %d %s, want 502 with a message", status, body)
	}
	if status, _, _ := call(t, s, "GET", path, nil); status != http.StatusOK {
		t.Errorf("4th: %d, want 200", status)
	}
	if got := s.Requests("/directory_users"); got != 4 {
		t.Errorf("Requests = %d, want 4", got)
	}
}

func TestServer_failNextIsSafeConcurrently(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.FailNext("GET", "/directories", 10, http.StatusServiceUnavailable, "")
	var wg sync.WaitGroup
	var mu sync.Mutex
	failed := 0
	for range 30 {
		wg.Go(func() {
			status, _, _ := call(t, s, "GET", "/directories", nil)
			mu.Lock()
			defer mu.Unlock()
			if status == http.StatusServiceUnavailable {
				failed++
			}
		})
	}
	wg.Wait()
	if failed != 10 {
		t.Errorf("%d requests failed, want exactly 10", failed)
	}
}

func TestServer_usersRateLimitPerDirectory(t *testing.T) {
	t.Parallel()
	s := New(t)
	a, b := s.AddDirectory("org_1", Directory{}), s.AddDirectory("org_1", Directory{})
	u := s.AddUsers(a.ID, User{})
	s.SetUsersRateLimit(2)
	for i, want := range []int{200, 200, 429} {
		path := "/directory_users?directory=" + a.ID
		if i == 1 {
			path = "/directory_users/" + u[0].ID // the same directory's budget
		}
		status, h, body := call(t, s, "GET", path, nil)
		if status != want {
			t.Fatalf("request %d: %d, want %d", i, status, want)
		}
		if status == 429 && (h.Get("Retry-After") != "1" || strings.TrimSpace(string(body)) != `"Ratelimited"`) {
			t.Errorf("429: Retry-After %q body %s", h.Get("Retry-After"), body)
		}
	}
	if status, _, _ := call(t, s, "GET", "/directory_users?directory="+b.ID, nil); status != 200 {
		t.Errorf("other directory: %d, want 200", status)
	}
	time.Sleep(1100 * time.Millisecond)
	if status, _, _ := call(t, s, "GET", "/directory_users?directory="+a.ID, nil); status != 200 {
		t.Errorf("after a second: %d, want 200", status)
	}
}

func TestServer_latency(t *testing.T) {
	t.Parallel()
	s := New(t)
	s.SetLatency(time.Second)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", s.URL+"/directories", nil)
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	res, err := http.DefaultClient.Do(req)
	if err == nil {
		res.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want a deadline error", err)
	}
}
