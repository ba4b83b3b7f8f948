package applier

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

func (a *Applier) applyUserEvent(ctx context.Context, tx *store.Store, env envelope, now time.Time) (result, error) {
	var d userData
	if err := decode(env.Data, &d, "directory user"); err != nil {
		return result{}, err
	}
	u, err := d.user(env, env.Event == "dsync.user.deleted")
	if err != nil {
		return result{}, err
	}
	return a.applyUser(ctx, tx, u, env.ID, now, false)
}

// decodeUserEvent reads a stored dsync.user.* envelope in one pass: the batch
// path decodes every payload of an initial sync, so the second pass over the
// data that envelope-then-data decoding costs is worth saving.
func decodeUserEvent(payload []byte) (membership.DirectoryUser, error) {
	var ev struct {
		ID        string   `json:"id"`
		Event     string   `json:"event"`
		CreatedAt string   `json:"created_at"`
		Data      userData `json:"data"`
	}
	if err := decode(payload, &ev, "directory user event"); err != nil {
		return membership.DirectoryUser{}, err
	}
	return ev.Data.user(envelope{ID: ev.ID, Event: ev.Event, CreatedAt: ev.CreatedAt}, ev.Event == "dsync.user.deleted")
}

// decodedUser is a user event of a claimed batch, decoded once for both the
// lock pass and the apply pass.
type decodedUser struct {
	u   membership.DirectoryUser
	err error
}

// decodeUsers decodes the batch's user events, by inbox row id.
func decodeUsers(evs []store.InboxRow) map[int64]decodedUser {
	out := make(map[int64]decodedUser, len(evs))
	for _, ev := range evs {
		if isUserEvent(ev.EventType) {
			u, err := decodeUserEvent(ev.Payload)
			out[ev.ID] = decodedUser{u: u, err: err}
		}
	}
	return out
}

// applyUser links the user's directory (SPEC §4.1), checks the tenant (§4.2),
// then runs the rules over the rows the user touches.
func (a *Applier) applyUser(ctx context.Context, tx *store.Store, u membership.DirectoryUser, eventID string, now time.Time, reevaluate bool) (result, error) {
	return a.applyUserAs(ctx, tx, u, eventID, "directory:"+u.DirectoryID, now, reevaluate)
}

// applyUserAs is applyUser with the actor the audit log names.
func (a *Applier) applyUserAs(ctx context.Context, tx *store.Store, u membership.DirectoryUser, eventID, actor string, now time.Time, reevaluate bool) (result, error) {
	res := result{dirID: u.DirectoryID}
	dir, plan, rej, err := a.link(ctx, tx, u.DirectoryID, u.OrganizationID, now, eventID, membership.DirectoryActive)
	if err != nil || rej != nil {
		return derefResult(rej, res), err
	}
	res.planID = plan.ID
	if dir.State == string(membership.DirectoryDeleted) {
		res.outcome, res.reason = membership.OutcomeStale, "directory deleted"
		return res, nil
	}
	stored, err := tx.DirectoryUser(ctx, u.ID)
	if err != nil {
		return res, err
	}
	if stored != nil && stored.DirectoryID != u.DirectoryID {
		res.outcome, res.reason = membership.OutcomeRejected, fmt.Sprintf("directory user %s belongs to directory %s", u.ID, stored.DirectoryID)
		return res, nil
	}
	if reevaluate {
		if stored == nil {
			res.outcome = membership.OutcomeApplied
			return res, nil
		}
		u = *stored
	}
	snap, err := a.snapshot(ctx, tx, plan, u, stored, now)
	if err != nil {
		return res, err
	}
	r := membership.ApplyUser(snap, membership.UserChange{User: u, EventID: eventID, Actor: actor, Reevaluate: reevaluate})
	res.outcome, res.reason = r.Outcome, r.Reason
	return res, a.persist(ctx, tx, plan.OrganizationID, snap.Plan, stored, r, u.DirectoryID, eventID, now)
}

func derefResult(r *result, def result) result {
	if r == nil {
		return def
	}
	return *r
}

// snapshot loads the rows one user change reads.
func (a *Applier) snapshot(ctx context.Context, tx *store.Store, plan store.PlanRow, u membership.DirectoryUser, stored *membership.DirectoryUser, now time.Time) (membership.UserSnapshot, error) {
	snap := membership.UserSnapshot{Now: now, Stored: stored}
	links, err := tx.OrganizationLinks(ctx, plan.OrganizationID)
	if err != nil {
		return snap, err
	}
	snap.Plan = plan.Domain(a.opts.Rules)
	snap.Plan.Added = links[plan.ID].Added
	snap.Plan.Frozen = links[plan.ID].Frozen()
	org, err := tx.Organization(ctx, plan.OrganizationID)
	if err != nil {
		return snap, err
	}
	snap.Scope.AllowedDomains = append(append([]string{}, org.Domains...), links[plan.ID].Domains...)
	spec, err := tx.PlanSpec(ctx, plan.ID)
	if err != nil {
		return snap, err
	}
	snap.Scope.ScopingGroups = spec.ScopingGroups
	if len(spec.ScopingGroups) > 0 {
		if snap.Scope.UserGroups, err = tx.UserGroups(ctx, u.ID, u.DirectoryID); err != nil {
			return snap, err
		}
	}
	emails := []string{}
	if u.Email != "" {
		emails = append(emails, u.Email)
	}
	if stored != nil && stored.Email != "" && stored.Email != u.Email {
		emails = append(emails, stored.Email)
	}
	if len(emails) > 0 {
		if snap.Members, err = tx.Members(ctx, plan.OrganizationID, emails); err != nil {
			return snap, err
		}
		if snap.Claims, err = tx.Claims(ctx, plan.OrganizationID, emails, u.ID); err != nil {
			return snap, err
		}
	}
	if snap.Plans, err = a.planViews(ctx, tx, plan.OrganizationID, links); err != nil {
		return snap, err
	}
	return snap, nil
}

func (a *Applier) planViews(ctx context.Context, tx *store.Store, orgID string, links map[string]store.PlanLinks) (map[string]membership.PlanView, error) {
	plans, err := tx.OrganizationPlans(ctx, orgID)
	if err != nil {
		return nil, err
	}
	views := make(map[string]membership.PlanView, len(plans))
	for _, p := range plans {
		d := p.Domain(a.opts.Rules)
		d.Frozen = links[p.ID].Frozen()
		views[p.ID] = d.View()
	}
	return views, nil
}

// persist writes what the rules decided, all in the caller's transaction;
// stored is the user's row before the change (nil: none).
func (a *Applier) persist(ctx context.Context, tx *store.Store, orgID string, before membership.Plan, stored *membership.DirectoryUser, r membership.UserResult, dirID, eventID string, now time.Time) error {
	if r.User != nil {
		if err := tx.SaveDirectoryUser(ctx, *r.User); err != nil {
			return err
		}
	}
	if err := tx.TouchDirectory(ctx, dirID, r.Plan.Added-before.Added, activeDelta(stored, r.User), now); err != nil {
		return err
	}
	r, _, err := a.guardChanges(ctx, tx, before.ID, r, 0, now)
	if err != nil {
		return err
	}
	for _, c := range r.Changes {
		if err := tx.SaveMember(ctx, orgID, previous(c), c.After); err != nil {
			return err
		}
	}
	if err := tx.AddAudit(ctx, r.Audit...); err != nil {
		return err
	}
	if !r.Cutover {
		return nil
	}
	if err := tx.SavePlanState(ctx, r.Plan); err != nil {
		return err
	}
	if r.Plan.DowngradedAt != nil {
		_, _, err := a.downgrade(ctx, tx, r.Plan.ID, eventID, now)
		return err
	}
	return nil
}

// previous is the member a change starts from; nil when no row existed.
func previous(c membership.MemberChange) *membership.Member {
	if c.New {
		return nil
	}
	return &c.Before
}

const downgradeReason = "not assigned in the directory after cutover"
