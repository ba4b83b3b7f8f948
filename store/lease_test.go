package store_test

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/store/storetest"
)

func TestLease(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		take := func(holder string, ttl time.Duration, want bool) {
			t.Helper()
			got, err := s.TryLease(ctx, "poller", holder, ttl)
			if err != nil || got != want {
				t.Fatalf("TryLease(%s) = %v, %v; want %v", holder, got, err, want)
			}
		}
		take("a", time.Minute, true)
		take("b", time.Minute, false) // held by a
		take("a", time.Minute, true)  // renewal
		if err := s.ReleaseLease(ctx, "poller", "a"); err != nil {
			t.Fatal(err)
		}
		take("b", -time.Second, true) // free again; b's lease is already expired
		take("a", time.Minute, true)  // so a can take it over
		take("b", time.Minute, false)
	})
}
