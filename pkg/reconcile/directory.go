package reconcile

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
)

// dirRun is one directory's run in progress.
type dirRun struct {
	j        *Job
	row      store.ReconciliationRow
	p        Progress
	progress func(Progress)
	requests atomic.Int64 // list requests sent by this call, added to row.Requests
	base     int          // row.Requests when this call took the run over
}

// directory lists, applies and marks one directory, starting or resuming its
// run, and returns the run's row as last saved.
func (j *Job) directory(ctx context.Context, i int, dirID string, progress func(Progress)) (store.ReconciliationRow, bool, error) {
	r := j.r
	row, resumed, err := r.st.StartReconciliation(ctx, dirID, j.planID, "rec_"+randomHex(8), r.opts.Now())
	if err != nil {
		return row, false, err
	}
	expected, err := r.st.LiveDirectoryUsers(ctx, dirID)
	if err != nil {
		return row, resumed, err
	}
	d := &dirRun{j: j, row: row, progress: progress, base: row.Requests,
		p: Progress{PlanID: j.planID, DirectoryID: dirID, Directory: i + 1, Directories: len(j.dirs), Resumed: resumed, Expected: int(expected)}}
	log := r.opts.Log.With("plan_id", j.planID, "directory_id", dirID, "run_id", row.RunID)
	log.Info("reconcile: directory started", "resumed", resumed, "cursor", row.Cursor)
	err = d.list(workosapi.CountRequests(ctx, &d.requests))
	if err == nil {
		err = d.markGone(ctx)
	}
	if err != nil {
		d.fail(ctx, err)
		log.Warn("reconcile: directory interrupted", "state", d.row.State, "listed", d.row.Listed, "err", err)
		return d.row, resumed, err
	}
	now := r.opts.Now().UTC()
	d.row.State, d.row.FinishedAt, d.row.Error = store.ReconcileComplete, &now, ""
	if err := d.save(ctx, nil); err != nil {
		return d.row, resumed, err
	}
	d.report("done")
	log.Info("reconcile: directory complete", "listed", d.row.Listed, "changed", d.row.Changed, "gone", d.row.Gone,
		"requests", d.row.Requests)
	return d.row, resumed, nil
}

// list pages through the directory's users from the stored cursor. Each page
// is applied first and then saved with its ids, so a crash in between lists
// the page again: its snapshots are then stale and change nothing.
func (d *dirRun) list(ctx context.Context) error {
	r := d.j.r
	for {
		if err := d.j.renew(ctx); err != nil {
			return err
		}
		page, err := r.wos.ListUsers(ctx, d.row.DirectoryID, d.row.Cursor, r.opts.PageSize)
		if err != nil {
			return err
		}
		ids := make([]string, 0, len(page.Users))
		for _, u := range page.Users {
			ids = append(ids, u.ID)
		}
		changed, err := d.apply(ctx, page.Users)
		if err != nil {
			return err
		}
		d.row.Changed += changed
		d.row.Listed += len(page.Users)
		switch {
		case page.After != "":
			d.row.Cursor = page.After
		case len(ids) > 0:
			// The end of the listing. WorkOS cursors are keyset positions, so
			// a resume after this save lists nothing more and goes on to
			// marking, instead of listing everything again.
			d.row.Cursor = ids[len(ids)-1]
		}
		if err := d.save(ctx, ids); err != nil {
			return err
		}
		d.report("listing")
		if page.After == "" {
			return nil
		}
	}
}

// apply applies a page of listed users as snapshots, in one transaction, and
// reports how many changed what was stored: applied, rather than stale (an
// event or an earlier snapshot already carried this data or newer) or refused.
func (d *dirRun) apply(ctx context.Context, page []workosapi.User) (int, error) {
	log := d.j.r.opts.Log
	us := make([]membership.DirectoryUser, 0, len(page))
	for _, wu := range page {
		if wu.DirectoryID != "" && wu.DirectoryID != d.row.DirectoryID {
			log.Warn("reconcile: user listed under another directory; skipped", "directory_id", d.row.DirectoryID, "user_id", wu.ID)
			continue
		}
		us = append(us, directoryUser(wu, d.row.DirectoryID, d.j.orgID))
	}
	outs, err := d.j.r.app.ApplySnapshots(ctx, us, actor(d.row.DirectoryID))
	if err != nil {
		return 0, err
	}
	changed := 0
	for i, out := range outs {
		switch out {
		case membership.OutcomeApplied:
			changed++
		case membership.OutcomeRejected, membership.OutcomeConflict:
			log.Warn("reconcile: snapshot refused", "directory_id", d.row.DirectoryID, "user_id", us[i].ID, "outcome", out)
		}
	}
	return changed, nil
}

// markGone tombstones the stored users a complete listing did not show,
// versioned at the run's start so an event newer than the listing wins.
func (d *dirRun) markGone(ctx context.Context) error {
	r := d.j.r
	if held, err := d.holdSweep(ctx); err != nil || held {
		return err // held: the admin's approval marks them gone
	}
	after := ""
	for {
		if err := d.j.renew(ctx); err != nil {
			return err
		}
		users, err := r.st.UnseenDirectoryUsers(ctx, d.row.DirectoryID, d.row.RunID, after, r.opts.PageSize)
		if err != nil || len(users) == 0 {
			return err
		}
		after = users[len(users)-1].ID
		outs, err := r.app.MarkGone(ctx, users, d.row.StartedAt, actor(d.row.DirectoryID))
		if err != nil {
			return fmt.Errorf("mark users gone: %w", err)
		}
		for _, out := range outs {
			if out == membership.OutcomeApplied {
				d.row.Gone++
			}
		}
		if err := d.save(ctx, nil); err != nil {
			return err
		}
		d.report("marking")
	}
}

// holdSweep asks the mass-revocation guard before anyone is marked gone: a
// sweep that would free too many of the plan's paid seats waits for an admin.
func (d *dirRun) holdSweep(ctx context.Context) (bool, error) {
	r := d.j.r
	var gone []membership.DirectoryUser
	after := ""
	for {
		users, err := r.st.UnseenDirectoryUsers(ctx, d.row.DirectoryID, d.row.RunID, after, r.opts.PageSize)
		if err != nil {
			return false, err
		}
		if len(users) == 0 {
			break
		}
		gone = append(gone, users...)
		after = users[len(users)-1].ID
	}
	held, err := r.app.HoldSweep(ctx, d.j.planID, d.row.DirectoryID, gone, d.row.StartedAt)
	if held {
		r.opts.Log.Warn("reconcile: marking users gone held for an admin", "plan_id", d.j.planID,
			"directory_id", d.row.DirectoryID, "users", len(gone))
	}
	return held, err
}

// fail records err on the run. WorkOS refusing the request itself (a cursor
// or directory it no longer knows) ends the run as failed, so the next one
// starts over; anything else (WorkOS unavailable or rate limiting past the
// retries, the database, a timeout, shutdown) leaves it running with its
// cursor, to be resumed. A run another replica took over is left alone.
func (d *dirRun) fail(ctx context.Context, err error) {
	if membership.ErrorCode(err) == "reconcile_running" {
		return
	}
	d.row.Error = errorText(err)
	if code := membership.ErrorCode(err); code == "workos_invalid_request" || code == "workos_not_found" {
		now := d.j.r.opts.Now().UTC()
		d.row.State, d.row.FinishedAt = store.ReconcileFailed, &now
	}
	// Record it even when ctx has ended: that is the resumable case.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if serr := d.save(ctx, nil); serr != nil {
		d.j.r.opts.Log.Warn("reconcile: record failure", "directory_id", d.row.DirectoryID, "err", serr)
	}
}

// save stores the row with this call's request count and the page's ids.
func (d *dirRun) save(ctx context.Context, seen []string) error {
	d.row.Requests = d.base + int(d.requests.Load())
	return d.j.r.st.SaveReconciliation(ctx, d.row, seen)
}

func (d *dirRun) report(phase string) {
	d.p.Phase, d.p.Listed, d.p.Changed, d.p.Gone, d.p.Requests = phase, d.row.Listed, d.row.Changed, d.row.Gone, d.row.Requests
	d.progress(d.p)
}

// errorText is what the plan status shows: a domain error's code and
// message, never a raw database or network error (those go to the log).
func errorText(err error) string {
	var me *membership.Error
	if errors.As(err, &me) {
		return me.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return "interrupted: " + err.Error()
	}
	return "internal error; see the logs"
}

func actor(dirID string) string { return "reconcile:" + dirID }
