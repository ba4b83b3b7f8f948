package applier

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// link finds the plan an event belongs to (SPEC §4.1) and takes the lock of
// its organization. A known directory must carry the event's organization id
// (§4.2); an unknown one is linked through that id and created in state
// `initial`. It returns a non-nil result when the event is refused.
func (a *Applier) link(ctx context.Context, tx *store.Store, dirID, orgID string, now time.Time, eventID string, initial membership.DirectoryState) (*store.DirectoryRow, store.PlanRow, *result, error) {
	var plan store.PlanRow
	dir, err := tx.Directory(ctx, dirID)
	if err != nil {
		return nil, plan, nil, err
	}
	planID := ""
	switch {
	case dir != nil && orgID != "" && dir.OrganizationID != orgID:
		return nil, plan, &result{outcome: membership.OutcomeRejected, dirID: dirID, planID: dir.PlanID,
			reason: fmt.Sprintf("organization_id %s contradicts directory %s, linked to %s", orgID, dirID, dir.OrganizationID)}, nil
	case dir != nil:
		planID = dir.PlanID
	case orgID == "":
		return nil, plan, nil, membership.Errorf(membership.Invalid, "invalid_payload", "event for unknown directory %s names no organization_id", dirID)
	default:
		p, err := tx.PlanByWorkOSOrganization(ctx, orgID)
		if err != nil {
			return nil, plan, nil, err
		}
		if p == nil {
			return nil, plan, nil, waiting(orgID)
		}
		planID = p.ID
	}
	if plan, err = tx.Plan(ctx, planID); err != nil {
		return nil, plan, nil, err
	}
	if err := tx.LockOrganization(ctx, plan.OrganizationID); err != nil {
		return nil, plan, nil, err
	}
	// Everything read before the lock may be stale: another event of this
	// organization may have linked the directory or cut the plan over.
	if plan, err = tx.Plan(ctx, planID); err != nil {
		return nil, plan, nil, err
	}
	// Read the directory again under the lock: what was read before it may
	// be stale, or another transaction may have linked it meanwhile.
	if dir, err = tx.Directory(ctx, dirID); err != nil || dir != nil {
		return dir, plan, nil, err
	}
	dir = &store.DirectoryRow{ID: dirID, PlanID: plan.ID, OrganizationID: orgID, State: string(initial)}
	if err := tx.SaveDirectory(ctx, dir); err != nil {
		return nil, plan, nil, err
	}
	if initial == membership.DirectoryActive {
		if err := a.enterDirectoryModes(ctx, tx, &plan, dirID, eventID, now); err != nil {
			return nil, plan, nil, err
		}
	}
	return dir, plan, nil, nil
}

// enterDirectoryModes switches a manual plan to test mode: a directory is active.
func (a *Applier) enterDirectoryModes(ctx context.Context, tx *store.Store, plan *store.PlanRow, dirID, eventID string, now time.Time) error {
	if plan.Mode != string(membership.ModeManual) {
		return nil
	}
	p := plan.Domain(a.opts.Rules)
	p.Mode, p.CutoverAt, p.DowngradeDueAt, p.DowngradedAt = membership.ModeTest, nil, nil, nil
	if err := tx.SavePlanState(ctx, p); err != nil {
		return err
	}
	plan.Mode, plan.CutoverAt, plan.DowngradeDueAt, plan.DowngradedAt = string(p.Mode), nil, nil, nil
	return tx.AddAudit(ctx, membership.AuditEntry{PlanID: plan.ID, At: now, Actor: "directory:" + dirID,
		Action: membership.ActionDirectoryLinked, EventID: eventID, Reason: "directory active: plan in test mode"})
}
