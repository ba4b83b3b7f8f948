package applier

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// ApplySnapshots applies the state of directory users as listed by the WorkOS
// API (reconciliation, SPEC §5), through the same rules and versions as
// events. A snapshot's version is the user's updated_at with no event behind
// it, so it never overrides an event that carried the same or newer data. A
// page shares one transaction: a listing of 100,000 users would otherwise wait
// for 100,000 commits. It returns one outcome per user, in order.
func (a *Applier) ApplySnapshots(ctx context.Context, us []membership.DirectoryUser, actor string) ([]membership.Outcome, error) {
	us = slices.Clone(us) // the caller's users keep their versions
	for i := range us {
		us[i].Version.CreatedAt, us[i].Version.EventID = time.Time{}, ""
	}
	return a.applyOutside(ctx, us, actor)
}

// MarkGone records that a complete listing no longer shows the users: a
// tombstone versioned at the listing's start, so an event newer than the
// listing wins.
func (a *Applier) MarkGone(ctx context.Context, us []membership.DirectoryUser, listedFrom time.Time, actor string) ([]membership.Outcome, error) {
	us = slices.Clone(us)
	for i := range us {
		us[i].Deleted = true
		us[i].Version = membership.Version{UpdatedAt: listedFrom.UTC(), CreatedAt: listedFrom.UTC()}
	}
	return a.applyOutside(ctx, us, actor)
}

// applyOutside applies user changes that came from no inbox event, in one
// transaction: any error rolls all of them back. Users of stored directories
// take the batched path (the rows read once, a few statements per page);
// others, and a page the batched path cannot finish, go one by one.
func (a *Applier) applyOutside(ctx context.Context, us []membership.DirectoryUser, actor string) ([]membership.Outcome, error) {
	var outs []membership.Outcome
	err := a.st.Tx(ctx, func(tx *store.Store) error {
		now := a.opts.Now().UTC()
		outs = make([]membership.Outcome, len(us))
		rows := make([]store.InboxRow, len(us)) // ids index outs; no event behind them
		evs := make([]userEvent, len(us))
		for i := range us {
			rows[i].ID = int64(i)
			evs[i] = userEvent{row: &rows[i], u: us[i], actor: actor}
		}
		dirs, err := tx.Directories(ctx, dirIDs(evs))
		if err != nil {
			return err
		}
		if err := lockRunOrganizations(ctx, tx, evs, dirs); err != nil {
			return err
		}
		fin, err := a.applyByOrganization(ctx, tx, evs, dirs, now, func(e userEvent) error {
			res, err := a.applyUserAs(ctx, tx, e.u, "", actor, now, false)
			if err != nil {
				return fmt.Errorf("apply user %s: %w", e.u.ID, err)
			}
			outs[e.row.ID] = res.outcome
			return nil
		})
		for _, f := range fin {
			outs[f.ID] = f.Outcome
		}
		return err
	})
	return outs, err
}
