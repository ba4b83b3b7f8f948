package applier

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

func (a *Applier) applyGroupEvent(ctx context.Context, tx *store.Store, env envelope, now time.Time) (result, error) {
	var g groupData
	if err := decode(env.Data, &g, "directory group"); err != nil {
		return result{}, err
	}
	if g.ID == "" || g.DirectoryID == "" {
		return result{}, membership.Errorf(membership.Invalid, "invalid_payload", "group without id or directory_id")
	}
	dir, plan, rej, err := a.link(ctx, tx, g.DirectoryID, g.OrganizationID, now, env.ID, membership.DirectoryActive)
	if err != nil || rej != nil {
		return derefResult(rej, result{dirID: g.DirectoryID}), err
	}
	res := result{outcome: membership.OutcomeApplied, dirID: dir.ID, planID: plan.ID}
	// Tenant safety (SPEC §4.2): a group of another directory is not this one's to change.
	if owner, err := tx.GroupDirectory(ctx, g.ID); err != nil || owner != "" && owner != g.DirectoryID {
		if err == nil {
			res.outcome, res.reason = membership.OutcomeRejected, fmt.Sprintf("directory group %s belongs to directory %s", g.ID, owner)
		}
		return res, err
	}
	created, err := parseTime(env.CreatedAt)
	if err != nil {
		return res, membership.Errorf(membership.Invalid, "invalid_payload", "created_at: %v", err)
	}
	deleted := env.Event == "dsync.group.deleted"
	applied, err := tx.SaveGroup(ctx, g.ID, g.DirectoryID, g.Name, deleted, membership.Version{CreatedAt: created, EventID: env.ID})
	if err != nil {
		return res, err
	}
	if !applied {
		res.outcome, res.reason = membership.OutcomeStale, "older than the stored group version"
		return res, nil
	}
	// A group changes who is in scope only where plans scope by groups. Even a
	// created group may already have members: user_added can arrive before
	// dsync.group.created (reference §6.1).
	if spec, err := tx.PlanSpec(ctx, plan.ID); err != nil || len(spec.ScopingGroups) == 0 {
		return res, err
	}
	users, err := tx.GroupUsers(ctx, g.ID)
	if err != nil {
		return res, err
	}
	for _, id := range users {
		if err := a.reevaluate(ctx, tx, id, env.ID, now); err != nil {
			return res, err
		}
	}
	return res, nil
}

func (a *Applier) applyMembershipEvent(ctx context.Context, tx *store.Store, env envelope, now time.Time) (result, error) {
	var m membershipData
	if err := decode(env.Data, &m, "group membership"); err != nil {
		return result{}, err
	}
	if m.User.ID == "" || m.Group.ID == "" {
		return result{}, membership.Errorf(membership.Invalid, "invalid_payload", "membership without user or group id")
	}
	dirID := m.DirectoryID
	if dirID == "" {
		dirID = m.User.DirectoryID
	}
	if m.User.DirectoryID != "" && m.User.DirectoryID != dirID || m.Group.DirectoryID != "" && m.Group.DirectoryID != dirID {
		return result{outcome: membership.OutcomeRejected, dirID: dirID, reason: "user, group and event name different directories"}, nil
	}
	orgID := m.User.OrganizationID
	if orgID == "" {
		orgID = m.Group.OrganizationID
	}
	dir, plan, rej, err := a.link(ctx, tx, dirID, orgID, now, env.ID, membership.DirectoryActive)
	if err != nil || rej != nil {
		return derefResult(rej, result{dirID: dirID}), err
	}
	res := result{outcome: membership.OutcomeApplied, dirID: dir.ID, planID: plan.ID}
	// Tenant safety (SPEC §4.2), as for user events: another directory must not
	// move this directory's users in or out of groups.
	if u, err := tx.DirectoryUser(ctx, m.User.ID); err != nil || u != nil && u.DirectoryID != dirID {
		if err == nil {
			res.outcome, res.reason = membership.OutcomeRejected, fmt.Sprintf("directory user %s belongs to directory %s", m.User.ID, u.DirectoryID)
		}
		return res, err
	}
	if owner, err := tx.GroupDirectory(ctx, m.Group.ID); err != nil || owner != "" && owner != dirID {
		if err == nil {
			res.outcome, res.reason = membership.OutcomeRejected, fmt.Sprintf("directory group %s belongs to directory %s", m.Group.ID, owner)
		}
		return res, err
	}
	created, err := parseTime(env.CreatedAt)
	if err != nil {
		return res, membership.Errorf(membership.Invalid, "invalid_payload", "created_at: %v", err)
	}
	present := env.Event == "dsync.group.user_added"
	applied, err := tx.SetGroupMember(ctx, m.Group.ID, m.User.ID, dirID, present, membership.Version{CreatedAt: created, EventID: env.ID})
	if err != nil || !applied {
		if !applied {
			res.outcome, res.reason = membership.OutcomeStale, "older than the stored membership"
		}
		return res, err
	}
	return res, a.reevaluate(ctx, tx, m.User.ID, env.ID, now)
}

// reevaluate re-decides a stored user whose groups changed.
func (a *Applier) reevaluate(ctx context.Context, tx *store.Store, userID, eventID string, now time.Time) error {
	u, err := tx.DirectoryUser(ctx, userID)
	if err != nil || u == nil {
		return err
	}
	_, err = a.applyUser(ctx, tx, *u, eventID, now, true)
	return err
}
