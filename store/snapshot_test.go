package store_test

import (
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestSnapshot: reads inside Snapshot see the database as of its first read,
// even when another transaction commits a change in between.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		if err := s.PutOrganization(ctx, membership.Organization{ID: "o", Name: "before"}); err != nil {
			t.Fatal(err)
		}
		var first, second string
		err := s.Snapshot(ctx, func(tx *store.Store) error {
			org, err := tx.Organization(ctx, "o")
			if err != nil {
				return err
			}
			first = org.Name
			if dialect == "postgres" { // SQLite's one connection is this transaction's
				if err := s.PutOrganization(ctx, membership.Organization{ID: "o", Name: "after"}); err != nil {
					return err
				}
			}
			if org, err = tx.Organization(ctx, "o"); err != nil {
				return err
			}
			second = org.Name
			return nil
		})
		if err != nil || first != "before" || second != "before" {
			t.Fatalf("Snapshot read %q then %q (%v); want the first snapshot twice", first, second, err)
		}
		if org, err := s.Organization(ctx, "o"); dialect == "postgres" && (err != nil || org.Name != "after") {
			t.Fatalf("after the snapshot: %+v, %v; want the committed change", org, err)
		}
	})
}
