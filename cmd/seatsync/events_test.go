package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// polledHistory is one plan's directory life told as WorkOS envelopes (the
// shape genHistory builds), dated within the Events API's retention window.
// missed is a dsync.user.created whose webhook never arrived.
type polledHistory struct {
	history
	missed      []byte
	missedEmail string
}

func genPolledHistory(base time.Time) polledHistory {
	h := polledHistory{history: history{planID: "plan_ev", orgID: "org_ev", workosOrg: "org_WEV", dirID: "directory_EV", limit: 10}}
	seq := 0
	ev := func(typ string, data map[string]any) []byte {
		seq++
		at := base.Add(time.Duration(seq) * time.Second)
		data["updated_at"] = at.Format(time.RFC3339Nano)
		b, _ := json.Marshal(map[string]any{"object": "event", "id": fmt.Sprintf("event_EV_%03d", seq), "event": typ,
			"data": data, "created_at": at.Format(time.RFC3339Nano)})
		return b
	}
	user := func(i int, state string) map[string]any {
		id := fmt.Sprintf("directory_user_EV_%d", i)
		return map[string]any{"object": "directory_user", "id": id, "directory_id": h.dirID, "organization_id": h.workosOrg,
			"email": fmt.Sprintf("u%d@ev.test", i), "first_name": "F", "last_name": "L", "state": state, "idp_id": id,
			"created_at": base.Format(time.RFC3339Nano)}
	}
	h.events = append(h.events, ev("dsync.activated", map[string]any{"object": "directory", "id": h.dirID,
		"organization_id": h.workosOrg, "type": "okta scim v2.0", "name": "Directory", "state": "active",
		"domains": []any{}, "created_at": base.Format(time.RFC3339Nano)}))
	for i := range 6 {
		h.events = append(h.events, ev("dsync.user.created", user(i, "active")))
	}
	h.missed, h.missedEmail = ev("dsync.user.created", user(6, "active")), "u6@ev.test"
	h.events = append(h.events,
		ev("dsync.user.updated", user(1, "inactive")),
		ev("dsync.user.updated", user(2, "active")),
		ev("dsync.user.deleted", user(3, "active")),
		ev("dsync.user.updated", user(1, "active")))
	return h
}

// TestEventsPollerFillsMissedWebhook runs serve with webhooks and the Events
// API poller on the same events (on Postgres, two replicas): a
// dsync.user.created whose webhook was missed is filled in by the poller,
// every event is stored and applied exactly once, and the seats match one
// instance that got every event as a webhook.
func TestEventsPollerFillsMissedWebhook(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		h := genPolledHistory(time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second))
		all := append([][]byte{h.missed}, h.events...)
		fake := workostest.New(t)
		opts := storetest.Options(t, dialect)
		cfg := testConfig(t, opts, "SEATSYNC_WORKOS_API_KEY="+fake.APIKey, "SEATSYNC_WORKOS_ENDPOINT="+fake.URL,
			"SEATSYNC_WORKOS_EVENTS_POLL_INTERVAL=100ms")
		replicas := 1
		if dialect == "postgres" {
			replicas = 2
		}
		var urls []string
		for range replicas {
			urls = append(urls, serveInBackground(t, cfg))
		}
		h.setup(t, &testInstance{url: urls[0]})

		// Every webhook but the missed one goes to every replica: the first half
		// before the Events API lists anything, the rest while the pollers pull.
		half := len(h.events) / 2
		send := func(evs [][]byte) {
			var bodies [][]byte
			var to []string
			for _, b := range evs {
				for _, u := range urls {
					bodies, to = append(bodies, b), append(to, u)
				}
			}
			sendAllTo(t, to, bodies, 4)
		}
		send(h.events[:half])
		for _, b := range all {
			fake.AddEvent(b)
		}
		send(h.events[half:])

		st := storetest.OpenWith(t, opts)
		waitApplied(t, st, len(all))
		if n := fake.Requests("/events"); n == 0 {
			t.Fatal("the poller never called GET /events")
		}
		missedID := envelopeID(t, h.missed)
		if ev, err := st.InboxEvent(t.Context(), missedID); err != nil || ev.Source != "events_api" || ev.Status != "applied" {
			t.Fatalf("missed event %s = %+v, %v; want stored from the Events API and applied", missedID, ev, err)
		}
		for _, b := range h.events[:half] {
			if ev, err := st.InboxEvent(t.Context(), envelopeID(t, b)); err != nil || ev.Source != "webhook" {
				t.Errorf("event %s = %+v, %v; want it stored from its webhook, before the Events API listed it", envelopeID(t, b), ev, err)
			}
		}
		ms, err := st.Members(t.Context(), h.orgID, []string{h.missedEmail})
		if err != nil || ms[h.missedEmail].PlanID != h.planID {
			t.Fatalf("member %s = %+v, %v; want a seat on %s", h.missedEmail, ms[h.missedEmail], err, h.planID)
		}
		audit, err := st.Audit(t.Context(), h.planID, 0, 10000)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, a := range audit {
			if a.EventID == "" {
				continue
			}
			k := a.EventID + " " + a.MemberEmail + " " + a.Action
			if seen[k] {
				t.Errorf("audit entry written twice: %s", k)
			}
			seen[k] = true
		}

		ref := startInstance(t, testConfig(t, storetest.Options(t, "sqlite")), false)
		h.setup(t, ref)
		sendAll(t, []string{ref.url}, all, 1)
		if err := ref.applier.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
		if want, got := dump(t, ref), dump(t, &testInstance{instance: &instance{store: st}}); want != got {
			t.Fatalf("seats differ from one instance that got every webhook:\n%s", diffLines(want, got))
		}
	})
}

// serveInBackground runs serve with cfg until the test ends; it returns its URL.
func serveInBackground(t *testing.T, cfg *config.Config) string {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	t.Cleanup(func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	select {
	case addr := <-ready:
		return "http://" + addr
	case err := <-served:
		t.Fatalf("serve: %v", err)
		return ""
	}
}

// sendAllTo delivers bodies[i] to urls[i] with `senders` concurrent senders.
func sendAllTo(t *testing.T, urls []string, bodies [][]byte, senders int) {
	t.Helper()
	client := &http.Client{Timeout: 30 * time.Second}
	work := make(chan int)
	done := make(chan struct{})
	for range senders {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range work {
				if c := deliver(t, client, urls[i], bodies[i]); c != http.StatusOK {
					t.Errorf("delivery %d: status %d", i, c)
				}
			}
		}()
	}
	for i := range bodies {
		work <- i
	}
	close(work)
	for range senders {
		<-done
	}
}

// waitApplied waits until the inbox holds n events and none is pending; it
// fails if one ended in another outcome than applied or stale.
func waitApplied(t *testing.T, st *store.Store, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		counts, err := st.InboxCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var total int64
		for _, c := range counts {
			total += c
		}
		if total > int64(n) {
			t.Fatalf("inbox holds %d events, want %d: an event was stored twice", total, n)
		}
		if total == int64(n) && counts["pending"] == 0 {
			// Webhooks race the poller, so an older update can come last: stale is fine.
			if counts["applied"]+counts["stale"] != int64(n) {
				t.Fatalf("inbox outcomes %v, want all %d applied or stale", counts, n)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("inbox outcomes %v after 30s, want %d events applied", counts, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func envelopeID(t *testing.T, body []byte) string {
	t.Helper()
	var e struct{ ID string }
	if err := json.NewDecoder(bytes.NewReader(body)).Decode(&e); err != nil || !strings.HasPrefix(e.ID, "event_") {
		t.Fatalf("envelope id: %v", err)
	}
	return e.ID
}

// TestEventsPullCommand runs `seatsync events pull` twice: the first stores
// the listed events and prints its report, the second finds nothing new.
func TestEventsPullCommand(t *testing.T) {
	t.Parallel()
	fake := workostest.New(t)
	for i := range 3 {
		fake.Emit("dsync.user.created", time.Now().Add(-time.Duration(3-i)*time.Minute), map[string]any{"id": fmt.Sprint("directory_user_", i)})
	}
	environ := []string{"SEATSYNC_DATABASE_PATH=" + t.TempDir() + "/seatsync.db", "SEATSYNC_LOG_LEVEL=warn"}
	pull := func(env ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), []string{"events", "pull"}, &out, io.Discard, append(environ, env...))
		return out.String(), err
	}
	withKey := []string{"SEATSYNC_WORKOS_API_KEY=" + fake.APIKey, "SEATSYNC_WORKOS_ENDPOINT=" + fake.URL}
	out, err := pull(withKey...)
	if err != nil || !strings.HasPrefix(out, "pages=1 fetched=3 stored=3 duplicates=0 restarts=0 cursor=event_") {
		t.Fatalf("first pull = %q, %v; want 3 stored", out, err)
	}
	cursor := out[strings.Index(out, "cursor="):]
	if out, err := pull(withKey...); err != nil || !strings.HasPrefix(out, "pages=1 fetched=0 stored=0 duplicates=0 restarts=0 ") ||
		!strings.Contains(out, cursor) {
		t.Fatalf("second pull = %q, %v; want nothing new at %s", out, err, cursor)
	}
	if _, err := pull(); err == nil || !strings.Contains(err.Error(), "workos_not_configured") {
		t.Fatalf("pull without an API key = %v; want workos_not_configured", err)
	}
}
