package applier_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
)

// heard is an applier.Observer that remembers what it was told.
type heard struct {
	mu       sync.Mutex
	outcomes []string
	lags     []time.Duration
	batches  []int
}

func (h *heard) EventApplied(eventType, outcome string, lag time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.outcomes = append(h.outcomes, eventType+" "+outcome)
	h.lags = append(h.lags, lag)
}

func (h *heard) EventRetried(eventType string) {}

func (h *heard) ApplyBatch(size int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.batches = append(h.batches, size)
}

func TestObserverAndLogs(t *testing.T) {
	t.Parallel()
	w := newWorld(t, "sqlite", rules)
	obs := &heard{}
	var logs bytes.Buffer
	w.app = applier.New(w.st, applier.Options{Rules: rules, Now: func() time.Time { return w.now }, UnmatchedAfter: time.Hour,
		Observer: obs, Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	poisoned := userEvent("created", "u9", "poison@acme.test", "active", 9)
	poisoned.Payload = bytes.Replace(poisoned.Payload, []byte(`"state":"active"`), []byte(`"state":5`), 1)
	waiting := userEvent("created", "u8", "later@other.test", "active", 8)
	waiting.Payload = bytes.ReplaceAll(waiting.Payload, []byte(workosOrg), []byte("org_NOT_LINKED"))
	waiting.Payload = bytes.ReplaceAll(waiting.Payload, []byte(testDir), []byte("directory_OTHER"))
	w.put(t, dirEvent("dsync.activated", 1), userEvent("created", "u1", "a@acme.test", "active", 2),
		userEvent("created", "u2", "b@acme.test", "active", 3), poisoned, waiting)
	w.drain(t)

	want := []string{"dsync.activated applied", "dsync.user.created applied", "dsync.user.created applied", "dsync.user.created failed"}
	got := slices.Sorted(slices.Values(obs.outcomes))
	if !slices.Equal(got, want) {
		t.Errorf("outcomes heard = %q, want %q (the waiting event has none yet)", got, want)
	}
	sum := 0
	for _, n := range obs.batches {
		sum += n
	}
	if sum != 5 {
		t.Errorf("batch sizes %v sum to %d, want the 5 claimed events", obs.batches, sum)
	}
	for _, lag := range obs.lags {
		if lag < 0 || lag > time.Minute {
			t.Errorf("lag %v: want the short time since PutInbox", lag)
		}
	}

	lines := 0
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("%v: %s", err, line)
		}
		if l["event_id"] == nil {
			continue
		}
		lines++
		if l["directory_id"] != testDir || l["plan_id"] != testPlan {
			t.Errorf("event line without its directory and plan: %s", line)
		}
		if strings.Contains(line, "@acme.test") {
			t.Errorf("event line with an email: %s", line)
		}
	}
	if lines != 4 {
		t.Errorf("%d event lines, want 4 (three applied, one failed): %s", lines, logs.String())
	}
}
