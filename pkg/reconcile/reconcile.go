// Package reconcile lists a plan's directory users from the WorkOS API and
// applies each as a snapshot, through the same rules and versions as events
// (SPEC §5); after a complete listing it marks the users the directory no
// longer lists as gone.
//
// A run is per directory and resumable: the cursor of the last page whose
// users were applied is stored with the ids that page listed, so a run that
// fails (WorkOS down past the client's retries, a restart, a timeout) keeps
// its state "running" and the next Run continues from that cursor. A lease
// per directory (reconcile:<directory_id>) keeps it to one replica at a time.
package reconcile

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/seatsync/seatsync/pkg/applier"
	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/store"
)

// Options tunes a Reconciler.
type Options struct {
	// Lease is how long a directory stays reserved without renewal; it is
	// renewed after every page. Default one minute.
	Lease time.Duration
	// Holder names this replica in the lease table; default host-pid-random.
	Holder string
	// PageSize is the ListUsers limit, 1–100; default 100.
	PageSize int
	Log      *slog.Logger
	Now      func() time.Time
	// Progress, when set, also receives every run's progress, whoever started
	// the run (metrics); it must not block.
	Progress func(Progress)
}

// Reconciler reconciles plans' directories. It is safe for concurrent use.
type Reconciler struct {
	st   *store.Store
	app  *applier.Applier
	wos  *workosapi.Client
	opts Options
}

// New returns a Reconciler that lists through wos and applies through app.
func New(st *store.Store, app *applier.Applier, wos *workosapi.Client, opts Options) *Reconciler {
	if opts.Lease <= 0 {
		opts.Lease = time.Minute
	}
	if opts.Holder == "" {
		host, _ := os.Hostname()
		opts.Holder = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), randomHex(4))
	}
	if opts.PageSize <= 0 || opts.PageSize > 100 {
		opts.PageSize = 100
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Reconciler{st: st, app: app, wos: wos, opts: opts}
}

// Progress is reported after every page and at the end of each directory.
type Progress struct {
	PlanID      string
	DirectoryID string
	Directory   int    // 1-based index of the directory in this run
	Directories int    // directories in this run
	Phase       string // "listing", "marking" (users gone) or "done"
	Resumed     bool   // the directory's run continued an interrupted one
	Listed      int
	Expected    int // live users stored when the directory's run began: an estimate (0 = unknown) for progress bars
	Changed     int
	Gone        int
	Requests    int
}

// Report sums a reconciliation over the plan's directories. Listed, Changed,
// Gone and Requests are the totals of each directory's run, including the part
// an interrupted run did before it was resumed; Requests also counts this
// call's directory listing. Changed counts snapshots that were applied (newer
// than what was stored, or a new user); Gone counts users marked gone.
type Report struct {
	Directories int
	Resumed     int
	Listed      int
	Changed     int
	Gone        int
	Requests    int
	Duration    time.Duration
}

// Run reconciles every directory of the plan: Begin, then Job.Run.
func (r *Reconciler) Run(ctx context.Context, planID string, progress func(Progress)) (Report, error) {
	j, err := r.Begin(ctx, planID)
	if err != nil {
		return Report{}, err
	}
	return j.Run(ctx, progress)
}

// Job is a reconciliation whose directories' leases are taken. Call Run once;
// it releases them.
type Job struct {
	r        *Reconciler
	planID   string
	orgID    string
	dirs     []string
	begun    time.Time
	requests atomic.Int64 // requests sent by this job
}

// Begin finds the plan's directories (those the store links to it and those
// WorkOS lists for its organization, deleted ones left out) and takes each
// one's lease. It fails with Invalid when the plan has no WorkOS organization
// or no directory, and with Conflict reconcile_running when another replica
// is reconciling one of them. Callers that answer at once (the HTTP API)
// call Begin in the request and Job.Run in the background.
func (r *Reconciler) Begin(ctx context.Context, planID string) (*Job, error) {
	plan, err := r.st.Plan(ctx, planID)
	if err != nil {
		return nil, err
	}
	if plan.WorkOSOrganizationID == nil || *plan.WorkOSOrganizationID == "" {
		return nil, membership.Errorf(membership.Invalid, "scim_not_configured",
			"plan has no WorkOS organization; configure SCIM first")
	}
	j := &Job{r: r, planID: planID, orgID: *plan.WorkOSOrganizationID, begun: time.Now()}
	if j.dirs, err = r.directories(workosapi.CountRequests(ctx, &j.requests), planID, j.orgID); err != nil {
		return nil, err
	}
	if len(j.dirs) == 0 {
		return nil, membership.Errorf(membership.Invalid, "no_directory",
			"WorkOS lists no directory for organization %s; finish the directory setup first", j.orgID)
	}
	for i, d := range j.dirs {
		ok, err := r.st.TryLease(ctx, leaseName(d), r.opts.Holder, r.opts.Lease)
		if err == nil && !ok {
			err = membership.Errorf(membership.Conflict, "reconcile_running",
				"a reconciliation of directory %s is already running", d)
		}
		if err != nil {
			j.dirs = j.dirs[:i]
			j.release(ctx)
			return nil, err
		}
	}
	return j, nil
}

// directories are the plan's directories to reconcile, sorted by id. A
// directory WorkOS lists but the store does not know is reconciled only when
// linked: its first snapshot links it to the plan (SPEC §4.1), which a
// directory still being set up must not do. One the store links but WorkOS no
// longer lists has no users to list; it is skipped (its dsync.deleted decides).
func (r *Reconciler) directories(ctx context.Context, planID, orgID string) ([]string, error) {
	listed, err := r.wos.ListDirectories(ctx, orgID)
	if err != nil {
		return nil, err
	}
	stored, err := r.st.PlanDirectories(ctx, planID)
	if err != nil {
		return nil, err
	}
	known := map[string]string{}
	for _, d := range stored {
		known[d.ID] = d.State
	}
	var out []string
	for _, d := range listed {
		state, ok := known[d.ID]
		switch {
		case d.State == "deleting" || state == string(membership.DirectoryDeleted):
		case ok || d.State == "linked":
			out = append(out, d.ID)
		}
		delete(known, d.ID)
	}
	for id, state := range known {
		if state != string(membership.DirectoryDeleted) {
			r.opts.Log.Warn("reconcile: directory not listed by WorkOS; skipped", "plan_id", planID, "directory_id", id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Run reconciles the job's directories one after another, then releases their
// leases. A directory that fails does not stop the others; the errors are
// joined.
func (j *Job) Run(ctx context.Context, progress func(Progress)) (Report, error) {
	defer j.release(ctx)
	if progress == nil {
		progress = func(Progress) {}
	}
	if observe := j.r.opts.Progress; observe != nil {
		report := progress
		progress = func(p Progress) { observe(p); report(p) }
	}
	ctx = workosapi.CountRequests(ctx, &j.requests)
	rep := Report{Directories: len(j.dirs)}
	listing := int(j.requests.Load())
	var errs []error
	for i, d := range j.dirs {
		row, resumed, err := j.directory(ctx, i, d, progress)
		rep.Listed, rep.Changed, rep.Gone, rep.Requests = rep.Listed+row.Listed, rep.Changed+row.Changed, rep.Gone+row.Gone, rep.Requests+row.Requests
		if resumed {
			rep.Resumed++
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reconcile directory %s: %w", d, err))
		}
	}
	rep.Requests += listing
	rep.Duration = time.Since(j.begun)
	return rep, errors.Join(errs...)
}

// renew extends every lease of the job; losing one means another replica
// took the directory over after this one stalled past the lease.
func (j *Job) renew(ctx context.Context) error {
	for _, d := range j.dirs {
		ok, err := j.r.st.TryLease(ctx, leaseName(d), j.r.opts.Holder, j.r.opts.Lease)
		if err != nil {
			return err
		}
		if !ok {
			return membership.Errorf(membership.Conflict, "reconcile_running",
				"the reconciliation of directory %s was taken over by another replica", d)
		}
	}
	return nil
}

// release gives the leases up, even when ctx has ended.
func (j *Job) release(ctx context.Context) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	for _, d := range j.dirs {
		if err := j.r.st.ReleaseLease(ctx, leaseName(d), j.r.opts.Holder); err != nil {
			j.r.opts.Log.Warn("reconcile: release lease", "directory_id", d, "err", err)
		}
	}
}

func leaseName(dirID string) string { return "reconcile:" + dirID }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
