package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// logBuffer collects log output from concurrent writers.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// lines returns the JSON lines written since offset, and the new offset.
func (b *logBuffer) lines(t *testing.T, offset int) ([]map[string]any, int) {
	t.Helper()
	b.mu.Lock()
	raw := append([]byte(nil), b.buf.Bytes()[offset:]...)
	b.mu.Unlock()
	var out []map[string]any
	for line := range strings.SplitSeq(strings.TrimSpace(string(raw)), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, line)
		}
		m["_line"] = line
		out = append(out, m)
	}
	return out, offset + len(raw)
}

// startLogged is startInstance with the logger the serve command builds
// (newLogger), writing to w; its appliers do not run.
func startLogged(t *testing.T, cfg *config.Config, w io.Writer) *testInstance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	svc, err := newService(ctx, cfg, newLogger(cfg, w))
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.echo)
	var wg sync.WaitGroup
	wg.Go(func() { svc.runInbox(ctx) })
	t.Cleanup(func() {
		srv.Close()
		cancel()
		wg.Wait()
		_ = svc.store.Close()
	})
	return &testInstance{instance: svc, url: srv.URL}
}

var emailPattern = regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}`)

func TestLogs(t *testing.T) {
	t.Parallel()
	const apiKey = "sk_test_logs_0123456789abcdefghij"
	cfg := testConfig(t, storetest.Options(t, "sqlite"), "SEATSYNC_LOG_FORMAT=json", "SEATSYNC_LOG_LEVEL=debug",
		"SEATSYNC_WORKOS_API_KEY="+apiKey, "SEATSYNC_WORKOS_ENDPOINT=http://127.0.0.1:1")
	var logs logBuffer
	ti := startLogged(t, cfg, &logs)
	o := newObserved("L")
	o.setup(t, ti)
	_, offset := logs.lines(t, 0) // start-up lines are not about a request

	// Phase 1: requests only. Every line written now belongs to one.
	secrets := []string{testSecret, testJWTSecret, apiKey}
	now := time.Now()
	var ids []string
	for _, d := range []struct {
		body []byte
		sig  string
	}{
		{o.activated, webhooks.Sign(testSecret, now, o.activated)},
		{o.user, webhooks.Sign(testSecret, now, o.user)},
		{o.user, webhooks.Sign(testSecret, now, o.user)},
		{o.poisoned, webhooks.Sign(testSecret, now, o.poisoned)},
		{o.other, webhooks.Sign(testSecret, now, o.other)},
		{o.user, webhooks.Sign("whsec_not_ours_0123456789", now, o.user)},
		{o.user, webhooks.Sign(testSecret, now.Add(-time.Hour), o.user)},
		{[]byte(`{"id": "event_L_x", "event": "dsync.user.created", "data": {"email": "mallory@evil.example.com"}}`), "t=1, v1=zz"},
	} {
		_, id := post(t, ti.url, d.body, d.sig)
		ids = append(ids, id)
		if d.sig != "" {
			secrets = append(secrets, d.sig)
		}
	}
	tok, err := auth.Mint(testJWTSecret, auth.Principal{Email: "billing@service.example.com", Service: true}, time.Hour, time.Now(), "", "")
	if err != nil {
		t.Fatal(err)
	}
	secrets = append(secrets, tok)
	for _, bearer := range []string{tok, tok[:len(tok)-4] + "AAAA"} {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, ti.url+"/api/v1/plans/"+o.planID, nil)
		req.Header.Set("Authorization", "Bearer "+bearer)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_ = res.Body.Close()
		ids = append(ids, res.Header.Get("X-Request-Id"))
	}
	requestLines, offset := logs.lines(t, offset)
	perID := map[string]int{}
	for _, l := range requestLines {
		id, _ := l["request_id"].(string)
		if id == "" {
			t.Errorf("a line of a request without request_id: %s", l["_line"])
		}
		perID[id]++
	}
	for i, id := range ids[:8] {
		// The access log and the webhook handler's own line.
		if perID[id] < 2 {
			t.Errorf("delivery %d (request %s): %d lines carry its request_id, want the access line and the handler's", i, id, perID[id])
		}
	}
	assertEventLines(t, requestLines, o, false)

	// Phase 2: the applier, outside any request.
	if err := ti.applier.Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	applierLines, _ := logs.lines(t, offset)
	if len(applierLines) < 3 {
		t.Fatalf("applier wrote %d lines, want one per event at debug level", len(applierLines))
	}
	assertEventLines(t, applierLines, o, true)

	for _, l := range append(requestLines, applierLines...) {
		line := l["_line"].(string)
		for _, s := range secrets {
			if strings.Contains(line, s) {
				t.Errorf("log line carries a secret (%.12s…): %s", s, line)
			}
		}
		if m := emailPattern.FindString(line); m != "" {
			t.Errorf("log line carries the email %q: %s", m, line)
		}
	}
}

// assertEventLines checks the lines about one event: event_id always, and the
// directory; the plan too once the applier has linked it (linked).
func assertEventLines(t *testing.T, lines []map[string]any, o observed, linked bool) {
	t.Helper()
	n := 0
	for _, l := range lines {
		msg, _ := l["msg"].(string)
		if _, ok := l["event_id"]; !ok && !strings.HasPrefix(msg, "event ") && msg != "webhook received" {
			continue
		}
		n++
		if id, _ := l["event_id"].(string); id == "" {
			t.Errorf("event line without event_id: %s", l["_line"])
		}
		if l["event_type"] == "connection.activated" {
			continue // an event about no directory
		}
		if l["directory_id"] != o.dirID {
			t.Errorf("event line with directory_id %v, want %s: %s", l["directory_id"], o.dirID, l["_line"])
		}
		if linked && l["plan_id"] != o.planID {
			t.Errorf("event line with plan_id %v, want %s: %s", l["plan_id"], o.planID, l["_line"])
		}
	}
	if n == 0 {
		t.Error("no line about an event")
	}
}

func TestNewLogger(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		env, format string
		json        bool
	}{
		{config.EnvDev, "", false},
		{config.EnvProduction, "", true},
		{config.EnvDev, "json", true},
		{config.EnvProduction, "text", false},
	} {
		cfg := &config.Config{Env: tt.env}
		cfg.Log.Level, cfg.Log.Format = "info", tt.format
		var buf bytes.Buffer
		newLogger(cfg, &buf).Info("hello", "event_id", "event_1")
		if got := json.Valid(bytes.TrimSpace(buf.Bytes())); got != tt.json {
			t.Errorf("env %s, log.format %q: JSON = %v, want %v: %s", tt.env, tt.format, got, tt.json, buf.String())
		}
	}
}
