package applier

import (
	"context"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// ApplySnapshot applies the state of a directory user as listed by the WorkOS
// API (reconciliation, SPEC §5), through the same rules and versions as events.
// Its version is the user's updated_at with no event behind it, so it never
// overrides an event that carried the same or newer data.
func (a *Applier) ApplySnapshot(ctx context.Context, u membership.DirectoryUser, actor string) (membership.Outcome, error) {
	u.Version.CreatedAt, u.Version.EventID = time.Time{}, ""
	return a.applyOutside(ctx, u, actor)
}

// MarkGone records that a complete listing no longer shows the user: a
// tombstone versioned at the listing's start, so an event newer than the
// listing wins.
func (a *Applier) MarkGone(ctx context.Context, u membership.DirectoryUser, listedFrom time.Time, actor string) (membership.Outcome, error) {
	u.Deleted = true
	u.Version = membership.Version{UpdatedAt: listedFrom.UTC(), CreatedAt: listedFrom.UTC()}
	return a.applyOutside(ctx, u, actor)
}

// applyOutside applies a user change that came from no inbox event.
func (a *Applier) applyOutside(ctx context.Context, u membership.DirectoryUser, actor string) (membership.Outcome, error) {
	var res result
	err := a.st.Tx(ctx, func(tx *store.Store) error {
		var err error
		res, err = a.applyUserAs(ctx, tx, u, "", actor, a.opts.Now().UTC(), false)
		return err
	})
	return res.outcome, err
}
