package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seatsync/seatsync/webhooks"
)

// benchSender delivers a stream as WorkOS does: each attempt freshly signed,
// non-2xx answers and timeouts retried with backoff.
type benchSender struct {
	url, secret string
	senders     int
	attempts    int
	timeout     time.Duration // of one request
	progress    io.Writer
}

// sendTally is what one sender saw; tallies are merged after the run.
type sendTally struct {
	latencies                    []time.Duration // of every acknowledged request
	accepted, duplicate, ignored int
	retries, undelivered         int
	errors                       map[string]int // by status code, or "timeout"/"transport"
	lastErr                      string
}

func (t *sendTally) merge(o *sendTally) {
	t.latencies = append(t.latencies, o.latencies...)
	t.accepted, t.duplicate, t.ignored = t.accepted+o.accepted, t.duplicate+o.duplicate, t.ignored+o.ignored
	t.retries, t.undelivered = t.retries+o.retries, t.undelivered+o.undelivered
	for k, v := range o.errors {
		t.errors[k] += v
	}
	if o.lastErr != "" {
		t.lastErr = o.lastErr
	}
}

// errBenchRefused stops a run: the server refuses events for a reason that
// retrying will not change (a wrong secret answers 401 to every event).
var errBenchRefused = errors.New("bench: the server refuses events")

// send delivers every event of s.order and reports which distinct events were acknowledged.
func (b *benchSender) send(ctx context.Context, s *benchStream) (*sendTally, []bool, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	client := &http.Client{Timeout: b.timeout, Transport: &http.Transport{MaxIdleConns: b.senders,
		MaxIdleConnsPerHost: b.senders, MaxConnsPerHost: b.senders, IdleConnTimeout: 90 * time.Second}}
	defer client.CloseIdleConnections()
	acked := make([]atomic.Bool, len(s.bodies))
	var next, done atomic.Int64
	tallies := make([]*sendTally, b.senders)
	var wg sync.WaitGroup
	for w := range b.senders {
		t := &sendTally{errors: map[string]int{}, latencies: make([]time.Duration, 0, len(s.order)/b.senders+1)}
		tallies[w] = t
		wg.Go(func() {
			for ctx.Err() == nil {
				i := next.Add(1) - 1
				if i >= int64(len(s.order)) {
					return
				}
				ev := s.order[i]
				if b.deliver(ctx, client, s.bodies[ev], t) {
					acked[ev].Store(true)
				} else if t.lastErr != "" && t.lastErr[0] == '4' && ctx.Err() == nil {
					cancel(fmt.Errorf("%w: %s", errBenchRefused, t.lastErr))
				}
				done.Add(1)
			}
		})
	}
	stop := make(chan struct{})
	go b.report(stop, &done, len(s.order))
	wg.Wait()
	close(stop)
	total := &sendTally{errors: map[string]int{}}
	for _, t := range tallies {
		total.merge(t)
	}
	ok := make([]bool, len(acked))
	for i := range acked {
		ok[i] = acked[i].Load()
	}
	return total, ok, context.Cause(ctx)
}

func (b *benchSender) report(stop <-chan struct{}, done *atomic.Int64, total int) {
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
			fmt.Fprintf(b.progress, "bench: sent %d/%d\n", done.Load(), total)
		}
	}
}

// deliver posts one event until it is acknowledged or the attempts run out.
func (b *benchSender) deliver(ctx context.Context, client *http.Client, body []byte, t *sendTally) bool {
	backoff := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		start := time.Now()
		code, status, wait, err := b.post(ctx, client, body)
		switch {
		case err == nil && code/100 == 2:
			t.latencies = append(t.latencies, time.Since(start))
			switch status {
			case webhooks.StatusDuplicate:
				t.duplicate++
			case webhooks.StatusIgnored:
				t.ignored++
			default:
				t.accepted++
			}
			return true
		case ctx.Err() != nil:
			return false
		case err != nil:
			key := "transport"
			if errors.Is(err, context.DeadlineExceeded) || isTimeout(err) {
				key = "timeout"
			}
			t.errors[key]++
			t.lastErr = key + ": " + err.Error()
		default:
			t.errors[strconv.Itoa(code)]++
			t.lastErr = fmt.Sprintf("%d %s", code, status)
		}
		if attempt >= b.attempts {
			t.undelivered++
			return false
		}
		t.retries++
		d := max(backoff/2+rand.N(backoff/2+1), wait)
		backoff = min(2*backoff, 5*time.Second)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(min(d, 5*time.Second)):
		}
	}
}

// post sends one signed attempt; it returns the status code, the receipt
// status (or error code) and the server's Retry-After.
func (b *benchSender) post(ctx context.Context, client *http.Client, body []byte) (int, string, time.Duration, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.url, bytes.NewReader(body))
	if err != nil {
		return 0, "", 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(b.secret, time.Now(), body))
	res, err := client.Do(req)
	if err != nil {
		return 0, "", 0, err
	}
	defer res.Body.Close()
	reply, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
	var r struct {
		Status string `json:"status"`
		Error  struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(reply, &r)
	var wait time.Duration
	if s, err := strconv.Atoi(res.Header.Get("Retry-After")); err == nil {
		wait = time.Duration(s) * time.Second
	}
	if r.Status == "" {
		r.Status = r.Error.Code
	}
	return res.StatusCode, r.Status, wait, nil
}

func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
