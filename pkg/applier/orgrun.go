package applier

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// orgRun holds one organization's rows while a run of its user events is
// applied in memory; flush writes what changed.
type orgRun struct {
	a       *Applier
	tx      *store.Store
	orgID   string
	org     membership.Organization
	plans   map[string]store.PlanRow
	links   map[string]store.PlanLinks
	users   map[string]membership.DirectoryUser
	members map[string]membership.Member
	flushed map[string]membership.Member // members as stored at the last flush
	claims  map[string][]membership.Claim
	dirs    map[string]store.DirectoryRow

	savedUsers map[string]membership.DirectoryUser
	changed    map[string]bool // member emails to write
	touched    map[string]int  // directory id → |E| delta
	active     map[string]int  // directory id → delta of its users in A
	revoked    map[string]int  // plan id → revocations not yet in the audit table (for the guard)
	audit      []membership.AuditEntry
}

// applyOrgRun applies evs, all of organization orgID (locked by the caller),
// in order, and returns their outcomes.
func (a *Applier) applyOrgRun(ctx context.Context, tx *store.Store, orgID string, evs []userEvent, now time.Time) ([]store.Finished, error) {
	o := &orgRun{a: a, tx: tx, orgID: orgID}
	if err := o.load(ctx, evs); err != nil {
		return nil, err
	}
	fin := make([]store.Finished, 0, len(evs))
	for _, e := range evs {
		f, err := o.apply(ctx, e, now)
		if err != nil {
			return nil, err
		}
		fin = append(fin, f)
	}
	return fin, o.flush(ctx, now)
}

func (o *orgRun) load(ctx context.Context, evs []userEvent) error {
	var err error
	if o.org, err = o.tx.Organization(ctx, o.orgID); err != nil {
		return err
	}
	plans, err := o.tx.OrganizationPlans(ctx, o.orgID)
	if err != nil {
		return err
	}
	o.plans = map[string]store.PlanRow{}
	for _, p := range plans {
		o.plans[p.ID] = p
	}
	if o.links, err = o.tx.OrganizationLinks(ctx, o.orgID); err != nil {
		return err
	}
	ids := make([]string, len(evs))
	for i, e := range evs {
		ids[i] = e.u.ID
	}
	if o.users, err = o.tx.DirectoryUsersByID(ctx, ids); err != nil {
		return err
	}
	if o.dirs, err = o.tx.Directories(ctx, dirIDs(evs)); err != nil {
		return err
	}
	emailSet := map[string]bool{}
	for _, e := range evs {
		emailSet[e.u.Email] = true
		if s, ok := o.users[e.u.ID]; ok {
			emailSet[s.Email] = true
		}
	}
	delete(emailSet, "")
	emails := slices.Collect(maps.Keys(emailSet))
	if o.claims, err = o.tx.Claims(ctx, o.orgID, emails, ""); err != nil {
		return err
	}
	o.savedUsers, o.changed, o.touched, o.active, o.revoked = map[string]membership.DirectoryUser{}, map[string]bool{}, map[string]int{}, map[string]int{}, map[string]int{}
	return o.loadMembers(ctx, emails)
}

func (o *orgRun) loadMembers(ctx context.Context, emails []string) error {
	ms, err := o.tx.Members(ctx, o.orgID, emails)
	if err != nil {
		return err
	}
	o.members, o.flushed = ms, maps.Clone(ms)
	return nil
}

// apply runs the rules for one event over the in-memory rows, with the same
// checks, in the same order, as the one-by-one path (applyUserAs).
func (o *orgRun) apply(ctx context.Context, e userEvent, now time.Time) (store.Finished, error) {
	u := e.u
	dir := o.dirs[u.DirectoryID]
	f := store.Finished{ID: e.row.ID, PlanID: dir.PlanID, DirID: dir.ID, Outcome: membership.OutcomeApplied}
	stored, known := o.users[u.ID]
	switch {
	case u.OrganizationID != "" && dir.OrganizationID != u.OrganizationID:
		f.Outcome, f.Reason = membership.OutcomeRejected,
			fmt.Sprintf("organization_id %s contradicts directory %s, linked to %s", u.OrganizationID, dir.ID, dir.OrganizationID)
		return f, nil
	case dir.State == string(membership.DirectoryDeleted):
		f.Outcome, f.Reason = membership.OutcomeStale, "directory deleted"
		return f, nil
	case known && stored.DirectoryID != u.DirectoryID:
		f.Outcome, f.Reason = membership.OutcomeRejected, fmt.Sprintf("directory user %s belongs to directory %s", u.ID, stored.DirectoryID)
		return f, nil
	}
	plan := o.plans[dir.PlanID]
	snap := membership.UserSnapshot{Now: now, Plan: plan.Domain(o.a.opts.Rules), Members: map[string]membership.Member{},
		Claims: map[string][]membership.Claim{}, Plans: map[string]membership.PlanView{}}
	snap.Plan.Added, snap.Plan.Frozen = o.links[plan.ID].Added, o.links[plan.ID].Frozen()
	snap.Scope.AllowedDomains = append(slices.Clone(o.org.Domains), o.links[plan.ID].Domains...)
	snap.Scope.ScopingGroups = plan.ScopingGroupList()
	if known {
		snap.Stored = &stored
	}
	if len(snap.Scope.ScopingGroups) > 0 {
		var err error
		if snap.Scope.UserGroups, err = o.tx.UserGroups(ctx, u.ID, u.DirectoryID); err != nil {
			return f, err
		}
	}
	for _, email := range []string{u.Email, stored.Email} {
		if email == "" {
			continue
		}
		if m, ok := o.members[email]; ok {
			snap.Members[email] = m
		}
		for _, c := range o.claims[email] {
			if c.DirectoryUserID != u.ID {
				snap.Claims[email] = append(snap.Claims[email], c)
			}
		}
	}
	for id, p := range o.plans {
		d := p.Domain(o.a.opts.Rules)
		d.Frozen = o.links[id].Frozen()
		snap.Plans[id] = d.View()
	}
	r := membership.ApplyUser(snap, membership.UserChange{User: u, EventID: e.row.EventID, Actor: e.actor})
	f.Outcome, f.Reason = r.Outcome, r.Reason
	r, _, err := o.a.guardChanges(ctx, o.tx, plan.ID, r, o.revoked[plan.ID], now)
	if err != nil {
		return f, err
	}
	revoked, _ := membership.Revocations(plan.ID, r.Changes)
	o.revoked[plan.ID] += len(revoked)
	o.record(plan, dir, stored, r)
	if r.Cutover {
		return f, o.cutover(ctx, r.Plan, e.row.EventID, now)
	}
	return f, nil
}

// record keeps the result's changes in memory, to be written by flush.
func (o *orgRun) record(plan store.PlanRow, dir store.DirectoryRow, stored membership.DirectoryUser, r membership.UserResult) {
	if r.User != nil {
		nu := *r.User
		o.users[nu.ID], o.savedUsers[nu.ID] = nu, nu
		// Keep the claims what Store.Claims would now return: live users by email.
		for _, email := range []string{stored.Email, nu.Email} {
			o.claims[email] = slices.DeleteFunc(o.claims[email], func(c membership.Claim) bool { return c.DirectoryUserID == nu.ID })
		}
		if !nu.Deleted && nu.Email != "" {
			o.claims[nu.Email] = append(o.claims[nu.Email], membership.Claim{PlanID: plan.ID, DirectoryUserID: nu.ID, InA: nu.InA})
		}
	}
	l := o.links[plan.ID]
	o.touched[dir.ID] += r.Plan.Added - l.Added
	o.active[dir.ID] += activeDelta(&stored, r.User)
	l.Added = r.Plan.Added
	o.links[plan.ID] = l
	for _, c := range r.Changes {
		o.members[c.After.Email] = c.After
		o.changed[c.After.Email] = true
	}
	o.audit = append(o.audit, r.Audit...)
}

// cutover stores the plan's new mode and, when the grace is zero, runs the
// set-based downgrade, which reads the members from the database: everything
// before it is flushed first and the members are read again after.
func (o *orgRun) cutover(ctx context.Context, p membership.Plan, eventID string, now time.Time) error {
	if err := o.flush(ctx, now); err != nil {
		return err
	}
	if err := o.tx.SavePlanState(ctx, p); err != nil {
		return err
	}
	row := o.plans[p.ID]
	row.Mode, row.CutoverAt, row.DowngradeDueAt, row.DowngradedAt = string(p.Mode), p.CutoverAt, p.DowngradeDueAt, p.DowngradedAt
	o.plans[p.ID] = row
	if p.DowngradedAt == nil {
		return nil
	}
	if _, _, err := o.a.downgrade(ctx, o.tx, p.ID, eventID, now); err != nil {
		return err
	}
	return o.loadMembers(ctx, slices.Collect(maps.Keys(o.members)))
}

// flush writes the users, members, counters and audit entries recorded so far.
func (o *orgRun) flush(ctx context.Context, now time.Time) error {
	if err := o.tx.SaveDirectoryUsers(ctx, slices.Collect(maps.Values(o.savedUsers))); err != nil {
		return err
	}
	for _, id := range slices.Sorted(maps.Keys(o.touched)) {
		if err := o.tx.TouchDirectory(ctx, id, o.touched[id], o.active[id], now); err != nil {
			return err
		}
	}
	saves := make([]store.MemberSave, 0, len(o.changed))
	for _, email := range slices.Sorted(maps.Keys(o.changed)) {
		s := store.MemberSave{After: o.members[email]}
		if m, ok := o.flushed[email]; ok {
			s.Before = &m
		}
		saves = append(saves, s)
	}
	if err := o.tx.SaveMembers(ctx, o.orgID, saves); err != nil {
		return err
	}
	if err := o.tx.AddAudit(ctx, o.audit...); err != nil {
		return err
	}
	for email := range o.changed {
		o.flushed[email] = o.members[email]
	}
	o.savedUsers, o.changed, o.touched, o.active, o.revoked, o.audit = map[string]membership.DirectoryUser{}, map[string]bool{}, map[string]int{}, map[string]int{}, map[string]int{}, nil
	return nil
}

// activeDelta is how saving a user moves its directory's active_users counter:
// +1 when it enters A, -1 when it leaves, else 0. stored is the row before the
// change (nil or zero: none), saved the row written (nil: unchanged).
func activeDelta(stored, saved *membership.DirectoryUser) int {
	if saved == nil {
		return 0
	}
	was := stored != nil && stored.InA
	switch {
	case saved.InA && !was:
		return 1
	case !saved.InA && was:
		return -1
	}
	return 0
}
