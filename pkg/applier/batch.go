package applier

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// userEvent is a decoded dsync.user.* event of a run, or a reconciliation
// snapshot (a row with no event id); actor is who the audit log names.
type userEvent struct {
	row   *store.InboxRow
	u     membership.DirectoryUser
	actor string
}

// applyUserRun applies a run of user events with a few statements per
// organization instead of a dozen per event: the rows are read once, the rules
// run over them in memory in event order, and the changes are written
// together. An initial sync of 100,000 users is such a run, over and over.
func (a *Applier) applyUserRun(ctx context.Context, tx *store.Store, rows []store.InboxRow, users map[int64]decodedUser, now, wall time.Time) ([]store.Finished, error) {
	var done []store.Finished
	one := func(r *store.InboxRow) error {
		fin, err := a.applyOne(ctx, tx, r, now, wall)
		if fin != nil {
			done = append(done, *fin)
		}
		return err
	}
	var evs []userEvent
	for i := range rows {
		d := users[rows[i].ID]
		if d.err != nil {
			if err := one(&rows[i]); err != nil { // records the failure
				return nil, err
			}
			continue
		}
		evs = append(evs, userEvent{row: &rows[i], u: d.u, actor: "directory:" + d.u.DirectoryID})
	}
	dirs, err := tx.Directories(ctx, dirIDs(evs))
	if err != nil {
		return nil, err
	}
	if err := lockRunOrganizations(ctx, tx, evs, dirs); err != nil {
		return nil, err
	}
	// The first event of an unknown directory links it (SPEC §4.1) through the
	// one-by-one path; the run's later events then find it.
	var rest []userEvent
	linked := map[string]bool{}
	for _, e := range evs {
		if _, ok := dirs[e.u.DirectoryID]; ok {
			rest = append(rest, e)
			continue
		}
		if linked[e.u.DirectoryID] {
			rest = append(rest, e)
			continue
		}
		linked[e.u.DirectoryID] = true
		if err := one(e.row); err != nil {
			return nil, err
		}
	}
	if len(linked) > 0 {
		if dirs, err = tx.Directories(ctx, dirIDs(rest)); err != nil {
			return nil, err
		}
	}
	fin, err := a.applyByOrganization(ctx, tx, rest, dirs, now, func(e userEvent) error { return one(e.row) })
	return append(done, fin...), err
}

// applyByOrganization applies changes to users of the stored directories
// dirs: grouped by organization, the organizations locked in one global
// order, each organization's changes in memory and in a savepoint of their
// own. Changes it cannot take that way (a directory not in dirs, a run that
// fails) go through one, the one-by-one path, which records its own outcome.
func (a *Applier) applyByOrganization(ctx context.Context, tx *store.Store, evs []userEvent, dirs map[string]store.DirectoryRow,
	now time.Time, one func(userEvent) error) ([]store.Finished, error) {
	var done []store.Finished
	byOrg := map[string][]userEvent{}
	plans := map[string]store.PlanRow{}
	for _, e := range evs {
		d, ok := dirs[e.u.DirectoryID]
		if !ok { // still unknown: waiting for its plan
			if err := one(e); err != nil {
				return nil, err
			}
			continue
		}
		p, ok := plans[d.PlanID]
		if !ok {
			var err error
			if p, err = tx.Plan(ctx, d.PlanID); err != nil {
				return nil, err
			}
			plans[d.PlanID] = p
		}
		byOrg[p.OrganizationID] = append(byOrg[p.OrganizationID], e)
	}
	orgs := slices.Sorted(maps.Keys(byOrg))
	// Locks in one global order: two appliers with overlapping batches never deadlock.
	for _, org := range orgs {
		if err := tx.LockOrganization(ctx, org); err != nil {
			return nil, err
		}
	}
	for _, org := range orgs {
		var fin []store.Finished
		err := tx.Tx(ctx, func(tx *store.Store) error {
			var err error
			fin, err = a.applyOrgRun(ctx, tx, org, byOrg[org], now)
			return err
		})
		if err == nil {
			done = append(done, fin...)
			continue
		}
		if store.IsUnavailable(err) || store.IsTxConflict(err) {
			return nil, err
		}
		a.opts.Log.Warn("batched apply failed; applying one by one", "err", err)
		for _, e := range byOrg[org] {
			if err := one(e); err != nil {
				return nil, err
			}
		}
	}
	return done, nil
}

func dirIDs(evs []userEvent) []string {
	seen := map[string]bool{}
	var out []string
	for _, e := range evs {
		if !seen[e.u.DirectoryID] {
			seen[e.u.DirectoryID] = true
			out = append(out, e.u.DirectoryID)
		}
	}
	return out
}

// lockRunOrganizations locks every organization the run's events resolve to,
// in one global order, before any event is applied: linking a new directory
// would otherwise lock its organization first, and two appliers with
// overlapping batches could wait on each other.
func lockRunOrganizations(ctx context.Context, tx *store.Store, evs []userEvent, dirs map[string]store.DirectoryRow) error {
	orgs := map[string]bool{}
	planOrg := map[string]string{}
	var unknown []string
	for _, e := range evs {
		d, ok := dirs[e.u.DirectoryID]
		if !ok {
			if e.u.OrganizationID != "" {
				unknown = append(unknown, e.u.OrganizationID)
			}
			continue
		}
		if _, seen := planOrg[d.PlanID]; !seen {
			p, err := tx.Plan(ctx, d.PlanID)
			if err != nil {
				return err
			}
			planOrg[d.PlanID] = p.OrganizationID
		}
		orgs[planOrg[d.PlanID]] = true
	}
	if len(unknown) > 0 {
		plans, err := tx.PlansByWorkOSOrganizations(ctx, unknown)
		if err != nil {
			return err
		}
		for _, p := range plans {
			orgs[p.OrganizationID] = true
		}
	}
	for _, org := range slices.Sorted(maps.Keys(orgs)) {
		if err := tx.LockOrganization(ctx, org); err != nil {
			return err
		}
	}
	return nil
}
