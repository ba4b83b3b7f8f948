package server

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
)

// reconcileDirectory starts a reconciliation of the plan's directories (SPEC
// §5) and answers 202 at once: the directories' leases are taken in the
// request, so a run already in progress is a 409 reconcile_running, and the
// listing runs in the background. Its progress shows in the plan status.
func (s *Server) reconcileDirectory(c echo.Context) error {
	if s.Reconciler == nil {
		return workosapi.ErrNotConfigured()
	}
	planID := c.Param("plan_id")
	job, err := s.Reconciler.Begin(c.Request().Context(), planID)
	if err != nil {
		return err
	}
	// The run outlives the request; a timeout still bounds it, and an
	// interrupted run resumes from its cursor next time.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request().Context()), s.ReconcileTimeout)
	rid := requestID(c)
	go func() {
		defer cancel()
		rep, err := job.Run(ctx, nil)
		if err != nil {
			s.Log.Warn("reconciliation failed", "request_id", rid, "plan_id", planID, "err", err)
			return
		}
		s.Log.Info("reconciliation complete", "request_id", rid, "plan_id", planID, "listed", rep.Listed,
			"changed", rep.Changed, "gone", rep.Gone, "requests", rep.Requests, "duration", rep.Duration)
	}()
	return c.JSON(http.StatusAccepted, map[string]string{"status": "started"})
}

// reconciliationStatus is the drift report in the plan status: the latest run
// of each of the plan's directories, summed. State is running while any run
// is (progress: listed grows page by page), interrupted when a run stopped on
// an error and will resume from its cursor, failed when one failed for good,
// else complete. started_at is the earliest start, finished_at the latest end
// (null until every run has ended), updated_at the last progress saved;
// requests counts GET /directory_users requests, retries included; error is
// the first directory's error.
type reconciliationStatus struct {
	State      string     `json:"state"`
	StartedAt  time.Time  `json:"started_at"`
	FinishedAt *time.Time `json:"finished_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	Listed     int        `json:"listed"`
	Changed    int        `json:"changed"`
	Gone       int        `json:"gone"`
	Requests   int        `json:"requests"`
	Error      string     `json:"error"`
}

// summarize returns nil when the plan was never reconciled.
func summarize(rows []store.ReconciliationRow) *reconciliationStatus {
	if len(rows) == 0 {
		return nil
	}
	rank := map[string]int{"complete": 0, "failed": 1, "interrupted": 2, "running": 3}
	st := &reconciliationStatus{State: "complete", StartedAt: rows[0].StartedAt}
	finished := true
	for _, r := range rows {
		state := r.State
		if state == store.ReconcileRunning && r.Error != "" {
			state = "interrupted"
		}
		if rank[state] > rank[st.State] {
			st.State = state
		}
		if r.StartedAt.Before(st.StartedAt) {
			st.StartedAt = r.StartedAt
		}
		if r.UpdatedAt.After(st.UpdatedAt) {
			st.UpdatedAt = r.UpdatedAt
		}
		if r.FinishedAt == nil {
			finished = false
		} else if st.FinishedAt == nil || r.FinishedAt.After(*st.FinishedAt) {
			st.FinishedAt = r.FinishedAt
		}
		st.Listed, st.Changed, st.Gone, st.Requests = st.Listed+r.Listed, st.Changed+r.Changed, st.Gone+r.Gone, st.Requests+r.Requests
		if st.Error == "" {
			st.Error = r.Error
		}
	}
	if !finished {
		st.FinishedAt = nil
	}
	return st
}
