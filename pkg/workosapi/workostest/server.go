// Package workostest is a fake WorkOS API for tests: organizations, Admin Portal
// links, directories, directory users and the Events API, speaking the wire
// formats of the WorkOS reference (§7–§11), with failure injection.
//
// It deliberately imports nothing of the WorkOS SDK, so it checks what
// pkg/workosapi puts on the wire rather than what the SDK assumes.
package workostest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// Server is a running fake WorkOS API. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL to use as the WorkOS endpoint.
	URL string
	// APIKey is the only bearer token the API accepts.
	APIKey string

	t   testing.TB
	now func() time.Time

	mu        sync.Mutex
	seq       uint64
	orgs      map[string]*organization // by id
	orgByExt  map[string]string        // external_id → id
	links     map[string]portalLink    // by token
	dirs      map[string]Directory     // by id
	users     map[string]User          // by id
	userIDs   map[string][]string      // directory id → its users' ids, sorted; nil after any user change
	events    []storedEvent            // oldest first
	retention time.Duration
	calls     []Call
	created   map[string]int
	failures  []*failure
	latency   time.Duration
	userRate  int
	userHits  map[string][]time.Time // directory id → accepted request times
}

// Option configures a Server.
type Option func(*Server)

// WithAPIKey sets the API key the fake accepts (default: a random sk_test_ key).
func WithAPIKey(key string) Option { return func(s *Server) { s.APIKey = key } }

// WithNow sets the clock used for timestamps, event retention and link expiry.
func WithNow(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithEventRetention hides events older than d from GET /events and makes an
// after cursor pointing at one invalid. Zero (the default) keeps events forever,
// so fixtures with old timestamps stay listable; WorkOS itself keeps 30 days.
func WithEventRetention(d time.Duration) Option { return func(s *Server) { s.retention = d } }

// New starts a fake WorkOS API; it is closed when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		APIKey:   "sk_test_fake_" + randomHex(12),
		t:        t,
		now:      time.Now,
		orgs:     map[string]*organization{},
		orgByExt: map[string]string{},
		links:    map[string]portalLink{},
		dirs:     map[string]Directory{},
		users:    map[string]User{},
		created:  map[string]int{},
		userHits: map[string][]time.Time{},
	}
	for _, o := range opts {
		o(s)
	}
	hs := httptest.NewUnstartedServer(s.handler())
	// URL is set before the first handler runs: handlers read it for links.
	s.URL = "http://" + hs.Listener.Addr().String()
	hs.Start()
	t.Cleanup(hs.Close)
	return s
}

func (s *Server) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /organizations", s.createOrganization)
	mux.HandleFunc("GET /organizations/{id}", s.getOrganization)
	mux.HandleFunc("GET /organizations/external_id/{external_id}", s.getOrganizationByExternalID)
	mux.HandleFunc("POST /portal/generate_link", s.generateLink)
	mux.HandleFunc("GET /portal/setup", s.portalSetup)
	mux.HandleFunc("GET /directories", s.listDirectories)
	mux.HandleFunc("GET /directory_users", s.listUsers)
	mux.HandleFunc("GET /directory_users/{id}", s.getUser)
	mux.HandleFunc("GET /events", s.listEvents)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.record(r)
		// The portal page is what a browser opens; it carries no API key.
		if r.URL.Path != "/portal/setup" && r.Header.Get("Authorization") != "Bearer "+s.APIKey {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("Unauthorized"))
			return
		}
		if !s.delay(r) || s.injectFailure(w, r) || s.rateLimited(w, r) {
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// Created reports how many objects of a kind the API created:
// "organization" or "portal_link".
func (s *Server) Created(kind string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.created[kind]
}

// writeJSON answers with a JSON body and a request id, as WorkOS does.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-ID", "req_"+randomHex(8))
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeMessage answers with the common error shape {"message": …}.
func writeMessage(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg})
}

// writeValidation answers 422 with the validation shape of reference §11.2.
func writeValidation(w http.ResponseWriter, field, code string) {
	writeJSON(w, http.StatusUnprocessableEntity, map[string]any{
		"message": "Validation failed.",
		"errors":  []map[string]string{{"field": field, "code": code}},
	})
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// stamp formats t the way WorkOS does: milliseconds and Z.
func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// newID returns a WorkOS-shaped id: prefix plus 26 Crockford base32 characters,
// time first then a sequence number, so ids sort in creation order. Callers hold mu.
func (s *Server) newID(prefix string) string {
	const alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	s.seq++
	var b [26]byte
	ms, seq := uint64(s.now().UnixMilli()), s.seq
	for i := 9; i >= 0; i-- {
		b[i] = alphabet[ms&31]
		ms >>= 5
	}
	for i := 25; i >= 10; i-- {
		b[i] = alphabet[seq&31]
		seq >>= 5
	}
	return prefix + string(b[:])
}
