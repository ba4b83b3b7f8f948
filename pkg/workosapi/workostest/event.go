package workostest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

type storedEvent struct {
	id, typ string
	created time.Time
	raw     json.RawMessage
}

// AddEvent stores an event envelope verbatim (reference §4; any id, event and
// created_at, which may be RFC 3339 or "2006-01-02 15:04:05.000"). GET /events
// lists events oldest first by created_at, then in the order added. An
// envelope without id, event or a readable created_at fails the test, so call
// it from the test's goroutine.
func (s *Server) AddEvent(raw json.RawMessage) {
	s.t.Helper()
	var head struct {
		ID        string `json:"id"`
		Event     string `json:"event"`
		CreatedAt string `json:"created_at"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" || head.Event == "" {
		s.t.Fatalf("workostest: AddEvent needs a JSON envelope with id and event: %s", raw)
	}
	created, ok := parseStamp(head.CreatedAt)
	if !ok {
		s.t.Fatalf("workostest: AddEvent: event %s has an unreadable created_at %q", head.ID, head.CreatedAt)
	}
	e := storedEvent{id: head.ID, typ: head.Event, created: created, raw: slices.Clone(raw)}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := len(s.events)
	for i > 0 && s.events[i-1].created.After(created) {
		i--
	}
	s.events = slices.Insert(s.events, i, e)
}

// Emit builds an envelope with a new event id for data and stores it; it
// returns the id.
func (s *Server) Emit(eventType string, createdAt time.Time, data any) string {
	s.t.Helper()
	s.mu.Lock()
	id := s.newID("event_")
	s.mu.Unlock()
	raw, err := json.Marshal(map[string]any{"object": "event", "id": id, "event": eventType,
		"data": data, "created_at": stamp(createdAt), "context": map[string]any{}})
	if err != nil {
		s.t.Fatalf("workostest: Emit %s: %v", eventType, err)
	}
	s.AddEvent(raw)
	return id
}

// listEvents serves GET /events. It always lists oldest first: WorkOS is
// reported to ignore order (reference §7.1), so the fake ignores it too.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 10
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeValidation(w, "limit", "invalid")
			return
		}
		limit = n
	}
	var rangeStart, rangeEnd time.Time
	for _, p := range []struct {
		key string
		t   *time.Time
	}{{"range_start", &rangeStart}, {"range_end", &rangeEnd}} {
		if v := q.Get(p.key); v != "" {
			t, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				writeValidation(w, p.key, "invalid_date")
				return
			}
			*p.t = t
		}
	}
	// Repeated keys are what the Go SDK sends; the spec declares comma-separated.
	var types []string
	for _, v := range q["events"] {
		types = append(types, strings.Split(v, ",")...)
	}

	s.mu.Lock()
	var oldest time.Time
	if s.retention > 0 {
		oldest = s.now().Add(-s.retention)
	}
	live := slices.DeleteFunc(slices.Clone(s.events), func(e storedEvent) bool { return e.created.Before(oldest) })
	s.mu.Unlock()

	start := 0
	if after := q.Get("after"); after != "" {
		i := slices.IndexFunc(live, func(e storedEvent) bool { return e.id == after })
		if i < 0 {
			writeMessage(w, http.StatusBadRequest, "Invalid cursor")
			return
		}
		start = i + 1
	}
	var data []json.RawMessage
	var last string
	// At the end of the stream list_metadata.after is null (reference §7.2).
	var next *string
	for _, e := range live[start:] {
		if (len(types) > 0 && !slices.Contains(types, e.typ)) || e.created.Before(rangeStart) ||
			(!rangeEnd.IsZero() && e.created.After(rangeEnd)) {
			continue
		}
		if len(data) == limit {
			next = &last
			break
		}
		data, last = append(data, e.raw), e.id
	}
	writeEventList(w, data, next)
}

// writeEventList writes each envelope byte for byte as it was added: consumers
// store envelopes verbatim, and tests compare those bytes. (encoding/json would
// compact and re-escape a json.RawMessage.)
func writeEventList(w http.ResponseWriter, data []json.RawMessage, after *string) {
	meta, _ := json.Marshal(map[string]*string{"after": after})
	var b bytes.Buffer
	b.WriteString(`{"object":"list","data":[`)
	for i, raw := range data {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(raw)
	}
	b.WriteString(`],"list_metadata":`)
	b.Write(meta)
	b.WriteString("}\n")
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Request-ID", "req_"+randomHex(8))
	_, _ = w.Write(b.Bytes())
}

// parseStamp reads an RFC 3339 timestamp or the space-separated form seen in
// some WorkOS samples (reference §4.3), as UTC.
func parseStamp(v string) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", v, time.UTC); err == nil {
		return t, true
	}
	return time.Time{}, false
}
