package workossim

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seatsync/seatsync/webhooks"
)

const secret = "whsec_sim_test"

func event(id string) []byte {
	return fmt.Appendf(nil, `{"id":%q,"event":"dsync.user.created","data":{},"created_at":"2026-01-05T09:00:00Z"}`, id)
}

// endpoint verifies signatures like seatsync and answers with status(n) for
// the n-th request (0-based); it records each signature's timestamp.
type endpoint struct {
	status func(n int) int
	delay  func(n int) time.Duration
	mu     sync.Mutex
	n      int
	stamps []string
}

func (e *endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	v, _ := webhooks.NewVerifier([]string{secret}, time.Minute, time.Now)
	if err := v.Verify(r.Header.Get(webhooks.SignatureHeader), body); err != nil {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	sig, _ := webhooks.ParseSignatureHeader(r.Header.Get(webhooks.SignatureHeader))
	e.mu.Lock()
	n := e.n
	e.n++
	e.stamps = append(e.stamps, sig.T)
	e.mu.Unlock()
	if e.delay != nil {
		select {
		case <-time.After(e.delay(n)):
		case <-r.Context().Done():
			return
		}
	}
	st := e.status(n)
	if st == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "5")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(st)
		_, _ = io.WriteString(w, `{"error":{"code":"database_unavailable","message":"x"}}`)
		return
	}
	w.WriteHeader(st)
}

func TestDeliverRetriesUntilAcknowledged(t *testing.T) {
	t.Parallel()
	statuses := []int{503, 500, 401, 200}
	ep := &endpoint{status: func(n int) int { return statuses[min(n, 3)] }}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	var clock atomic.Int64
	s := New(secret, srv.URL)
	// Each attempt is signed at its own time: a retry never replays an old signature.
	s.Now = func() time.Time { return time.Now().Add(time.Duration(clock.Add(1)) * time.Millisecond) }
	if err := s.Deliver(t.Context(), event("event_1")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	if got := s.Acknowledged(); got["event_1"] != 1 || len(got) != 1 {
		t.Errorf("acknowledged = %v", got)
	}
	as := s.Attempts()
	if len(as) != 4 || as[0].Status != 503 || as[0].RetryAfter != "5" || as[0].Code != "database_unavailable" || as[3].Status != 200 {
		t.Fatalf("attempts = %+v", as)
	}
	seen := map[string]bool{}
	for _, st := range ep.stamps {
		if seen[st] {
			t.Errorf("signature timestamp %s reused across attempts: %v", st, ep.stamps)
		}
		seen[st] = true
	}
	// Back-off grows: the third wait is longer than the first's lower bound.
	if gap := as[3].Start.Sub(as[2].Start); gap < s.MinBackoff {
		t.Errorf("gap between attempts 3 and 4 = %v, want ≥ %v", gap, s.MinBackoff)
	}
}

func TestDeliverRetriesTimeouts(t *testing.T) {
	t.Parallel()
	ep := &endpoint{status: func(int) int { return 200 }, delay: func(n int) time.Duration {
		if n == 0 {
			return time.Second
		}
		return 0
	}}
	srv := httptest.NewServer(ep)
	defer srv.Close()
	s := New(secret, srv.URL)
	s.AttemptTimeout = 100 * time.Millisecond
	if err := s.Deliver(t.Context(), event("event_slow")); err != nil {
		t.Fatalf("Deliver: %v", err)
	}
	as := s.Attempts()
	if len(as) != 2 || !errors.Is(as[0].Err, context.DeadlineExceeded) || as[1].Status != 200 {
		t.Fatalf("attempts = %+v, want a timeout then 200", as)
	}
}

func TestDeliverGivesUp(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(&endpoint{status: func(int) int { return 503 }})
	defer srv.Close()
	s := New(secret, srv.URL)
	s.GiveUpAfter = 200 * time.Millisecond
	s.MaxBackoff = 40 * time.Millisecond
	err := s.Deliver(t.Context(), event("event_never"))
	if !errors.Is(err, ErrGaveUp) {
		t.Fatalf("Deliver err = %v, want ErrGaveUp", err)
	}
	if u := s.Unacknowledged(); u["event_never"] == nil || s.AckCount() != 0 {
		t.Errorf("unacknowledged = %v, acknowledged %d", u, s.AckCount())
	}
	if n := len(s.Attempts()); n < 3 {
		t.Errorf("%d attempts in 200 ms with back-off ≤ 40 ms, want several", n)
	}
}

func TestDeliverFailsOverToTheNextURL(t *testing.T) {
	t.Parallel()
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close() // connection refused
	ep := &endpoint{status: func(int) int { return 200 }}
	live := httptest.NewServer(ep)
	defer live.Close()
	s := New(secret, deadURL, live.URL)
	bodies := [][]byte{event("a"), event("b"), event("c"), event("b")}
	s.DeliverAll(t.Context(), bodies, 3)
	if got := s.Acknowledged(); got["a"] != 1 || got["b"] != 2 || got["c"] != 1 {
		t.Errorf("acknowledged = %v, want a, c once and b twice", got)
	}
	for _, a := range s.Attempts() {
		if (a.N%2 == 0) != (a.URL == deadURL) {
			t.Errorf("attempt %d went to %s", a.N, a.URL)
		}
		if a.URL == deadURL && a.Err == nil {
			t.Errorf("attempt to a closed server succeeded: %+v", a)
		}
	}
}
