package applier

import (
	"context"
	"fmt"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// DecideHeld approves or rejects a plan's held change. Approving applies it,
// then re-decides every seat of the plan, so the revocations that waited with
// it happen now. Rejecting leaves the seats as they are: a swept user stays
// listed, a deleted directory's seats stay manual seats, a held downgrade is
// dropped, and burst revocations stay undone until that person's next change.
func (a *Applier) DecideHeld(ctx context.Context, planID string, id int64, approve bool, actor string) (*store.HeldChange, error) {
	var out *store.HeldChange
	err := a.st.Tx(ctx, func(tx *store.Store) error {
		plan, err := a.lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		h, err := tx.HeldChange(ctx, planID, id)
		if err != nil {
			if membership.ErrorKind(err) == membership.NotFound {
				return membership.Errorf(membership.NotFound, "held_change_not_found", "no held change %d on this plan", id)
			}
			return err
		}
		now := a.opts.Now().UTC()
		state, action := "rejected", membership.ActionRejected
		if approve {
			state, action = "approved", membership.ActionApproved
		}
		if err := tx.DecideHold(ctx, h.ID, state, actor, now); err != nil {
			return err
		}
		h.State, h.DecidedBy, h.DecidedAt = state, actor, &now
		out = h
		if err := tx.AddAudit(ctx, membership.AuditEntry{PlanID: planID, At: now, Actor: actor, Action: action,
			Reason: fmt.Sprintf("held change %d (%s, %d seats) %s", h.ID, h.Kind, h.Size, state)}); err != nil {
			return err
		}
		if !approve {
			if h.Kind == membership.HoldDowngrade {
				p := plan.Domain(a.opts.Rules)
				p.DowngradeDueAt = nil
				return tx.SavePlanState(ctx, p)
			}
			return nil
		}
		free := a.unguarded()
		d := h.DetailsValue()
		switch h.Kind {
		case membership.HoldReconcileSweep:
			if err := free.markGone(ctx, tx, d, actor); err != nil {
				return err
			}
		case membership.HoldDirectoryDeleted:
			if err := tx.FreeSeats(ctx, planID, d.Emails, actor, "directory deleted; freeing its seats approved", now); err != nil {
				return err
			}
		case membership.HoldDowngrade:
			if _, _, err := free.downgrade(ctx, tx, planID, "", now); err != nil {
				return err
			}
			p := plan.Domain(a.opts.Rules)
			if p.DowngradedAt == nil {
				p.DowngradedAt = &now
			}
			p.DowngradeDueAt = nil
			if err := tx.SavePlanState(ctx, p); err != nil {
				return err
			}
		}
		return free.resync(ctx, tx, planID, "", now)
	})
	return out, err
}

// unguarded is a with the guard off: what an admin approved is not held again.
func (a *Applier) unguarded() *Applier {
	b := *a
	b.opts.Guard = membership.Guard{}
	return &b
}

// markGone applies an approved reconciliation sweep: tombstones for the users
// the listing no longer showed, versioned at the listing's start.
func (a *Applier) markGone(ctx context.Context, tx *store.Store, d store.HoldDetails, actor string) error {
	from, err := parseTime(d.ListedFrom)
	if err != nil {
		return err
	}
	now := a.opts.Now().UTC()
	for _, id := range d.UserIDs {
		u, err := tx.DirectoryUser(ctx, id)
		if err != nil || u == nil || u.Deleted {
			if err != nil {
				return err
			}
			continue
		}
		tomb := *u
		tomb.Deleted = true
		tomb.Version = membership.Version{UpdatedAt: from, CreatedAt: from}
		if _, err := a.applyUserAs(ctx, tx, tomb, "", actor, now, false); err != nil {
			return err
		}
	}
	return nil
}
