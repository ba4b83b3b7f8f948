package store_test

import (
	"testing"

	"github.com/seatsync/seatsync/store/storetest"
)

func TestMigrate(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect) // applies every migration from empty
		for range 2 {
			if err := s.Migrate(t.Context()); err != nil {
				t.Fatalf("second Migrate: %v", err)
			}
		}
		ok, err := s.MigrationsCurrent(t.Context())
		if err != nil || !ok {
			t.Fatalf("MigrationsCurrent = %v, %v; want true, nil", ok, err)
		}
	})
}
