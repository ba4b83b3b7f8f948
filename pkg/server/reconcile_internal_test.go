package server

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/store"
)

func TestSummarize(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(m int) *time.Time { v := t0.Add(time.Duration(m) * time.Minute); return &v }
	complete := store.ReconciliationRow{State: "complete", StartedAt: t0, FinishedAt: at(5), UpdatedAt: *at(5), Listed: 10, Changed: 2, Gone: 1, Requests: 1}
	failed := store.ReconciliationRow{State: "failed", StartedAt: *at(-1), FinishedAt: at(3), UpdatedAt: *at(3), Listed: 5, Requests: 2, Error: "workos_invalid_request: …"}
	interrupted := store.ReconciliationRow{State: "running", StartedAt: *at(1), UpdatedAt: *at(2), Listed: 100, Requests: 7, Error: "workos_unavailable: …"}
	running := store.ReconciliationRow{State: "running", StartedAt: *at(1), UpdatedAt: *at(4), Listed: 200, Requests: 2}
	for _, c := range []struct {
		name     string
		rows     []store.ReconciliationRow
		state    string
		finished *time.Time
		listed   int
		err      string
	}{
		{"one complete", []store.ReconciliationRow{complete}, "complete", at(5), 10, ""},
		{"failed beats complete", []store.ReconciliationRow{complete, failed}, "failed", at(5), 15, failed.Error},
		{"interrupted beats failed", []store.ReconciliationRow{failed, interrupted}, "interrupted", nil, 105, failed.Error},
		{"running beats all", []store.ReconciliationRow{complete, interrupted, running}, "running", nil, 310, interrupted.Error},
	} {
		got := summarize(c.rows)
		if got.State != c.state || got.Listed != c.listed || got.Error != c.err ||
			(got.FinishedAt == nil) != (c.finished == nil) || (c.finished != nil && !got.FinishedAt.Equal(*c.finished)) {
			t.Errorf("%s: summarize = %+v, want state %s, listed %d, finished %v, error %q", c.name, got, c.state, c.listed, c.finished, c.err)
		}
	}
	if summarize(nil) != nil {
		t.Error("summarize(nil) is not nil: a never reconciled plan must show null")
	}
	if got := summarize([]store.ReconciliationRow{complete, failed}); !got.StartedAt.Equal(*at(-1)) || !got.UpdatedAt.Equal(*at(5)) {
		t.Errorf("started_at %s updated_at %s, want the earliest start and the latest update", got.StartedAt, got.UpdatedAt)
	}
}
