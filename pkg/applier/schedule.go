package applier

import (
	"context"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// schedule runs due cutover downgrades. Every replica runs it; the
// organization lock and the due check under it let exactly one do each.
func (a *Applier) schedule(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := a.RunDueDowngrades(ctx); err != nil {
			a.opts.Log.Warn("downgrade scheduler", "err", err)
		}
	}
}

// SetBeforeDowngrade sets Options.BeforeDowngrade; call it before Run. The
// reconciler the hook runs is built from the Applier, so it cannot be in the
// Options given to New.
func (a *Applier) SetBeforeDowngrade(fn func(ctx context.Context, planID string) error) {
	a.opts.BeforeDowngrade = fn
}

// RunDueDowngrades executes every cutover downgrade whose grace has ended,
// computed from the directory state at that time, and returns how many ran.
func (a *Applier) RunDueDowngrades(ctx context.Context) (int, error) {
	now := a.opts.Now().UTC()
	due, err := a.st.DueDowngrades(ctx, now)
	if err != nil {
		return 0, err
	}
	ran := 0
	for _, planID := range due {
		if a.opts.BeforeDowngrade != nil {
			// Reconciliation refreshes the directory state first where it can.
			if err := a.opts.BeforeDowngrade(ctx, planID); err != nil {
				a.opts.Log.Warn("before downgrade", "plan_id", planID, "err", err)
			}
		}
		err := a.st.Tx(ctx, func(tx *store.Store) error {
			plan, err := tx.Plan(ctx, planID)
			if err != nil {
				return err
			}
			if err := tx.LockOrganization(ctx, plan.OrganizationID); err != nil {
				return err
			}
			if plan, err = tx.Plan(ctx, planID); err != nil || plan.DowngradeDueAt == nil || plan.DowngradeDueAt.After(now) {
				return err // another replica did it, or the plan left directory mode
			}
			n, done, err := a.downgrade(ctx, tx, planID, "", now)
			if err != nil || !done {
				return err // held: the admin's approval runs it
			}
			p := plan.Domain(a.opts.Rules)
			p.DowngradeDueAt, p.DowngradedAt = nil, &now
			if err := tx.SavePlanState(ctx, p); err != nil {
				return err
			}
			ran++
			a.opts.Log.Info("cutover downgrade", "plan_id", planID, "moved_to_free", n)
			return tx.AddAudit(ctx, membership.AuditEntry{PlanID: planID, At: now, Actor: "system", Action: membership.ActionDowngrade,
				Reason: "cutover grace ended: members not assigned in the directory moved to free"})
		})
		if err != nil {
			return ran, err
		}
	}
	return ran, nil
}
