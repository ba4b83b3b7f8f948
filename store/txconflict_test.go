package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestIsTxConflict: two transactions taking two organization locks in
// opposite orders deadlock; Postgres rolls one back, and its error is a
// transaction conflict (worth running again), not the database being
// unavailable. Other errors are not conflicts.
func TestIsTxConflict(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, "postgres")
	ctx := t.Context()
	for _, id := range []string{"org_a", "org_b"} {
		if err := s.PutOrganization(ctx, membership.Organization{ID: id, Name: id}); err != nil {
			t.Fatal(err)
		}
	}
	var both sync.WaitGroup
	both.Add(2)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, order := range [][]string{{"org_a", "org_b"}, {"org_b", "org_a"}} {
		wg.Go(func() {
			errs[i] = s.Tx(ctx, func(tx *store.Store) error {
				if err := tx.LockOrganization(ctx, order[0]); err != nil {
					both.Done()
					return err
				}
				both.Done()
				both.Wait() // each holds its first lock before asking for the second
				return tx.LockOrganization(ctx, order[1])
			})
		})
	}
	wg.Wait()
	conflicts := 0
	for _, err := range errs {
		if store.IsTxConflict(err) {
			conflicts++
			if store.IsUnavailable(err) {
				t.Errorf("deadlock error %v counts as unavailable", err)
			}
		} else if err != nil {
			t.Errorf("unexpected error: %v", err)
		}
	}
	if conflicts != 1 {
		t.Errorf("errors %v: want exactly one deadlock victim", errs)
	}
	for _, err := range []error{nil, context.DeadlineExceeded, errors.New("x"), membership.Errorf(membership.Conflict, "c", "c")} {
		if store.IsTxConflict(err) {
			t.Errorf("IsTxConflict(%v) = true", err)
		}
	}
}
