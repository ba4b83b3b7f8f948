package workostest

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Call is one request the fake received, recorded before authentication.
type Call struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// failure answers the next n requests matching method and path prefix with status.
type failure struct {
	method, prefix string
	n, status      int
	retryAfter     string
}

// FailNext makes the next n requests whose method matches (empty: any) and
// whose path starts with pathPrefix answer status, with a Retry-After header
// when retryAfter is not empty. A 429 has WorkOS's bare JSON string body
// "Ratelimited"; other statuses (400–599) have {"message": …}. Rules apply in
// the order added. Call it from the test's goroutine: a bad status fails the test.
func (s *Server) FailNext(method, pathPrefix string, n, status int, retryAfter string) {
	s.t.Helper()
	if status < 400 || status > 599 {
		s.t.Fatalf("workostest: FailNext status %d is not an error status", status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, &failure{method: method, prefix: pathPrefix, n: n, status: status, retryAfter: retryAfter})
}

// SetLatency delays every API response by d (until the request is cancelled).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

// SetUsersRateLimit limits /directory_users to n requests per second per
// directory, like WorkOS's 4 req/s (reference §11.3); 0 turns the limit off.
// Refused requests answer 429 "Ratelimited" with Retry-After: 1 and do not count.
func (s *Server) SetUsersRateLimit(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.userRate = n
	clear(s.userHits)
}

// Requests counts the requests received whose path starts with pathPrefix,
// including refused and failed ones.
func (s *Server) Requests(pathPrefix string) int {
	return len(s.Calls(pathPrefix))
}

// Calls returns the recorded requests whose path starts with pathPrefix, oldest first.
func (s *Server) Calls(pathPrefix string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if strings.HasPrefix(c.Path, pathPrefix) {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) record(r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: body})
}

// delay waits out the configured latency; false means the client went away.
func (s *Server) delay(r *http.Request) bool {
	s.mu.Lock()
	d := s.latency
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	select {
	case <-time.After(d):
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) injectFailure(w http.ResponseWriter, r *http.Request) bool {
	s.mu.Lock()
	var hit *failure
	for i, f := range s.failures {
		if (f.method == "" || f.method == r.Method) && strings.HasPrefix(r.URL.Path, f.prefix) {
			hit = f
			if f.n--; f.n <= 0 {
				s.failures = append(s.failures[:i], s.failures[i+1:]...)
			}
			break
		}
	}
	s.mu.Unlock()
	if hit == nil {
		return false
	}
	if hit.retryAfter != "" {
		w.Header().Set("Retry-After", hit.retryAfter)
	}
	if hit.status == http.StatusTooManyRequests {
		writeJSON(w, hit.status, "Ratelimited")
	} else {
		writeMessage(w, hit.status, http.StatusText(hit.status))
	}
	return true
}

// rateLimited applies the per-directory limit of /directory_users.
func (s *Server) rateLimited(w http.ResponseWriter, r *http.Request) bool {
	if !strings.HasPrefix(r.URL.Path, "/directory_users") {
		return false
	}
	if !s.admitUsersRequest(r) {
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusTooManyRequests, "Ratelimited")
		return true
	}
	return false
}

// admitUsersRequest is a sliding one-second window per directory.
func (s *Server) admitUsersRequest(r *http.Request) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.userRate <= 0 {
		return true
	}
	dir := r.URL.Query().Get("directory")
	if id, ok := strings.CutPrefix(r.URL.Path, "/directory_users/"); ok {
		dir = s.users[id].DirectoryID
	}
	now := time.Now() // real time: the limit paces real clients, whatever the fake clock says
	hits := s.userHits[dir]
	for len(hits) > 0 && now.Sub(hits[0]) >= time.Second {
		hits = hits[1:]
	}
	if len(hits) >= s.userRate {
		s.userHits[dir] = hits
		return false
	}
	s.userHits[dir] = append(hits, now)
	return true
}
