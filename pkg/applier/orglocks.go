package applier

import (
	"context"
	"encoding/json"
	"maps"
	"slices"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// lockBatchOrganizations takes, in one global order (sorted ids), the locks
// of the organizations a claimed batch will change, as far as the events'
// organization and directory ids and the stored directories tell. Each
// event's own path takes its organization's lock again, a no-op in the same
// transaction. Without this, a batch would take its locks in the order of its
// events, and two appliers with overlapping batches (several workers, several
// replicas) would deadlock; Postgres finds a deadlock only after
// deadlock_timeout and rolls one batch back, so the appliers would spend
// their time waiting. An organization this cannot foresee (a plan relinked
// meanwhile) is still locked on the way; a rare deadlock then rolls the batch
// back and ApplyNext's caller runs it again.
func (a *Applier) lockBatchOrganizations(ctx context.Context, tx *store.Store, evs []store.InboxRow, users map[int64]decodedUser) error {
	if tx.Dialect() != "postgres" || len(evs) < 2 {
		return nil // SQLite has one writer; one event takes one lock
	}
	dirs, workos := map[string]bool{}, map[string]bool{}
	for _, ev := range evs {
		if d, ok := users[ev.ID]; ok {
			if d.err == nil {
				dirs[d.u.DirectoryID] = true
				if d.u.OrganizationID != "" {
					workos[d.u.OrganizationID] = true
				}
			}
			continue // an undecodable one: its own path records the failure
		}
		var env struct {
			Data struct {
				ID             string `json:"id"`
				Object         string `json:"object"`
				DirectoryID    string `json:"directory_id"`
				OrganizationID string `json:"organization_id"`
			} `json:"data"`
		}
		if json.Unmarshal(ev.Payload, &env) != nil {
			continue // its own path records the failure
		}
		d := env.Data
		if d.Object == "directory" {
			d.DirectoryID = d.ID
		}
		if d.DirectoryID != "" {
			dirs[d.DirectoryID] = true
		}
		if d.OrganizationID != "" {
			workos[d.OrganizationID] = true
		}
	}
	if len(dirs) > 0 {
		stored, err := tx.Directories(ctx, slices.Collect(maps.Keys(dirs)))
		if err != nil {
			return err
		}
		for _, d := range stored {
			if d.OrganizationID != "" {
				workos[d.OrganizationID] = true
			}
		}
	}
	if len(workos) == 0 {
		return nil
	}
	plans, err := tx.PlansByWorkOSOrganizations(ctx, slices.Collect(maps.Keys(workos)))
	if err != nil {
		return err
	}
	orgs := map[string]bool{}
	for _, p := range plans {
		orgs[p.OrganizationID] = true
	}
	for _, org := range slices.Sorted(maps.Keys(orgs)) {
		if err := tx.LockOrganization(ctx, org); err != nil && membership.ErrorKind(err) != membership.NotFound {
			return err
		}
	}
	return nil
}
