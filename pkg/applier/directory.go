package applier

import (
	"context"
	"slices"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

func (a *Applier) applyDirectoryEvent(ctx context.Context, tx *store.Store, env envelope, now time.Time) (result, error) {
	var d directoryData
	if err := decode(env.Data, &d, "directory"); err != nil {
		return result{}, err
	}
	if d.ID == "" {
		return result{}, membership.Errorf(membership.Invalid, "invalid_payload", "directory without id")
	}
	updated, err1 := parseTime(d.UpdatedAt)
	created, err2 := parseTime(env.CreatedAt)
	if err1 != nil || err2 != nil {
		return result{}, membership.Errorf(membership.Invalid, "invalid_payload", "directory event with unparsable time")
	}
	v := membership.Version{UpdatedAt: updated, CreatedAt: created, EventID: env.ID}
	state := map[string]membership.DirectoryState{"dsync.activated": membership.DirectoryActive,
		"dsync.deactivated": membership.DirectoryInactive, "dsync.deleted": membership.DirectoryDeleted}[env.Event]
	dir, plan, rej, err := a.link(ctx, tx, d.ID, d.OrganizationID, now, env.ID, state)
	if err != nil || rej != nil {
		return derefResult(rej, result{dirID: d.ID}), err
	}
	res := result{outcome: membership.OutcomeApplied, dirID: d.ID, planID: plan.ID}
	fresh := dir.Version().IsZero()
	if !fresh && (v.Compare(dir.Version()) <= 0 || dir.State == string(membership.DirectoryDeleted)) {
		res.outcome, res.reason = membership.OutcomeStale, "older than the stored directory version"
		return res, nil
	}
	prev := dir.State
	dir.State = string(state)
	dir.SetVersion(v)
	if d.Type != "" {
		dir.Type = d.Type
	}
	if d.Name != "" {
		dir.Name = d.Name
	}
	domainsChanged := false
	if state == membership.DirectoryActive && d.Domains != nil {
		var ds []string
		for _, x := range d.Domains {
			ds = append(ds, x.Domain)
		}
		norm, err := membership.NormalizeDomains(ds)
		if err != nil {
			return res, err
		}
		domainsChanged = !slices.Equal(norm, dir.DomainList())
		dir.SetDomains(norm)
	}
	if err := tx.SaveDirectory(ctx, dir); err != nil {
		return res, err
	}
	actor := "directory:" + d.ID
	switch state {
	case membership.DirectoryActive:
		if err := a.enterDirectoryModes(ctx, tx, &plan, d.ID, env.ID, now); err != nil {
			return res, err
		}
		if prev == string(membership.DirectoryInactive) {
			if err := tx.AddAudit(ctx, membership.AuditEntry{PlanID: plan.ID, At: now, Actor: actor,
				Action: membership.ActionDirectoryReactivate, EventID: env.ID, Reason: "directory active again: seat changes resume"}); err != nil {
				return res, err
			}
		}
		if prev == string(membership.DirectoryInactive) || domainsChanged {
			return res, a.resync(ctx, tx, plan.ID, env.ID, now)
		}
	case membership.DirectoryInactive:
		return res, tx.AddAudit(ctx, membership.AuditEntry{PlanID: plan.ID, At: now, Actor: actor,
			Action: membership.ActionDirectoryFrozen, EventID: env.ID, Reason: "directory inactive: seats frozen"})
	case membership.DirectoryDeleted:
		return res, a.removeDirectory(ctx, tx, plan, d.ID, env.ID, now)
	}
	return res, nil
}

// removeDirectory applies dsync.deleted (which sends no per-user deletes): the
// plan returns to manual once no live directory is left, and the directory's
// seats are kept as manual seats or freed, per seats.on_directory_deleted.
func (a *Applier) removeDirectory(ctx context.Context, tx *store.Store, plan store.PlanRow, dirID, eventID string, now time.Time) error {
	links, err := tx.OrganizationLinks(ctx, plan.OrganizationID)
	if err != nil {
		return err
	}
	policy := a.opts.Rules.OnDirectoryDeleted
	reason := "directory deleted: plan back to manual, directory seats kept as manual seats"
	if policy == "free" {
		reason = "directory deleted: plan back to manual, directory seats moved to free"
	}
	if l := links[plan.ID]; l.Active+l.Inactive == 0 && plan.Mode != string(membership.ModeManual) {
		p := plan.Domain(a.opts.Rules)
		p.Mode, p.CutoverAt, p.DowngradeDueAt, p.DowngradedAt = membership.ModeManual, nil, nil, nil
		if err := tx.SavePlanState(ctx, p); err != nil {
			return err
		}
		if err := a.releaseSeats(ctx, tx, plan.ID, policy, eventID, now); err != nil {
			return err
		}
	}
	return tx.AddAudit(ctx, membership.AuditEntry{PlanID: plan.ID, At: now, Actor: "directory:" + dirID,
		Action: membership.ActionDirectoryRemoved, EventID: eventID, Reason: reason})
}
