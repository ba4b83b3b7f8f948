package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/seatsync/seatsync/pkg/server"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

// latencies is a server.HTTPObserver that remembers the labels it heard.
type latencies struct {
	mu   sync.Mutex
	seen []string
}

func (l *latencies) HTTPRequest(method, route string, status int, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seen = append(l.seen, method+" "+route+" "+http.StatusText(status))
}

func TestMetricsRoute(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, "sqlite")
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "seatsync_test_total", Help: "A test counter."})
	reg.MustRegister(c)
	c.Add(3)
	obs := &latencies{}
	e := server.New(server.Deps{Store: st, Metrics: obs, Gatherer: reg})
	run(t, e, []scenario{
		{name: "metrics", path: "/metrics", status: http.StatusOK, contains: []string{"seatsync_test_total 3"}},
		{name: "a route with an id", path: "/api/v1/plans/plan_secret_id", status: http.StatusServiceUnavailable},
		{name: "no route", path: "/wp-login.php", status: http.StatusNotFound},
	})
	// Route templates, never raw paths; no route at all is "" (metrics.HTTPRequest calls it "unmatched").
	want := []string{"GET /metrics OK", "GET /api/v1/plans/:plan_id Service Unavailable", "GET  Not Found"}
	if !slices.Equal(obs.seen, want) {
		t.Errorf("observer heard %q, want %q", obs.seen, want)
	}

	none := server.New(server.Deps{Store: st})
	run(t, none, []scenario{{name: "no gatherer, no route", path: "/metrics", status: http.StatusNotFound}})
}

// TestRequestLogs: with LogHandler, every line written while serving a
// request, by the server or by a handler's own logger, carries that
// request's id, once.
func TestRequestLogs(t *testing.T) {
	t.Parallel()
	st := storetest.Open(t, "sqlite")
	var buf bytes.Buffer
	log := slog.New(server.LogHandler(slog.NewJSONHandler(&buf, nil)))
	hv, err := webhooks.NewVerifier([]string{hookSecret}, 0, nil)
	if err != nil {
		t.Fatal(err)
	}
	e := server.New(server.Deps{Store: st, Webhooks: webhooks.NewHandler(hv, st, maxBody, log), Log: log})
	_, body := userEvent("directory_user_1", "ann@acme.test", 1)
	var ids []string
	for _, sig := range []string{signature(body, hookSecret, time.Now()), "t=1, v1=00"} {
		req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(body))
		req.Header.Set(webhooks.SignatureHeader, sig)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		ids = append(ids, rec.Header().Get("X-Request-Id"))
	}
	lines := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if n := strings.Count(line, `"request_id"`); n != 1 {
			t.Errorf("line with %d request_id keys, want 1: %s", n, line)
		}
		var l struct {
			Msg       string `json:"msg"`
			RequestID string `json:"request_id"`
		}
		if err := json.NewDecoder(strings.NewReader(line)).Decode(&l); err != nil && err != io.EOF {
			t.Fatal(err)
		}
		lines[l.RequestID] = append(lines[l.RequestID], l.Msg)
	}
	for i, want := range [][]string{{"webhook received", "request"}, {"webhook rejected", "request"}} {
		if got := lines[ids[i]]; !slices.Equal(got, want) {
			t.Errorf("request %d (%s): lines %q, want %q; all: %s", i, ids[i], got, want, buf.String())
		}
	}
}

func TestLogHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	h := server.LogHandler(slog.NewJSONHandler(&buf, nil))
	if server.LogHandler(h) != h {
		t.Error("LogHandler wrapped twice")
	}
	// Outside a request nothing is added.
	slog.New(h).With("event_id", "event_1").Info("applied")
	if strings.Contains(buf.String(), "request_id") {
		t.Errorf("a line outside any request got a request_id: %s", buf.String())
	}
}
