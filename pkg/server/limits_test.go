package server_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// TestAPIRateLimit: each token subject has its own bucket. With a burst of
// three and one new request per 100 s, the fourth request of a subject is 429
// with Retry-After, whichever of its tokens it uses, while another subject,
// the service and the webhook are unaffected.
func TestAPIRateLimit(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, "sqlite")
	av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	hv, err := webhooks.NewVerifier([]string{hookSecret}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := server.New(server.Deps{Store: st, Applier: applier.New(st, applier.Options{Rules: rules}), Auth: av, Rules: rules,
		Webhooks: webhooks.NewHandler(hv, st, maxBody, nil), APIRate: 0.01, APIBurst: 3})
	seed(t, e) // three service requests: the service's bucket is now empty

	status := "/api/v1/plans/" + planID
	admin := asAdmin(t, adminEmail)
	for range 3 {
		scenario{path: status, headers: admin, status: http.StatusOK}.do(t, e)
	}
	limited := scenario{path: status, headers: admin, status: http.StatusTooManyRequests, code: "rate_limited",
		respHeaders: map[string]string{"Retry-After": "100"}}
	limited.do(t, e)
	// A fresh token of the same admin shares the bucket: the limit is per subject.
	limited.headers = asAdmin(t, adminEmail)
	limited.do(t, e)
	limited.headers = asService(t)
	limited.do(t, e)

	// Another admin has a bucket of its own.
	scenario{path: "/api/v1/plans/" + otherPlan, headers: asAdmin(t, otherAdmin), status: http.StatusOK}.do(t, e)
	// Requests without a valid token are refused before any bucket.
	scenario{path: status, status: http.StatusUnauthorized, code: "missing_token"}.do(t, e)
	// The webhook is not rate limited.
	for i := range 10 {
		_, body := userEvent(fmt.Sprintf("directory_user_r%d", i), fmt.Sprintf("r%d@acme.test", i), 1)
		deliver(t, e, body, webhooks.StatusAccepted)
	}
}

// slowInbox holds every PutInbox until release is closed, so requests stay in flight.
type slowInbox struct {
	entered chan struct{}
	release chan struct{}
}

func (s *slowInbox) PutInbox(ctx context.Context, _ membership.InboxEvent) (bool, error) {
	s.entered <- struct{}{}
	select {
	case <-s.release:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

// TestWebhookInFlightBound fills the webhook's in-flight slots with deliveries
// held by a slow inbox: the next delivery is refused at once with 503
// overloaded and Retry-After, and once the held ones finish a slot is free again.
func TestWebhookInFlightBound(t *testing.T) {
	t.Parallel()
	hv, err := webhooks.NewVerifier([]string{hookSecret}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	const slots = 3
	inbox := &slowInbox{entered: make(chan struct{}, slots+1), release: make(chan struct{})}
	e := server.New(server.Deps{Webhooks: webhooks.NewHandler(hv, inbox, maxBody, nil), WebhookMaxInFlight: slots})

	post := func(i int) *httptest.ResponseRecorder {
		_, body := userEvent(fmt.Sprintf("directory_user_f%d", i), fmt.Sprintf("f%d@acme.test", i), 1)
		req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, "/webhooks/workos", strings.NewReader(body))
		req.Header.Set(webhooks.SignatureHeader, signature(body, hookSecret, time.Now()))
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		return rec
	}
	var held sync.WaitGroup
	codes := make([]int, slots)
	for i := range slots {
		held.Go(func() { codes[i] = post(i).Code })
	}
	for range slots {
		select {
		case <-inbox.entered:
		case <-time.After(10 * time.Second):
			t.Fatal("deliveries did not reach the inbox")
		}
	}

	start := time.Now()
	rec := post(slots)
	if took := time.Since(start); took > time.Second {
		t.Errorf("refused delivery took %v; it must not wait for a slot", took)
	}
	if rec.Code != http.StatusServiceUnavailable || errorCode(t, rec) != "overloaded" || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("delivery beyond the bound = %d %s (Retry-After %q); want 503 overloaded with Retry-After",
			rec.Code, rec.Body, rec.Header().Get("Retry-After"))
	}

	close(inbox.release)
	held.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("held delivery %d = %d, want 200", i, c)
		}
	}
	if rec := post(slots + 1); rec.Code != http.StatusOK {
		t.Fatalf("delivery after the held ones finished = %d %s, want 200", rec.Code, rec.Body)
	}
}

// TestSecurityHeaders: API answers, errors included, are never cached or
// sniffed; Strict-Transport-Security only when the deployment asks for it.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, "sqlite")
	av, err := auth.NewVerifier(t.Context(), auth.Options{HS256Secret: jwtSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, hsts := range []bool{false, true} {
		t.Run(fmt.Sprint("hsts=", hsts), func(t *testing.T) {
			e := server.New(server.Deps{Store: st, Applier: applier.New(st, applier.Options{Rules: rules}), Auth: av, Rules: rules, HSTS: hsts})
			api := map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
			for _, sc := range []scenario{
				{name: "API answer", path: "/api/v1/events", headers: asService(t), status: http.StatusOK, respHeaders: api},
				{name: "API error", path: "/api/v1/events", status: http.StatusUnauthorized, respHeaders: api},
				{name: "API 404", path: "/api/v1/nope", status: http.StatusNotFound, respHeaders: api},
				{name: "health", path: "/healthz", status: http.StatusOK, respHeaders: map[string]string{"X-Content-Type-Options": "nosniff"}},
			} {
				rec := sc.do(t, e)
				if got := rec.Header().Get("Strict-Transport-Security"); (got != "") != hsts {
					t.Errorf("%s: Strict-Transport-Security = %q with HSTS %v", sc.name, got, hsts)
				}
			}
		})
	}
}
