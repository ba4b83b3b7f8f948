package webhooks

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/membership"
)

const testMaxBody = 4096

// fakeInbox injects store results; the real store has its own tests.
type fakeInbox struct {
	put func(ctx context.Context, ev membership.InboxEvent) (bool, error)

	mu     sync.Mutex
	stored []membership.InboxEvent
}

func (f *fakeInbox) PutInbox(ctx context.Context, ev membership.InboxEvent) (bool, error) {
	f.mu.Lock()
	f.stored = append(f.stored, ev)
	f.mu.Unlock()
	if f.put == nil {
		return false, nil
	}
	return f.put(ctx, ev)
}

// kindStatus stands in for pkg/server's error handler, which owns the real table.
var kindStatus = map[membership.Kind]int{
	membership.Invalid:      http.StatusBadRequest,
	membership.Unauthorized: http.StatusUnauthorized,
	membership.TooLarge:     http.StatusRequestEntityTooLarge,
	membership.Unavailable:  http.StatusServiceUnavailable,
}

func testErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := http.StatusInternalServerError, "internal", "internal error"
	var he *echo.HTTPError
	var me *membership.Error
	switch {
	case errors.As(err, &he):
		status, msg = he.Code, fmt.Sprint(he.Message)
	case errors.As(err, &me):
		status, code, msg = kindStatus[me.Kind], me.Code, me.Message
	}
	if status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", "5")
	}
	_ = c.JSON(status, map[string]any{"error": map[string]string{"code": code, "message": msg}})
}

type handlerBundle struct {
	e     *echo.Echo
	h     *Handler
	inbox *fakeInbox
	logs  *bytes.Buffer
}

func setupHandler(t *testing.T, put func(context.Context, membership.InboxEvent) (bool, error)) *handlerBundle {
	t.Helper()
	b := &handlerBundle{e: echo.New(), inbox: &fakeInbox{put: put}, logs: new(bytes.Buffer)}
	b.h = NewHandler(newTestVerifier(t, testSecret), b.inbox, testMaxBody, slog.New(slog.NewJSONHandler(b.logs, nil)))
	b.e.HTTPErrorHandler = testErrorHandler
	b.e.POST("/webhooks/workos", b.h.Receive)
	return b
}

// Bodies carry an email so the tests can prove it never reaches a response or a log.
const (
	knownBody   = `{"object":"event","id":"event_01JNGTQKRPVGJ5MMCHQYSSGRK5","event":"dsync.user.created","data":{"email":"priya.raman@example.com"},"created_at":"2025-03-04T15:00:04.502Z"}`
	unknownBody = `{"id":"event_01JNGTQKRPVGJ5MMCHQYSSGRK6","event":"user.created","data":{"email":"priya.raman@example.com"}}`
)

// failReader fails the test if the handler reads a body it should refuse unread.
type failReader struct{ t *testing.T }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("handler read a body whose Content-Length is over the limit")
	return 0, io.EOF
}

var unavailable = membership.Errorf(membership.Unavailable, "database_unavailable", "database unavailable")

func putReturns(dup bool, err error) func(context.Context, membership.InboxEvent) (bool, error) {
	return func(context.Context, membership.InboxEvent) (bool, error) { return dup, err }
}

var receiveTests = []struct {
	name       string
	body       string
	signature  []string // nil: Sign(testSecret, testNow, body)
	modify     func(t *testing.T, r *http.Request)
	put        func(context.Context, membership.InboxEvent) (bool, error)
	wantStatus int
	wantBody   string
	wantStored bool
}{
	{"new known event is accepted", knownBody, nil, nil, nil, 200, `{"status":"accepted"}`, true},
	{"repeat delivery is a duplicate", knownBody, nil, nil, putReturns(true, nil), 200, `{"status":"duplicate"}`, true},
	{"unknown type is stored and ignored", unknownBody, nil, nil, nil, 200, `{"status":"ignored"}`, true},
	{"repeat of an unknown type is a duplicate", unknownBody, nil, nil, putReturns(true, nil), 200, `{"status":"duplicate"}`, true},
	{"missing signature", knownBody, []string{}, nil, nil, 401, `"code":"signature_missing"`, false},
	{"malformed signature", knownBody, []string{"t,v1=abc"}, nil, nil, 401, `"code":"signature_malformed"`, false},
	{"two signature headers", knownBody, []string{Sign(testSecret, testNow, []byte(knownBody)), Sign(testSecret, testNow, []byte(knownBody))}, nil, nil, 401, `"code":"signature_malformed"`, false},
	{"stale signature", knownBody, []string{Sign(testSecret, testNow.Add(-DefaultTolerance-1e6), []byte(knownBody))}, nil, nil, 401, `"code":"signature_stale"`, false},
	{"future signature", knownBody, []string{Sign(testSecret, testNow.Add(DefaultTolerance+1e6), []byte(knownBody))}, nil, nil, 401, `"code":"signature_stale"`, false},
	{"signature of another body", knownBody, []string{Sign(testSecret, testNow, []byte(unknownBody))}, nil, nil, 401, `"code":"signature_mismatch"`, false},
	{"signature with another secret", knownBody, []string{Sign("other", testNow, []byte(knownBody))}, nil, nil, 401, `"code":"signature_mismatch"`, false},
	{"signed body that is not JSON", "not json", nil, nil, nil, 400, `"code":"invalid_envelope"`, false},
	{"signed body without id", `{"event":"dsync.user.created"}`, nil, nil, nil, 400, `"code":"invalid_envelope"`, false},
	{"body over the limit, length unknown", `{"id":"event_1","event":"e","pad":"` + strings.Repeat("x", testMaxBody) + `"}`, nil,
		func(_ *testing.T, r *http.Request) {
			r.ContentLength = -1
			r.Body = io.NopCloser(io.MultiReader(r.Body))
		}, nil, 413, `"code":"body_too_large"`, false},
	{"Content-Length over the limit, body unread", knownBody, nil,
		func(t *testing.T, r *http.Request) {
			r.ContentLength = testMaxBody + 1
			r.Body = io.NopCloser(failReader{t})
		}, nil, 413, `"code":"body_too_large"`, false},
	{"body exactly at the limit", knownBody + strings.Repeat(" ", testMaxBody-len(knownBody)), nil, nil, nil, 200, `{"status":"accepted"}`, true},
	{"gzip is refused unread", knownBody, nil, func(_ *testing.T, r *http.Request) { r.Header.Set("Content-Encoding", "gzip") }, nil, 400, `"code":"unsupported_encoding"`, false},
	{"identity encoding is fine", knownBody, nil, func(_ *testing.T, r *http.Request) { r.Header.Set("Content-Encoding", "Identity") }, nil, 200, `{"status":"accepted"}`, true},
	{"database unavailable", knownBody, nil, nil, putReturns(false, unavailable), 503, `"code":"database_unavailable"`, true},
	{"unexpected store error", knownBody, nil, nil, putReturns(false, errors.New("boom")), 500, `"code":"internal"`, true},
}

func TestReceive(t *testing.T) {
	t.Parallel()
	for _, tt := range receiveTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupHandler(t, tt.put)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(tt.body))
			req.Header.Set("Content-Type", "application/json")
			sigs := tt.signature
			if sigs == nil {
				sigs = []string{Sign(testSecret, testNow, []byte(tt.body))}
			}
			req.Header[http.CanonicalHeaderKey(SignatureHeader)] = sigs
			if tt.modify != nil {
				tt.modify(t, req)
			}
			rec := httptest.NewRecorder()
			b.e.ServeHTTP(rec, req)

			got := rec.Body.String()
			if rec.Code != tt.wantStatus || !strings.Contains(got, tt.wantBody) {
				t.Errorf("POST %s: got %d %s, want %d with %s", tt.name, rec.Code, got, tt.wantStatus, tt.wantBody)
			}
			if (len(b.inbox.stored) > 0) != tt.wantStored {
				t.Errorf("POST %s: stored %d events, want stored = %v", tt.name, len(b.inbox.stored), tt.wantStored)
			}
			if tt.wantStatus == 503 && rec.Header().Get("Retry-After") == "" {
				t.Errorf("POST %s: 503 without Retry-After", tt.name)
			}
			// Neither responses nor logs may echo a signature, the secret, the body or an email.
			for _, s := range slices.Concat(sigs, []string{hexOf(Sign(testSecret, testNow, []byte(tt.body))), testSecret, "priya.raman"}) {
				if s != "" && (strings.Contains(got, hexOf(s)) || strings.Contains(b.logs.String(), hexOf(s))) {
					t.Errorf("POST %s: response %q or logs %q contain %q", tt.name, got, b.logs, hexOf(s))
				}
			}
		})
	}
}

// hexOf returns the v1 digest of a header, or s itself when it has none.
func hexOf(s string) string {
	if i := strings.LastIndex(s, "v1="); i >= 0 {
		return s[i+3:]
	}
	return s
}

func TestReceive_storesVerbatim(t *testing.T) {
	t.Parallel()
	b := setupHandler(t, nil)
	req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(knownBody))
	req.Header.Set(SignatureHeader, Sign(testSecret, testNow, []byte(knownBody)))
	b.e.ServeHTTP(httptest.NewRecorder(), req)
	if len(b.inbox.stored) != 1 {
		t.Fatalf("stored %d events, want 1", len(b.inbox.stored))
	}
	ev := b.inbox.stored[0]
	if ev.EventID != "event_01JNGTQKRPVGJ5MMCHQYSSGRK5" || ev.Type != "dsync.user.created" || ev.Source != membership.SourceWebhook ||
		ev.CreatedAt.IsZero() || string(ev.Payload) != knownBody {
		t.Errorf("stored %+v, want the envelope's id, type, created_at, source webhook and the body byte for byte", ev)
	}
	logs := b.logs.String()
	if !strings.Contains(logs, `"event_id":"event_01JNGTQKRPVGJ5MMCHQYSSGRK5"`) || !strings.Contains(logs, `"event_type":"dsync.user.created"`) {
		t.Errorf("logs = %s, want event_id and event_type", logs)
	}
}

// TestReceive_inboxErrorUnchanged: the store's error reaches the server's
// error handler as it is, so its Kind (Unavailable → 503) decides the status.
func TestReceive_inboxErrorUnchanged(t *testing.T) {
	t.Parallel()
	b := setupHandler(t, putReturns(false, unavailable))
	req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(knownBody))
	req.Header.Set(SignatureHeader, Sign(testSecret, testNow, []byte(knownBody)))
	c := b.e.NewContext(req, httptest.NewRecorder())
	if err := b.h.Receive(c); err != error(unavailable) {
		t.Errorf("Receive = %v, want the inbox's own error %v", err, unavailable)
	}
}
