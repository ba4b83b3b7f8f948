package applier

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// The mass-revocation guard: a single change that would revoke more than
// Guard.Share of a plan's paid seats (and at least Guard.Min) is held for an
// admin instead of applied. While a plan has a held change, every seat
// revocation of that plan waits with it; directory users are still updated,
// and seats are still granted.

// guardChanges holds r's revocations of plan when the guard says so and
// returns the result with them removed. inRun counts revocations of the
// plan already decided in this transaction but not yet written.
func (a *Applier) guardChanges(ctx context.Context, tx *store.Store, planID string, r membership.UserResult, inRun int, now time.Time) (membership.UserResult, bool, error) {
	revoke, keep := membership.Revocations(planID, r.Changes)
	if len(revoke) == 0 || a.opts.Guard.Share <= 0 {
		return r, false, nil
	}
	h, err := tx.ActiveHold(ctx, planID)
	if err != nil {
		return r, false, err
	}
	if h == nil {
		recent, err := tx.RecentRevocations(ctx, planID, now.Add(-a.opts.Guard.Window))
		if err != nil {
			return r, false, err
		}
		paid, err := tx.PaidCount(ctx, planID)
		if err != nil {
			return r, false, err
		}
		// The counter still includes this run's unwritten revocations, so
		// paid+recent is the plan's size when the burst began.
		if !a.opts.Guard.Holds(recent+inRun+len(revoke), paid+recent) {
			return r, false, nil
		}
	}
	held := map[string]bool{}
	emails := make([]string, len(revoke))
	for i, c := range revoke {
		emails[i], held[c.Before.Email] = c.Before.Email, true
	}
	window := a.opts.Guard.Window
	if err := a.hold(ctx, tx, planID, membership.HoldBurst, emails, store.HoldDetails{}, now, func(n int) string {
		return fmt.Sprintf("a burst of revocations: %d seats would move to free within %s", n, window)
	}); err != nil {
		return r, false, err
	}
	r.Changes = keep
	audit := r.Audit[:0:0]
	for _, e := range r.Audit {
		if !(held[e.MemberEmail] && (e.PlanID == planID || e.FromPlanID == planID)) {
			audit = append(audit, e)
		}
	}
	r.Audit = audit
	return r, true, nil
}

// hold records a held change (or grows the waiting one) and audits its creation.
func (a *Applier) hold(ctx context.Context, tx *store.Store, planID, kind string, emails []string, d store.HoldDetails, now time.Time, why func(size int) string) error {
	h, created, err := tx.Hold(ctx, planID, kind, emails, d, now)
	if err != nil || !created {
		return err
	}
	a.opts.Log.Warn("seat revocations held for an admin", "plan_id", planID, "kind", kind, "size", h.Size)
	reason := why(h.Size) + fmt.Sprintf(": held as change %d until an admin approves or rejects it", h.ID)
	return tx.AddAudit(ctx, membership.AuditEntry{PlanID: planID, At: now, Actor: "system", Action: membership.ActionHeld, Reason: reason})
}

// downgrade runs the cutover downgrade of a plan unless the guard holds it:
// while the plan has a waiting change, or when Guard.Downgrade is on and the
// downgrade would revoke too many seats. It reports whether it ran.
func (a *Applier) downgrade(ctx context.Context, tx *store.Store, planID, eventID string, now time.Time) (int64, bool, error) {
	if a.opts.Guard.Share > 0 {
		h, err := tx.ActiveHold(ctx, planID)
		if err != nil || h != nil {
			return 0, false, err // approving the waiting change re-decides every seat
		}
		if a.opts.Guard.Downgrade {
			emails, err := tx.DowngradeEmails(ctx, planID)
			if err != nil {
				return 0, false, err
			}
			paid, err := tx.PaidCount(ctx, planID)
			if err != nil {
				return 0, false, err
			}
			if a.opts.Guard.Holds(len(emails), paid) {
				return 0, false, a.hold(ctx, tx, planID, membership.HoldDowngrade, emails, store.HoldDetails{}, now, func(n int) string {
					return fmt.Sprintf("the cutover downgrade: %d seats would move to free", n)
				})
			}
		}
	}
	n, err := tx.Downgrade(ctx, planID, now, eventID, downgradeReason)
	return n, err == nil, err
}

// releaseSeats applies a directory deletion to the plan's directory seats. With
// policy free and too many seats at stake, the seats are kept as manual seats
// for now and freeing them waits for an admin's approval.
func (a *Applier) releaseSeats(ctx context.Context, tx *store.Store, planID, policy, eventID string, now time.Time) error {
	if policy == "free" && a.opts.Guard.Share > 0 {
		emails, err := tx.DirectorySeats(ctx, planID)
		if err != nil {
			return err
		}
		paid, err := tx.PaidCount(ctx, planID)
		if err != nil {
			return err
		}
		h, err := tx.ActiveHold(ctx, planID)
		if err != nil {
			return err
		}
		if len(emails) > 0 && (h != nil || a.opts.Guard.Holds(len(emails), paid)) {
			if err := tx.ReleaseDirectorySeats(ctx, planID, "keep", now, eventID); err != nil {
				return err
			}
			return a.hold(ctx, tx, planID, membership.HoldDirectoryDeleted, emails, store.HoldDetails{Emails: emails}, now, func(n int) string {
				return fmt.Sprintf("directory deleted with seats.on_directory_deleted free: %d seats would move to free", n)
			})
		}
	}
	return tx.ReleaseDirectorySeats(ctx, planID, policy, now, eventID)
}

// HoldSweep is asked by a reconciliation before it marks the users a complete
// listing no longer showed as gone: when that would revoke too many of the
// plan's paid seats, the sweep is held (with what approving must do) and it
// reports true; the caller then marks nobody gone.
func (a *Applier) HoldSweep(ctx context.Context, planID, directoryID string, gone []membership.DirectoryUser, listedFrom time.Time) (bool, error) {
	if a.opts.Guard.Share <= 0 || len(gone) == 0 {
		return false, nil
	}
	held := false
	err := a.st.Tx(ctx, func(tx *store.Store) error {
		plan, err := a.lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		var emails, ids []string
		for _, u := range gone {
			ids = append(ids, u.ID)
			if u.Email != "" {
				emails = append(emails, u.Email)
			}
		}
		members, err := tx.Members(ctx, plan.OrganizationID, emails)
		if err != nil {
			return err
		}
		var paidGone []string
		for _, e := range emails {
			if m, ok := members[e]; ok && m.PlanID == planID {
				paidGone = append(paidGone, e)
			}
		}
		paid, err := tx.PaidCount(ctx, planID)
		if err != nil {
			return err
		}
		h, err := tx.ActiveHold(ctx, planID)
		if err != nil {
			return err
		}
		if len(paidGone) == 0 || (h == nil && !a.opts.Guard.Holds(len(paidGone), paid)) {
			return nil
		}
		held = true
		d := store.HoldDetails{DirectoryID: directoryID, UserIDs: ids, ListedFrom: listedFrom.UTC().Format(time.RFC3339Nano)}
		return a.hold(ctx, tx, planID, membership.HoldReconcileSweep, paidGone, d, a.opts.Now().UTC(), func(n int) string {
			return fmt.Sprintf("a reconciliation would mark users gone and move %d seats to free", n)
		})
	})
	return held, err
}
