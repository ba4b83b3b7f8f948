package workostest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"
)

// fixtureEvents returns the envelopes of testdata/events_list.json, pretty-printed as in the file.
func fixtureEvents(t *testing.T) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("../testdata/events_list.json")
	if err != nil {
		t.Fatal(err)
	}
	var l list
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l.Data
}

func TestEvents_filterCursorAndOrder(t *testing.T) {
	t.Parallel()
	s := New(t)
	fx := fixtureEvents(t)
	for _, i := range []int{2, 0, 1} { // added out of order: listing is by created_at
		s.AddEvent(fx[i])
	}
	all := ids(t, fx)

	status, _, body := call(t, s, "GET", "/events?order=desc&limit=2", nil)
	l := decodeList(t, body)
	if status != http.StatusOK || !slices.Equal(ids(t, l.Data), all[:2]) || l.ListMetadata.After == nil || *l.ListMetadata.After != all[1] {
		t.Fatalf("page 1: %d %s", status, body)
	}
	if !bytes.Equal(l.Data[0], fx[0]) {
		t.Errorf("envelope not verbatim:\n%s\nwant\n%s", l.Data[0], fx[0])
	}
	_, _, body = call(t, s, "GET", "/events?limit=2&after="+all[1], nil)
	if l = decodeList(t, body); !slices.Equal(ids(t, l.Data), all[2:]) || l.ListMetadata.After != nil {
		t.Errorf("page 2: %s, want the last event and after null", body)
	}

	_, _, body = call(t, s, "GET", "/events?events=dsync.activated&events=dsync.user.created", nil)
	if got := ids(t, decodeList(t, body).Data); !slices.Equal(got, []string{all[0], all[2]}) {
		t.Errorf("repeated events= filter: %v", got)
	}
	_, _, body = call(t, s, "GET", "/events?events=dsync.group.created,dsync.user.created", nil)
	if got := ids(t, decodeList(t, body).Data); !slices.Equal(got, all[1:]) {
		t.Errorf("comma-separated filter: %v", got)
	}
	_, _, body = call(t, s, "GET", "/events?range_start=2025-03-04T15:00:04Z", nil)
	if got := ids(t, decodeList(t, body).Data); !slices.Equal(got, all[2:]) {
		t.Errorf("range_start: %v", got)
	}

	status, _, body = call(t, s, "GET", "/events?after=event_unknown", nil)
	if status != http.StatusBadRequest || !bytes.Contains(body, []byte(`"Invalid cursor"`)) {
		t.Errorf("unknown cursor: %d %s, want 400 Invalid cursor", status, body)
	}
	if status, _, _ := call(t, s, "GET", "/events?limit=101", nil); status != http.StatusUnprocessableEntity {
		t.Errorf("limit 101: %d, want 422", status)
	}
}

func TestEvents_retention(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 12, 0, 0, 0, time.UTC)
	s := New(t, WithNow(func() time.Time { return now }), WithEventRetention(30*24*time.Hour))
	old := s.Emit("dsync.user.created", now.Add(-31*24*time.Hour), map[string]string{"id": "directory_user_1"})
	fresh := s.Emit("dsync.user.updated", now.Add(-time.Hour), map[string]string{"id": "directory_user_1"})
	// The space-separated created_at of some WorkOS samples sorts by its time too.
	s.AddEvent(json.RawMessage(`{"id":"event_space","event":"dsync.user.deleted","data":{},"created_at":"` +
		now.Add(-2*time.Hour).Format("2006-01-02 15:04:05.000") + `"}`))

	_, _, body := call(t, s, "GET", "/events", nil)
	if got := ids(t, decodeList(t, body).Data); !slices.Equal(got, []string{"event_space", fresh}) {
		t.Errorf("events = %v, want [event_space %s]", got, fresh)
	}
	if status, _, _ := call(t, s, "GET", "/events?after="+old, nil); status != http.StatusBadRequest {
		t.Errorf("expired cursor: %d, want 400", status)
	}
}
