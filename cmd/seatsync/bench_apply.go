package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
)

// applyWatch waits until the run's events are applied and measures how fast:
// from the inbox table when the database is reachable, else from plan status.
type applyWatch struct {
	databaseURL string
	api         func(ctx context.Context, method, path string, body, out any) error
	timeout     time.Duration
	progress    io.Writer
}

// applyStats is what the watch measured.
type applyStats struct {
	stored, pending int
	seconds         float64   // first receipt to last application (or to the poll that saw none pending)
	lags            []float64 // processed_at - received_at of every event, in seconds; nil = unknown
	outcomes        map[string]int
}

// wait polls until none of the run's events is pending and `want` of them are stored.
func (w *applyWatch) wait(ctx context.Context, prefix string, want int, sendStart time.Time) (*applyStats, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	if w.databaseURL == "" {
		return w.waitAPI(ctx, sendStart)
	}
	conn, err := pgx.Connect(ctx, w.databaseURL)
	if err != nil {
		return nil, fmt.Errorf("bench: database: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	like := prefix + "%"
	last := time.Now()
	for {
		// The partial index on pending events keeps this poll cheap while the appliers work.
		var pending int
		err := conn.QueryRow(ctx, "SELECT count(*) FROM inbox_events WHERE status = 'pending' AND event_id LIKE $1", like).Scan(&pending)
		if err != nil {
			return nil, fmt.Errorf("bench: poll inbox: %w", err)
		}
		if pending == 0 {
			st, err := collectApply(ctx, conn, like)
			if err != nil || st.stored >= want || st.pending > 0 {
				return st, err
			}
			// Everything stored is applied but events are missing: they were never acknowledged.
			return st, fmt.Errorf("bench: %d of %d events are stored", st.stored, want)
		}
		if time.Since(last) >= 10*time.Second {
			fmt.Fprintf(w.progress, "bench: %d events pending\n", pending)
			last = time.Now()
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			st, _ := collectApply(context.WithoutCancel(ctx), conn, like)
			return st, fmt.Errorf("bench: %d events still pending after %v", pending, w.timeout)
		}
	}
}

// collectApply reads every event of the run: outcome, received and processed times.
func collectApply(ctx context.Context, conn *pgx.Conn, like string) (*applyStats, error) {
	rows, err := conn.Query(ctx, `SELECT status, received_at, processed_at FROM inbox_events WHERE event_id LIKE $1`, like)
	if err != nil {
		return nil, fmt.Errorf("bench: read inbox: %w", err)
	}
	defer rows.Close()
	st := &applyStats{outcomes: map[string]int{}, lags: []float64{}}
	var first, lastDone time.Time
	for rows.Next() {
		var status string
		var received time.Time
		var processed *time.Time
		if err := rows.Scan(&status, &received, &processed); err != nil {
			return nil, fmt.Errorf("bench: read inbox: %w", err)
		}
		st.stored++
		st.outcomes[status]++
		if first.IsZero() || received.Before(first) {
			first = received
		}
		if status == "pending" || processed == nil {
			st.pending++
			continue
		}
		st.lags = append(st.lags, processed.Sub(received).Seconds())
		if processed.After(lastDone) {
			lastDone = *processed
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("bench: read inbox: %w", err)
	}
	if lastDone.After(first) {
		st.seconds = lastDone.Sub(first).Seconds()
	}
	return st, nil
}

// waitAPI polls the plan status; without the database the lag is unknown.
func (w *applyWatch) waitAPI(ctx context.Context, sendStart time.Time) (*applyStats, error) {
	for {
		var status struct {
			EventsPending int `json:"events_pending"`
		}
		if err := w.api(ctx, http.MethodGet, "/api/v1/plans/"+benchPlan, nil, &status); err != nil {
			return nil, err
		}
		if status.EventsPending == 0 {
			return &applyStats{seconds: time.Since(sendStart).Seconds()}, nil
		}
		if err := sleepCtx(ctx, 250*time.Millisecond); err != nil {
			return &applyStats{pending: status.EventsPending},
				fmt.Errorf("bench: %d events still pending after %v", status.EventsPending, w.timeout)
		}
	}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}
