package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/store"
)

// userCreated is a dsync.user.created envelope of directory_REPAIR; orgID ""
// leaves organization_id out, so the event cannot link an unknown directory.
func userCreated(eventID, uid, email, orgID string) []byte {
	at := time.Now().UTC().Truncate(time.Second).Format(time.RFC3339Nano)
	data := map[string]any{"object": "directory_user", "id": uid, "directory_id": "directory_REPAIR", "email": email,
		"first_name": "F", "last_name": "L", "state": "active", "created_at": at, "updated_at": at}
	if orgID != "" {
		data["organization_id"] = orgID
	}
	b, err := json.Marshal(map[string]any{"object": "event", "id": eventID, "event": "dsync.user.created", "data": data, "created_at": at})
	if err != nil {
		panic(err)
	}
	return b
}

// TestEventsRepairCommands: an event fails (its directory is unknown and it
// names no organization), `events list` shows why, the cause is fixed (another
// event links the directory), `events retry` re-queues it once, and it is
// applied exactly once however often it is retried.
func TestEventsRepairCommands(t *testing.T) {
	t.Parallel()
	environ := []string{"SEATSYNC_DATABASE_PATH=" + filepath.Join(t.TempDir(), "seatsync.db"), "SEATSYNC_LISTEN=127.0.0.1:0",
		"SEATSYNC_WEBHOOKS_SECRETS=" + testSecret, "SEATSYNC_AUTH_JWT_SECRET=" + testJWTSecret, "SEATSYNC_LOG_LEVEL=warn"}
	cfg, err := config.LoadFrom("", environ)
	if err != nil {
		t.Fatal(err)
	}
	ti := startInstance(t, cfg, false)
	cli := func(args ...string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := run(t.Context(), args, &out, io.Discard, environ)
		return out.String(), err
	}
	if out, err := cli("plans", "create", "plan_repair", "--org", "repair", "--name", "Repair", "--admin", "admin@repair.test",
		"--workos-org", "org_REPAIR"); err != nil {
		t.Fatalf("plans create: %v\n%s", err, out)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	send := func(body []byte) {
		t.Helper()
		if code := deliver(t, client, ti.url, body); code != http.StatusOK {
			t.Fatalf("delivery: %d", code)
		}
	}
	drain := func() {
		t.Helper()
		if err := ti.applier.Drain(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	send(userCreated("event_repair_orphan", "directory_user_orphan", "orphan@repair.test", ""))
	drain()

	out, err := cli("events", "list", "--outcome", "failed")
	if err != nil {
		t.Fatalf("events list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[0], "LAST ERROR") {
		t.Fatalf("events list --outcome failed =\n%s\nwant a header and one event", out)
	}
	if f := strings.Fields(lines[1]); len(f) < 6 || f[0] != "event_repair_orphan" || f[1] != "dsync.user.created" || f[2] != "failed" ||
		f[4] != "1" || !strings.Contains(lines[1], "invalid_payload: event for unknown directory") {
		t.Fatalf("failed event line = %q", lines[1])
	}

	// Retrying before the fix only parks it again.
	if out, err := cli("events", "retry", "event_repair_orphan"); err != nil || out != "retried=1 skipped=0\n" {
		t.Fatalf("events retry before the fix = %q, %v", out, err)
	}
	drain()
	// The fix: an event naming the organization links directory_REPAIR to plan_repair.
	send(userCreated("event_repair_link", "directory_user_link", "link@repair.test", "org_REPAIR"))
	drain()
	if out, err := cli("events", "retry", "--failed"); err != nil || out != "retried=1 skipped=0\n" {
		t.Fatalf("events retry --failed = %q, %v", out, err)
	}
	if out, err := cli("events", "retry", "event_repair_orphan", "event_repair_link"); err != nil || out != "retried=0 skipped=2\n" {
		t.Fatalf("events retry of a pending and an applied event = %q, %v; want both skipped", out, err)
	}
	drain()
	if out, err := cli("events", "retry", "event_repair_orphan"); err != nil || out != "retried=0 skipped=1\n" {
		t.Fatalf("events retry of the applied event = %q, %v; want skipped", out, err)
	}
	drain()

	ev, err := ti.store.InboxEvent(t.Context(), "event_repair_orphan")
	if err != nil || ev.Status != "applied" || ev.PlanID != "plan_repair" {
		t.Fatalf("event after the retry = %+v, %v; want applied on plan_repair", ev, err)
	}
	if n := auditOf(t, ti.store, "plan_repair", "event_repair_orphan"); n != 1 {
		t.Fatalf("audit entries of the retried event = %d, want exactly 1", n)
	}
	if out, err := cli("events", "list", "--outcome", "failed"); err != nil || strings.Count(out, "\n") != 1 {
		t.Fatalf("events list after the repair = %q, %v; want only the header", out, err)
	}
	if out, err := cli("events", "list", "--limit", "1"); err != nil || strings.Count(out, "\n") != 2 ||
		!strings.Contains(out, "event_repair_orphan") {
		t.Fatalf("events list --limit 1 = %q, %v; want the oldest event only", out, err)
	}

	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"events", "retry"}, "give event ids"},
		{[]string{"events", "retry", "event_x", "--failed"}, "give event ids"},
		{[]string{"events", "retry", "--failed", "--outcome", "rejected"}, "contradict"},
		{[]string{"events", "retry", "--outcome", "stale"}, "invalid_outcome"},
		{[]string{"events", "retry", "event_nope"}, "event_not_found"},
		{[]string{"events", "list", "--outcome", "lost"}, "invalid_outcome"},
		{[]string{"events", "list", "--limit", "0"}, "--limit"},
	} {
		if _, err := cli(tt.args...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s = %v; want an error mentioning %q", strings.Join(tt.args, " "), err, tt.want)
		}
	}
}

// auditOf counts a plan's audit entries caused by eventID.
func auditOf(t *testing.T, st *store.Store, planID, eventID string) int {
	t.Helper()
	entries, err := st.Audit(t.Context(), planID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, a := range entries {
		if a.EventID == eventID {
			n++
		}
	}
	return n
}
