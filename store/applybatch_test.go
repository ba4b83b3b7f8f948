package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestFinishBatch(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		for i := range 3 {
			if _, err := s.PutInbox(ctx, membership.InboxEvent{EventID: fmt.Sprintf("event_%d", i), Type: "dsync.user.created", Payload: []byte("{}")}); err != nil {
				t.Fatal(err)
			}
		}
		var done []store.Finished
		err := s.Tx(ctx, func(tx *store.Store) error {
			rows, err := tx.ClaimPendingBatch(ctx, time.Now().Add(time.Second), 10)
			if err != nil {
				return err
			}
			for i, r := range rows {
				done = append(done, store.Finished{ID: r.ID, Outcome: []membership.Outcome{"applied", "stale", "rejected"}[i], Reason: fmt.Sprint("r", i), PlanID: "p", DirID: "d"})
			}
			return tx.FinishBatch(ctx, done, time.Now())
		})
		if err != nil || len(done) != 3 {
			t.Fatalf("claim and finish: %v (%d claimed)", err, len(done))
		}
		for i, want := range []string{"applied", "stale", "rejected"} {
			r, err := s.InboxEvent(ctx, fmt.Sprintf("event_%d", i))
			if err != nil || r.Status != want || r.Reason != fmt.Sprint("r", i) || r.PlanID != "p" || r.ProcessedAt == nil {
				t.Errorf("event_%d = %+v, %v; want %s", i, r, err, want)
			}
		}
	})
}
