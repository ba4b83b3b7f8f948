package webhooks

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// recorder is an Observer that remembers what it heard.
type recorder struct {
	mu    sync.Mutex
	heard []string
}

func (r *recorder) EventReceived(source, eventType, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, "received "+source+" "+eventType+" "+status)
}

func (r *recorder) WebhookRejected(code string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heard = append(r.heard, "rejected "+code)
}

// TestReceive_observer replays receiveTests: each delivery is reported once,
// received with its status or rejected with its error code.
func TestReceive_observer(t *testing.T) {
	t.Parallel()
	for _, tt := range receiveTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b := setupHandler(t, tt.put)
			rec := &recorder{}
			b.h.SetObserver(rec)
			req := httptest.NewRequest(http.MethodPost, "/webhooks/workos", strings.NewReader(tt.body))
			sigs := tt.signature
			if sigs == nil {
				sigs = []string{Sign(testSecret, testNow, []byte(tt.body))}
			}
			req.Header[http.CanonicalHeaderKey(SignatureHeader)] = sigs
			if tt.modify != nil {
				tt.modify(t, req)
			}
			w := httptest.NewRecorder()
			b.e.ServeHTTP(w, req)

			var want string
			if w.Code == http.StatusOK {
				var env struct{ Event string }
				var receipt struct{ Status string }
				_ = json.Unmarshal([]byte(tt.body), &env)
				_ = json.Unmarshal(w.Body.Bytes(), &receipt)
				want = "received webhook " + env.Event + " " + receipt.Status
			} else {
				var e struct{ Error struct{ Code string } }
				_ = json.Unmarshal(w.Body.Bytes(), &e)
				want = "rejected " + e.Error.Code
				if e.Error.Code == "internal" {
					want = "rejected " // an error without a code
				}
			}
			if len(rec.heard) != 1 || rec.heard[0] != want {
				t.Errorf("observer heard %q, want [%q]", rec.heard, want)
			}
		})
	}
}

func TestEnvelope_DirectoryID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, data, want string
	}{
		{"user event", `{"object":"directory_user","id":"directory_user_1","directory_id":"directory_1"}`, "directory_1"},
		{"directory event", `{"object":"directory","id":"directory_2","organization_id":"org_1"}`, "directory_2"},
		{"another object's id", `{"object":"connection","id":"conn_1"}`, ""},
		{"no data", ``, ""},
		{"not a string", `{"directory_id":5}`, ""},
		{"control characters", `{"directory_id":"directory_1\n{\"forged\":1}"}`, ""},
		{"too long", `{"directory_id":"` + strings.Repeat("d", maxFieldLen+1) + `"}`, ""},
	}
	for _, tt := range tests {
		env := Envelope{ID: "event_1", Event: "dsync.user.created", Data: json.RawMessage(tt.data)}
		if got := env.DirectoryID(); got != tt.want {
			t.Errorf("%s: DirectoryID(%s) = %q, want %q", tt.name, tt.data, got, tt.want)
		}
	}
}
