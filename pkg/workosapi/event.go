package workosapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/workos/workos-go/v4/pkg/workos_errors"
)

// EventsQuery selects events from GET /events.
type EventsQuery struct {
	Types      []string  // event types, e.g. the dsync.* ones; empty means all
	After      string    // the last event id already stored; "" to start at RangeStart
	RangeStart time.Time // zero means no lower bound
	Limit      int       // 1–100; 0 means 100
}

// EventPage is one page of events, oldest first. After is WorkOS's
// list_metadata.after: "" at the end of the stream, which is not a reason to
// forget the cursor: keep the id of the last event stored and poll with it.
type EventPage struct {
	Events []Event
	After  string
}

// Event is one Events API envelope. Raw is the envelope exactly as WorkOS sent
// it, for the inbox; CreatedAt is zero when WorkOS sent a form we cannot read.
type Event struct {
	ID        string
	Type      string
	CreatedAt time.Time
	Raw       json.RawMessage
}

// ListEvents returns one page of events.
//
// It calls GET /events itself instead of the v4 SDK's events.ListEvents: the
// SDK's events.Event decodes created_at into a time.Time, so one envelope with
// a non-RFC 3339 created_at (the "2006-01-02 15:04:05.000" form appears in
// WorkOS samples, reference §4.3) fails the whole page, and it drops object and
// context, while the inbox must store each envelope verbatim. The request has
// the SDK's shape: the type filter as repeated events= keys (the only form an
// official Go client is known to send, §7.1), limit, after and range_start in
// RFC 3339; order=asc is sent too, though WorkOS is reported to list oldest
// first whatever the order.
func (c *Client) ListEvents(ctx context.Context, q EventsQuery) (EventPage, error) {
	const op = "workos list events"
	v := url.Values{"events": q.Types, "order": {"asc"}}
	limit := q.Limit
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit
	}
	v.Set("limit", strconv.Itoa(limit))
	if q.After != "" {
		v.Set("after", q.After)
	}
	if !q.RangeStart.IsZero() {
		v.Set("range_start", q.RangeStart.UTC().Format(time.RFC3339Nano))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint+"/events?"+v.Encode(), nil)
	if err != nil {
		return EventPage{}, c.wrapErr(ctx, op, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "seatsync workos-go/v4")
	res, err := c.http.Do(req)
	if err != nil {
		return EventPage{}, c.wrapErr(ctx, op, err)
	}
	defer res.Body.Close()
	// The SDK's own parser, so direct calls fail exactly like SDK calls.
	if err := workos_errors.TryGetHTTPError(res); err != nil {
		return EventPage{}, c.wrapErr(ctx, op, err)
	}
	var body struct {
		Data         []json.RawMessage `json:"data"`
		ListMetadata struct {
			After *string `json:"after"`
		} `json:"list_metadata"`
	}
	if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
		return EventPage{}, c.wrapErr(ctx, op, err)
	}
	page := EventPage{Events: make([]Event, 0, len(body.Data))}
	if body.ListMetadata.After != nil {
		page.After = *body.ListMetadata.After
	}
	for _, raw := range body.Data {
		if ev, ok := c.decodeEvent(ctx, raw); ok {
			page.Events = append(page.Events, ev)
		}
	}
	return page, nil
}

// decodeEvent reads the envelope's head. An envelope without id or event
// cannot be deduplicated or dispatched; it is logged and skipped rather than
// failing the page, which would stall the poller on it forever.
func (c *Client) decodeEvent(ctx context.Context, raw json.RawMessage) (Event, bool) {
	var head struct {
		ID        string `json:"id"`
		Event     string `json:"event"`
		CreatedAt string `json:"created_at"`
	}
	if err := json.Unmarshal(raw, &head); err != nil || head.ID == "" || head.Event == "" {
		c.log.WarnContext(ctx, "workos event without id or type skipped", "event_id", head.ID, "err", err)
		return Event{}, false
	}
	created, ok := parseTime(head.CreatedAt)
	if !ok {
		c.log.WarnContext(ctx, "workos event created_at unreadable", "event_id", head.ID, "event_type", head.Event)
	}
	return Event{ID: head.ID, Type: head.Event, CreatedAt: created, Raw: raw}, true
}

// parseTime reads a WorkOS timestamp: RFC 3339, or the space-separated form
// without a zone seen in some WorkOS samples ("2023-04-28 20:05:31.093"), taken
// as UTC. ok is false for anything else.
func parseTime(v string) (t time.Time, ok bool) {
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t, true
	}
	if t, err := time.ParseInLocation("2006-01-02 15:04:05.999999999", v, time.UTC); err == nil {
		return t, true
	}
	return time.Time{}, false
}
