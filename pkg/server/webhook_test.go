package server_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
	"github.com/seatsync/seatsync/webhooks"
)

const hookPath = "/webhooks/workos"

func TestWebhookScenarios(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		_, good := userEvent("directory_user_1", "alice@acme.test", 1)
		unknown := eventBody("event_unknown_1", "user.created", map[string]any{"object": "user", "id": "user_1"})
		now := time.Now()
		genuine := signature(good, hookSecret, now)
		hdr := func(v string) map[string]string { return map[string]string{webhooks.SignatureHeader: v} }
		stale := now.Add(-6 * time.Minute)
		future := now.Add(6 * time.Minute)
		// noLeak lists what no 401 may echo: the signature a correct sender
		// would have sent at at (for the genuine and a tampered body), and the secret.
		tampered := strings.Replace(good, "alice", "mallory", 1)
		noLeak := func(at time.Time) []string {
			ts := fmt.Sprint(at.UnixMilli())
			return []string{mac(good, hookSecret, ts), mac(tampered, hookSecret, ts), hookSecret}
		}
		big := `{"id":"event_big","event":"dsync.user.created","data":{"pad":"` + strings.Repeat("x", maxBody) + `"}}`

		run(t, ts.e, []scenario{
			{name: "accepted", method: http.MethodPost, path: hookPath, headers: hdr(genuine), body: good,
				status: http.StatusOK, contains: []string{`{"status":"accepted"}`}},
			{name: "duplicate", method: http.MethodPost, path: hookPath, headers: signed(good), body: good,
				status: http.StatusOK, contains: []string{`{"status":"duplicate"}`}},
			{name: "unknown type ignored", method: http.MethodPost, path: hookPath, headers: signed(unknown), body: unknown,
				status: http.StatusOK, contains: []string{`{"status":"ignored"}`}},
			{name: "unknown type again is a duplicate", method: http.MethodPost, path: hookPath, headers: signed(unknown), body: unknown,
				status: http.StatusOK, contains: []string{`{"status":"duplicate"}`}},

			{name: "signature missing", method: http.MethodPost, path: hookPath, body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMissing, excludes: noLeak(now)},
			{name: "signature blank", method: http.MethodPost, path: hookPath, headers: hdr("  "), body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMissing, excludes: noLeak(now)},
			{name: "signature malformed", method: http.MethodPost, path: hookPath, headers: hdr("sha256=deadbeef"), body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMalformed, excludes: noLeak(now)},
			{name: "signature without v1", method: http.MethodPost, path: hookPath, headers: hdr("t=123"), body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMalformed, excludes: noLeak(now)},
			{name: "signature twice", method: http.MethodPost, path: hookPath, body: good,
				prepare: func(r *http.Request) {
					r.Header.Add(webhooks.SignatureHeader, genuine)
					r.Header.Add(webhooks.SignatureHeader, genuine)
				},
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMalformed, excludes: noLeak(now)},
			{name: "signature stale", method: http.MethodPost, path: hookPath, headers: hdr(signature(good, hookSecret, stale)), body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureStale, excludes: noLeak(stale)},
			{name: "signature from the future", method: http.MethodPost, path: hookPath, headers: hdr(signature(good, hookSecret, future)), body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureStale, excludes: noLeak(future)},
			{name: "signature of another secret", method: http.MethodPost, path: hookPath,
				headers: hdr(signature(good, "whsec_someone_else_0123456789", now)), body: good,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMismatch, excludes: noLeak(now)},
			{name: "body tampered", method: http.MethodPost, path: hookPath, headers: hdr(genuine),
				body:   tampered,
				status: http.StatusUnauthorized, code: webhooks.CodeSignatureMismatch, excludes: noLeak(now)},

			{name: "not JSON", method: http.MethodPost, path: hookPath, headers: signed("not json"), body: "not json",
				status: http.StatusBadRequest, code: webhooks.CodeInvalidEnvelope},
			{name: "JSON array", method: http.MethodPost, path: hookPath, headers: signed(`[1]`), body: `[1]`,
				status: http.StatusBadRequest, code: webhooks.CodeInvalidEnvelope},
			{name: "missing id", method: http.MethodPost, path: hookPath, headers: signed(`{"event":"dsync.user.created","data":{}}`),
				body: `{"event":"dsync.user.created","data":{}}`, status: http.StatusBadRequest, code: webhooks.CodeInvalidEnvelope,
				contains: []string{"id"}},
			{name: "missing event", method: http.MethodPost, path: hookPath, headers: signed(`{"id":"event_x","data":{}}`),
				body: `{"id":"event_x","data":{}}`, status: http.StatusBadRequest, code: webhooks.CodeInvalidEnvelope,
				contains: []string{"event"}},

			{name: "body over the limit", method: http.MethodPost, path: hookPath, headers: signed(big), body: big,
				status: http.StatusRequestEntityTooLarge, code: webhooks.CodeBodyTooLarge},
			{name: "chunked body over the limit", method: http.MethodPost, path: hookPath, headers: signed(big), body: big,
				prepare: chunked, status: http.StatusRequestEntityTooLarge, code: webhooks.CodeBodyTooLarge},
			{name: "Content-Length over the limit", method: http.MethodPost, path: hookPath, headers: hdr(genuine), body: good,
				prepare: func(r *http.Request) { r.ContentLength = maxBody + 1 },
				status:  http.StatusRequestEntityTooLarge, code: webhooks.CodeBodyTooLarge},
			{name: "gzip refused", method: http.MethodPost, path: hookPath,
				headers: merge(hdr(genuine), map[string]string{"Content-Encoding": "gzip"}), body: good,
				status: http.StatusBadRequest, code: webhooks.CodeUnsupportedEncoding},
			{name: "identity encoding is fine", method: http.MethodPost, path: hookPath,
				headers: merge(signed(good), map[string]string{"Content-Encoding": "identity"}), body: good,
				status: http.StatusOK, contains: []string{`{"status":"duplicate"}`}},
		})

		// The rejected deliveries stored nothing; the accepted ones are in the inbox.
		counts, err := ts.st.InboxCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int64{"pending": 1, "ignored": 1}; !equalCounts(counts, want) {
			t.Errorf("inbox counts = %v, want %v", counts, want)
		}
		row, err := ts.st.InboxEvent(t.Context(), "event_unknown_1")
		if err != nil {
			t.Fatal(err)
		}
		if row.Status != string(membership.OutcomeIgnored) || row.EventType != "user.created" {
			t.Errorf("unknown event stored as %s/%s, want ignored/user.created", row.Status, row.EventType)
		}
	})
}

func equalCounts(got, want map[string]int64) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestWebhookStoredBeforeAck checks that the event is in the inbox, verbatim,
// as soon as the 200 is written.
func TestWebhookStoredBeforeAck(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		id, body := userEvent("directory_user_7", "Grace@Acme.test", 3)
		if _, err := ts.st.InboxEvent(t.Context(), id); membership.ErrorKind(err) != membership.NotFound {
			t.Fatalf("before delivery: InboxEvent err = %v, want not found", err)
		}
		deliver(t, ts.e, body, webhooks.StatusAccepted)
		row, err := ts.st.InboxEvent(t.Context(), id)
		if err != nil {
			t.Fatalf("right after the 200: InboxEvent: %v", err)
		}
		if row.Status != string(membership.OutcomePending) || row.EventType != "dsync.user.created" ||
			row.Source != string(membership.SourceWebhook) || !bytes.Equal(row.Payload, []byte(body)) {
			t.Errorf("stored %s/%s/%s payload %q; want pending/dsync.user.created/webhook and the raw body",
				row.Status, row.EventType, row.Source, row.Payload)
		}
		if row.EventCreatedAt == nil || !row.EventCreatedAt.Equal(t0) {
			t.Errorf("event created_at = %v, want %v", row.EventCreatedAt, t0)
		}
	})
}

// TestWebhookConcurrentDuplicates delivers one event 20 times at once: it is
// stored once, and exactly one delivery is told "accepted".
func TestWebhookConcurrentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		ts := newServer(t, storetest.Open(t, dialect), auth.Options{})
		id, body := userEvent("directory_user_9", "ivy@acme.test", 1)
		const n = 20
		var wg sync.WaitGroup
		codes := make([]int, n)
		bodies := make([]string, n)
		start := make(chan struct{})
		for i := range n {
			wg.Go(func() {
				<-start
				req := httptest.NewRequestWithContext(t.Context(), http.MethodPost, hookPath, strings.NewReader(body))
				req.Header.Set(webhooks.SignatureHeader, signature(body, hookSecret, time.Now()))
				rec := httptest.NewRecorder()
				ts.e.ServeHTTP(rec, req)
				codes[i], bodies[i] = rec.Code, rec.Body.String()
			})
		}
		close(start)
		wg.Wait()
		got := map[string]int{}
		for i := range n {
			if codes[i] != http.StatusOK {
				t.Errorf("delivery %d: status %d, body %s", i, codes[i], bodies[i])
				continue
			}
			got[strings.TrimSpace(bodies[i])]++
		}
		want := map[string]int{`{"status":"accepted"}`: 1, `{"status":"duplicate"}`: n - 1}
		if len(got) != len(want) || got[`{"status":"accepted"}`] != 1 || got[`{"status":"duplicate"}`] != n-1 {
			t.Errorf("receipts = %v, want %v", got, want)
		}
		counts, err := ts.st.InboxCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if counts["pending"] != 1 || len(counts) != 1 {
			t.Errorf("inbox counts = %v, want one pending event", counts)
		}
		if _, err := ts.st.InboxEvent(t.Context(), id); err != nil {
			t.Errorf("InboxEvent: %v", err)
		}
	})
}

// TestWebhookDatabaseDown: a store whose database is gone answers 503 with
// Retry-After, stores nothing, and WorkOS's retry against a healthy store of
// the same database is accepted.
func TestWebhookDatabaseDown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, dialect string) {
		opts := storetest.Options(t, dialect)
		healthy := storetest.OpenWith(t, opts)
		id, body := userEvent("directory_user_3", "carol@acme.test", 1)

		down := map[string]func(t *testing.T) *store.Store{
			// sql: database is closed
			"closed pool": func(t *testing.T) *store.Store {
				st, err := store.Open(t.Context(), opts)
				if err != nil {
					t.Fatal(err)
				}
				if err := st.Close(); err != nil {
					t.Fatal(err)
				}
				return st
			},
		}
		if dialect == "postgres" {
			// Pooled connections dropped (conn closed), then connection refused.
			down["server gone"] = func(t *testing.T) *store.Store {
				p := newProxy(t, opts.URL)
				st, err := store.Open(t.Context(), store.Options{Driver: "postgres", URL: p.url, MaxOpenConns: 4})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { _ = st.Close() })
				p.shutdown()
				return st
			}
		}
		for name, open := range down {
			t.Run(name, func(t *testing.T) {
				ts := newServer(t, open(t), auth.Options{})
				for _, sc := range []scenario{
					{name: "webhook", method: http.MethodPost, path: hookPath, headers: signed(body), body: body},
					{name: "readyz", path: "/readyz"},
					{name: "plan status", path: "/api/v1/plans/" + planID, headers: asService(t)},
					{name: "webhook again", method: http.MethodPost, path: hookPath, headers: signed(body), body: body},
				} {
					t.Run(sc.name, func(t *testing.T) {
						sc.status, sc.code = http.StatusServiceUnavailable, "database_unavailable"
						sc.respHeaders = map[string]string{"Retry-After": ""}
						sc.excludes = []string{"postgres://", "127.0.0.1", "refused", "closed", "sql:"}
						sc.do(t, ts.e)
					})
				}
			})
		}

		if _, err := healthy.InboxEvent(t.Context(), id); membership.ErrorKind(err) != membership.NotFound {
			t.Fatalf("after the 503s: InboxEvent err = %v, want not found (nothing half-written)", err)
		}
		deliver(t, newServer(t, healthy, auth.Options{}).e, body, webhooks.StatusAccepted)
		if _, err := healthy.InboxEvent(t.Context(), id); err != nil {
			t.Fatalf("after the retry: %v", err)
		}
	})
}

// TestDroppedConnectionIsUnavailable: a connection the server drops in the
// middle of a transaction (restart, failover) is Unavailable too, so the
// webhook answers 503 and the applier leaves the event pending.
func TestDroppedConnectionIsUnavailable(t *testing.T) {
	t.Parallel()
	opts := storetest.Options(t, "postgres")
	storetest.OpenWith(t, opts)
	p := newProxy(t, opts.URL)
	st, err := store.Open(t.Context(), store.Options{Driver: "postgres", URL: p.url, MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ev := func(id string) membership.InboxEvent {
		return membership.InboxEvent{EventID: id, Type: "dsync.user.created", Payload: []byte(`{}`), Source: membership.SourceWebhook}
	}
	err = st.Tx(t.Context(), func(tx *store.Store) error {
		if _, err := tx.PutInbox(t.Context(), ev("event_before")); err != nil {
			return err
		}
		p.shutdown()
		_, err := tx.PutInbox(t.Context(), ev("event_after"))
		return err
	})
	if !store.IsUnavailable(err) {
		t.Fatalf("Tx err = %v (kind %v), want Unavailable", err, membership.ErrorKind(err))
	}
}
