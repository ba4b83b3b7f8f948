package store_test

import (
	"errors"
	"testing"

	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestEventCursor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		want := func(name, id string) {
			t.Helper()
			if got, err := s.EventCursor(ctx, name); err != nil || got != id {
				t.Fatalf("EventCursor(%s) = %q, %v; want %q", name, got, err, id)
			}
		}
		want("workos-events", "")
		for _, id := range []string{"event_1", "event_2"} {
			if err := s.SetEventCursor(ctx, "workos-events", id); err != nil {
				t.Fatal(err)
			}
		}
		want("workos-events", "event_2")
		want("other", "")

		boom := errors.New("boom")
		err := s.Tx(ctx, func(tx *store.Store) error {
			if err := tx.SetEventCursor(ctx, "workos-events", "event_3"); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v, want boom", err)
		}
		want("workos-events", "event_2") // rolled back with its transaction

		if err := s.SetEventCursor(ctx, "workos-events", ""); err != nil {
			t.Fatal(err)
		}
		want("workos-events", "")
	})
}
