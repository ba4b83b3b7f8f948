package reconcile

import (
	"context"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// Every reconciles each plan linked to a WorkOS organization now and then
// every interval, until ctx ends. Every replica may run it: the directories'
// leases let one at a time reconcile each, and an interrupted run is resumed
// on the next round.
func (r *Reconciler) Every(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		r.All(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// All reconciles each plan linked to a WorkOS organization once, logging
// failures; plans another replica is reconciling, and plans without a
// directory yet, are skipped quietly.
func (r *Reconciler) All(ctx context.Context) {
	plans, err := r.st.Plans(ctx)
	if err != nil {
		r.opts.Log.Warn("scheduled reconciliation: list plans", "err", err)
		return
	}
	for _, p := range plans {
		if ctx.Err() != nil {
			return
		}
		if p.WorkOSOrganizationID == nil || *p.WorkOSOrganizationID == "" {
			continue
		}
		rep, err := r.Run(ctx, p.ID, nil)
		switch code := membership.ErrorCode(err); {
		case err == nil:
			r.opts.Log.Info("scheduled reconciliation", "plan_id", p.ID, "listed", rep.Listed, "changed", rep.Changed,
				"gone", rep.Gone, "requests", rep.Requests, "duration", rep.Duration)
		case code == "reconcile_running" || code == "no_directory":
			r.opts.Log.Debug("scheduled reconciliation skipped", "plan_id", p.ID, "err", err)
		default:
			r.opts.Log.Warn("scheduled reconciliation", "plan_id", p.ID, "err", err)
		}
	}
}

// BeforeDowngrade is the applier's hook before a scheduled cutover downgrade
// (SPEC §3, cutover grace): it reconciles the plan first, so the downgrade is
// computed from the directory as WorkOS lists it. When another replica is
// already reconciling the plan it waits for that run (up to maxWait) instead
// of starting a second listing; when the downgrade has meanwhile been done
// elsewhere it does nothing.
func (r *Reconciler) BeforeDowngrade(ctx context.Context, planID string) error {
	const maxWait = 15 * time.Minute
	plan, err := r.st.Plan(ctx, planID)
	if err != nil || plan.DowngradeDueAt == nil {
		return err
	}
	_, err = r.Run(ctx, planID, nil)
	if membership.ErrorCode(err) != "reconcile_running" {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, maxWait)
	defer cancel()
	for {
		busy, err := r.busy(ctx, planID)
		if err != nil || !busy {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// busy reports whether any directory of the plan is leased for reconciliation.
func (r *Reconciler) busy(ctx context.Context, planID string) (bool, error) {
	dirs, err := r.st.PlanDirectories(ctx, planID)
	if err != nil {
		return false, err
	}
	for _, d := range dirs {
		held, err := r.st.LeaseHeld(ctx, leaseName(d.ID))
		if err != nil || held {
			return held, err
		}
	}
	return false, nil
}
