// Package workossim delivers webhooks the way WorkOS does, for tests: each
// attempt is signed with a fresh timestamp, non-2xx answers and timeouts are
// retried with exponential back-off (compressed from WorkOS's hours to
// milliseconds), and the sender records which events were acknowledged, so a
// test can check that every one of them was applied exactly once.
package workossim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seatsync/seatsync/webhooks"
)

// Sender delivers signed events to one or more webhook URLs. Set its fields
// before the first Deliver; its methods are safe for concurrent use.
type Sender struct {
	// URLs are tried in turn, one per attempt (attempt n goes to
	// URLs[n % len(URLs)]), like WorkOS behind a load balancer.
	URLs   []string
	Secret string
	// Client sends the requests; nil means a client with keep-alive
	// connections for 64 concurrent deliveries.
	Client *http.Client
	// AttemptTimeout bounds each attempt (default 5 s): a slower answer
	// counts as a timeout and is retried.
	AttemptTimeout time.Duration
	// MinBackoff and MaxBackoff bound the wait between attempts, doubling from
	// the first to the second (defaults 20 ms and 1 s, with jitter).
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter ends the retries of one event (default 2 minutes); the
	// event is then recorded as unacknowledged.
	GiveUpAfter time.Duration
	// Now signs each attempt; default time.Now.
	Now func() time.Time

	once     sync.Once
	mu       sync.Mutex
	acked    map[string]int
	unacked  map[string]error
	attempts []Attempt
}

// Attempt is one HTTP request the sender made.
type Attempt struct {
	EventID string
	N       int // 0 for the first attempt of a delivery
	URL     string
	Start   time.Time
	Latency time.Duration // from Start to the answer or the error
	// Sent is when the request was written, after any wait for a connection;
	// zero when it never was.
	Sent       time.Time
	Status     int    // 0 when the request got no answer
	Code       string // the error code of a JSON error body, if any
	RetryAfter string
	Err        error // transport error or timeout
}

// New returns a Sender with the defaults.
func New(secret string, urls ...string) *Sender {
	return &Sender{URLs: urls, Secret: secret}
}

func (s *Sender) init() {
	s.once.Do(func() {
		if s.Client == nil {
			s.Client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 30 * time.Second}}
		}
		if s.AttemptTimeout <= 0 {
			s.AttemptTimeout = 5 * time.Second
		}
		if s.MinBackoff <= 0 {
			s.MinBackoff = 20 * time.Millisecond
		}
		if s.MaxBackoff < s.MinBackoff {
			s.MaxBackoff = max(time.Second, s.MinBackoff)
		}
		if s.GiveUpAfter <= 0 {
			s.GiveUpAfter = 2 * time.Minute
		}
		if s.Now == nil {
			s.Now = time.Now
		}
		s.acked = map[string]int{}
		s.unacked = map[string]error{}
	})
}

// ErrGaveUp wraps the last failure of a delivery that was never acknowledged.
var ErrGaveUp = errors.New("workossim: gave up")

// Deliver sends body until a 2xx answer acknowledges it, the retry bound
// passes, or ctx ends. It returns nil when the event was acknowledged; else
// the event is recorded as unacknowledged with the error returned.
func (s *Sender) Deliver(ctx context.Context, body []byte) error {
	s.init()
	var env struct {
		ID string `json:"id"`
	}
	_ = json.Unmarshal(body, &env) // a body without an id is still sent, as a hostile input
	giveUp := time.Now().Add(s.GiveUpAfter)
	wait := s.MinBackoff
	var last error
	for n := 0; ; n++ {
		a := s.attempt(ctx, env.ID, n, body)
		s.mu.Lock()
		s.attempts = append(s.attempts, a)
		s.mu.Unlock()
		if a.Err == nil && a.Status/100 == 2 {
			s.mu.Lock()
			s.acked[env.ID]++
			delete(s.unacked, env.ID)
			s.mu.Unlock()
			return nil
		}
		last = a.Err
		if last == nil {
			last = fmt.Errorf("HTTP %d %s", a.Status, a.Code)
		}
		// Equal jitter: half fixed, half random, so retries spread out.
		d := wait/2 + rand.N(wait/2+1)
		wait = min(wait*2, s.MaxBackoff)
		if ctx.Err() != nil || time.Now().Add(d).After(giveUp) {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(d):
		}
	}
	err := fmt.Errorf("%w delivering %s: %w", ErrGaveUp, env.ID, last)
	s.mu.Lock()
	if s.acked[env.ID] == 0 {
		s.unacked[env.ID] = err
	}
	s.mu.Unlock()
	return err
}

func (s *Sender) attempt(ctx context.Context, id string, n int, body []byte) Attempt {
	url := s.URLs[n%len(s.URLs)]
	a := Attempt{EventID: id, N: n, URL: url, Start: time.Now()}
	actx, cancel := context.WithTimeout(ctx, s.AttemptTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		a.Err = err
		return a
	}
	// The transport calls WroteRequest on a goroutine of its own.
	var sent atomic.Pointer[time.Time]
	req = req.WithContext(httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { now := time.Now(); sent.Store(&now) },
	}))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(s.Secret, s.Now(), body))
	res, err := s.Client.Do(req)
	if at := sent.Load(); at != nil {
		a.Sent = *at
	}
	if err != nil {
		a.Latency, a.Err = time.Since(a.Start), err
		return a
	}
	b, rerr := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	a.Latency, a.Status, a.RetryAfter = time.Since(a.Start), res.StatusCode, res.Header.Get("Retry-After")
	if rerr != nil {
		// The status arrived but the body did not: not an acknowledgement.
		a.Err = rerr
		return a
	}
	var e struct {
		Error struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if json.Unmarshal(b, &e) == nil {
		a.Code = e.Error.Code
	}
	return a
}

// Answer is the time from writing the request to its answer (or error): the
// server's share of Latency, without the wait for a connection.
func (a Attempt) Answer() time.Duration {
	if a.Sent.IsZero() {
		return a.Latency
	}
	return a.Start.Add(a.Latency).Sub(a.Sent)
}

// DeliverAll delivers bodies with `concurrency` concurrent deliveries, in
// order of the slice, and returns when every delivery has ended.
func (s *Sender) DeliverAll(ctx context.Context, bodies [][]byte, concurrency int) {
	work := make(chan []byte)
	var wg sync.WaitGroup
	for range max(concurrency, 1) {
		wg.Go(func() {
			for b := range work {
				_ = s.Deliver(ctx, b)
			}
		})
	}
	for _, b := range bodies {
		work <- b
	}
	close(work)
	wg.Wait()
}

// Acknowledged returns how many times each acknowledged event id was
// acknowledged (more than once when a test delivers duplicates).
func (s *Sender) Acknowledged() map[string]int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.acked)
}

// AckCount is the number of distinct acknowledged event ids.
func (s *Sender) AckCount() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.acked)
}

// Unacknowledged returns the events the sender gave up on, with the last failure.
func (s *Sender) Unacknowledged() map[string]error {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.unacked)
}

// Attempts returns every attempt so far, in the order they ended.
func (s *Sender) Attempts() []Attempt {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Attempt(nil), s.attempts...)
}
