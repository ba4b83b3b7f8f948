package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/webhooks"
)

const (
	testSecret    = "whsec_test_0123456789abcdef"
	testJWTSecret = "test-jwt-secret-0123456789abcdef0123456789"
)

// testConfig returns a configuration for a test instance over opts' database.
func testConfig(t testing.TB, opts store.Options, extra ...string) *config.Config {
	t.Helper()
	environ := []string{
		"SEATSYNC_DATABASE_DRIVER=" + opts.Driver, "SEATSYNC_DATABASE_PATH=" + opts.Path, "SEATSYNC_DATABASE_URL=" + opts.URL,
		"SEATSYNC_WEBHOOKS_SECRETS=" + testSecret, "SEATSYNC_AUTH_JWT_SECRET=" + testJWTSecret,
		"SEATSYNC_SEATS_CUTOVER_GRACE=0s", "SEATSYNC_LISTEN=127.0.0.1:0", "SEATSYNC_LOG_LEVEL=warn",
		// Test setups add plans and seats with one service token faster than
		// http.api_rate allows; pkg/server tests the limit itself.
		"SEATSYNC_HTTP_API_RATE=0",
	}
	cfg, err := config.LoadFrom("", append(environ, extra...))
	if err != nil {
		t.Fatalf("config: %v", err)
	}
	return cfg
}

// testInstance is one running seatsync: HTTP on loopback and its appliers.
type testInstance struct {
	*instance
	url string
}

// startInstance runs a seatsync instance until the test ends; with
// background false its appliers do not run and the test drains by hand.
func startInstance(t testing.TB, cfg *config.Config, background bool) *testInstance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := newService(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		cancel()
		t.Fatalf("start instance: %v", err)
	}
	srv := httptest.NewServer(svc.echo)
	var wg sync.WaitGroup
	wg.Go(func() { svc.runInbox(ctx) })
	if background {
		wg.Go(func() { svc.applier.Run(ctx) })
	}
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wg.Wait()
		_ = svc.store.Close()
	})
	return &testInstance{instance: svc, url: srv.URL}
}

// deliver signs body as WorkOS does and posts it; it returns the status.
func deliver(t testing.TB, client *http.Client, url string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/webhooks/workos", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(testSecret, time.Now(), body))
	res, err := client.Do(req)
	if err != nil {
		t.Errorf("deliver: %v", err)
		return 0
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	return res.StatusCode
}

// apiCall sends an admin API request with a service token and decodes the answer into out.
func (ti *testInstance) apiCall(t testing.TB, method, path string, body, out any) int {
	t.Helper()
	tok, err := auth.Mint(testJWTSecret, auth.Principal{Email: "billing@service", Service: true}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if body != nil {
		_ = json.NewEncoder(&buf).Encode(body)
	}
	req, _ := http.NewRequest(method, ti.url+path, &buf)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	if out != nil {
		_ = json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode
}

// settle waits until no event is pending in the store, then drains once more.
func settle(t testing.TB, ti *testInstance) {
	t.Helper()
	// Generous: a shared 2-core machine under -race applies slowly.
	deadline := time.Now().Add(6 * time.Minute)
	for time.Now().Before(deadline) {
		counts, err := ti.store.InboxCounts(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if counts["pending"] == 0 {
			if err := ti.applier.Drain(context.Background()); err != nil {
				t.Fatal(err)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("events still pending after 6 minutes")
}
