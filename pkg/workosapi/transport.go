package workosapi

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// Back-off bounds. WorkOS asks clients to back off on 429 and 5xx (reference
// §11.1, §11.3); the v4 SDK never retries (§11.5), so every retry lives here.
const (
	defaultMaxRetries     = 5
	defaultAttemptTimeout = 30 * time.Second
	backoffBase           = 200 * time.Millisecond
	backoffCap            = 10 * time.Second
	retryAfterCap         = 60 * time.Second
)

// retryTransport retries 429, 500, 502, 503, 504 and network errors with
// exponential back-off and jitter, honouring Retry-After. Every SDK client and
// the direct Events API call go through it.
type retryTransport struct {
	base       http.RoundTripper
	maxRetries int
	timeout    time.Duration
	sleep      func(context.Context, time.Duration) error
	log        *slog.Logger
	requests   *atomic.Int64
	obs        Observer
	prefix     string // the endpoint URL's path, cut from endpoint labels
}

func newRetryTransport(base http.RoundTripper, opts Options, log *slog.Logger) *retryTransport {
	t := &retryTransport{base: base, maxRetries: opts.MaxRetries, sleep: opts.Sleep, log: log, requests: new(atomic.Int64),
		obs: opts.Observer, prefix: endpointPrefix(opts.Endpoint)}
	if t.obs == nil {
		t.obs = nopObserver{}
	}
	if t.base == nil {
		t.base = http.DefaultTransport
	}
	switch {
	case t.maxRetries == 0:
		t.maxRetries = defaultMaxRetries
	case t.maxRetries < 0:
		t.maxRetries = 0
	}
	t.timeout = defaultAttemptTimeout
	if opts.HTTPClient != nil && opts.HTTPClient.Timeout > 0 {
		t.timeout = opts.HTTPClient.Timeout
	}
	if t.sleep == nil {
		t.sleep = sleepCtx
	}
	return t
}

// RoundTrip sends req, retrying as described on retryTransport. After the last
// attempt it returns the last response (so the SDK builds its HTTPError from
// it) or the last network error.
func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	// A body that cannot be rebuilt can be sent only once.
	maxRetries := t.maxRetries
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		maxRetries = 0
	}
	for attempt := 0; ; attempt++ {
		res, err := t.attempt(req, attempt)
		if !retryable(res, err) || attempt >= maxRetries || ctx.Err() != nil {
			return res, err
		}
		wait := backoff(attempt, res)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// Waiting would outlive the caller; report the real cause now
			// instead of a deadline error later.
			return res, err
		}
		status := 0
		if res != nil {
			status = res.StatusCode
			_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10)) // lets the connection be reused
			_ = res.Body.Close()
		}
		// Only method, path, status and cause: never headers, so never the API key.
		t.log.DebugContext(ctx, "workos request retry", "method", req.Method, "path", req.URL.Path,
			"status", status, "err", err, "attempt", attempt+1, "wait", wait)
		if serr := t.sleep(ctx, wait); serr != nil {
			return nil, serr
		}
	}
}

// attempt sends one copy of req under the per-attempt timeout.
func (t *retryTransport) attempt(req *http.Request, n int) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), t.timeout)
	r := req.Clone(ctx)
	if n > 0 && req.GetBody != nil {
		// The previous attempt consumed the body; POSTs built by the SDK and by
		// http.NewRequest over a bytes reader can make a fresh one.
		body, err := req.GetBody()
		if err != nil {
			cancel()
			return nil, err
		}
		r.Body = body
	}
	t.requests.Add(1)
	for _, n := range counters(req.Context()) {
		n.Add(1)
	}
	res, err := t.base.RoundTrip(r)
	if err != nil {
		cancel()
		t.obs.WorkOSRequest(req.Method, endpointTemplate(t.prefix, req.URL.Path), "error")
		return nil, err
	}
	t.obs.WorkOSRequest(req.Method, endpointTemplate(t.prefix, req.URL.Path), strconv.Itoa(res.StatusCode))
	// The attempt's context must live until the caller has read the body.
	res.Body = &cancelOnClose{ReadCloser: res.Body, cancel: cancel}
	return res, nil
}

type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

func retryable(res *http.Response, err error) bool {
	if err != nil {
		return true
	}
	switch res.StatusCode {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// backoff is Retry-After when the response carries one (integer seconds or an
// HTTP date, capped), else base·2^attempt capped, with "equal jitter": half
// fixed, half random, so concurrent clients spread out but never retry at once.
func backoff(attempt int, res *http.Response) time.Duration {
	if res != nil {
		if d, ok := retryAfter(res.Header.Get("Retry-After")); ok {
			return d
		}
	}
	d := backoffBase << min(attempt, 16)
	d = min(d, backoffCap)
	return d/2 + rand.N(d/2+1)
}

func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if at, err := http.ParseTime(v); err == nil {
		d = time.Until(at)
	} else {
		return 0, false
	}
	if d <= 0 {
		return 0, false // "retry now" still gets the ordinary back-off
	}
	return min(d, retryAfterCap), true
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
