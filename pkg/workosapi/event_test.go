package workosapi_test

import (
	"bytes"
	"encoding/json"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func fixtureEvents(t *testing.T) []json.RawMessage {
	t.Helper()
	b, err := os.ReadFile("testdata/events_list.json")
	if err != nil {
		t.Fatal(err)
	}
	var l struct{ Data []json.RawMessage }
	if err := json.Unmarshal(b, &l); err != nil {
		t.Fatal(err)
	}
	return l.Data
}

var dsyncTypes = []string{"dsync.activated", "dsync.group.created", "dsync.user.created"}

func TestListEvents(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	fx := fixtureEvents(t)
	for _, raw := range fx {
		srv.AddEvent(raw)
	}
	srv.Emit("dsync.token.created", time.Date(2025, 3, 4, 16, 0, 0, 0, time.UTC), map[string]any{}) // filtered out
	c, _ := newClient(t, srv)
	ctx := t.Context()

	page, err := c.ListEvents(ctx, workosapi.EventsQuery{Types: dsyncTypes, Limit: 2})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 2 || page.After != "event_01JNGTQK8PRTZH6YTJHJXC1Z42" {
		t.Fatalf("page 1 = %+v", page)
	}
	ev := page.Events[0]
	if ev.ID != "event_01JNGTQFRW69K51ZPT03Y910F5" || ev.Type != "dsync.activated" ||
		!ev.CreatedAt.Equal(time.Date(2025, 3, 4, 15, 0, 0, 412e6, time.UTC)) || !bytes.Equal(ev.Raw, fx[0]) {
		t.Errorf("event = %+v", ev)
	}
	q := srv.Calls("/events")[0].Query
	if !slices.Equal(q["events"], dsyncTypes) || q.Get("limit") != "2" || q.Get("order") != "asc" {
		t.Errorf("query = %v: want repeated events= keys", q)
	}

	page, err = c.ListEvents(ctx, workosapi.EventsQuery{Types: dsyncTypes, After: page.After})
	if err != nil || len(page.Events) != 1 || page.After != "" || page.Events[0].Type != "dsync.user.created" {
		t.Errorf("page 2 = %+v, %v", page, err)
	}

	start := time.Date(2025, 3, 4, 15, 0, 4, 0, time.FixedZone("X", 3600)) // sent as UTC
	page, err = c.ListEvents(ctx, workosapi.EventsQuery{RangeStart: start.Add(time.Hour)})
	if err != nil || len(page.Events) != 2 {
		t.Errorf("range_start: %+v, %v", page, err)
	}
	if got := srv.Calls("/events")[2].Query.Get("range_start"); got != "2025-03-04T15:00:04Z" {
		t.Errorf("range_start sent as %q", got)
	}

	_, err = c.ListEvents(ctx, workosapi.EventsQuery{After: "event_gone"})
	wantCode(t, err, membership.Upstream, "workos_invalid_request", srv.APIKey)
}

func TestListEvents_lenientEnvelopes(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	// The space form breaks the SDK's events.Event; here it is read as UTC.
	srv.AddEvent(json.RawMessage(`{"id":"event_1","event":"dsync.user.created","data":{},"created_at":"2023-04-28 20:05:31.093"}`))
	c, _ := newClient(t, srv)
	page, err := c.ListEvents(t.Context(), workosapi.EventsQuery{})
	if err != nil || len(page.Events) != 1 {
		t.Fatalf("ListEvents = %+v, %v", page, err)
	}
	if got, want := page.Events[0].CreatedAt, time.Date(2023, 4, 28, 20, 5, 31, 93e6, time.UTC); !got.Equal(want) {
		t.Errorf("created_at = %v, want %v", got, want)
	}
}
