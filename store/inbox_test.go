package store_test

import (
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

func TestStore_InboxBacklog(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		b, err := s.InboxBacklog(ctx)
		if err != nil || b.Pending != 0 || b.Waiting != 0 || !b.Oldest.IsZero() {
			t.Fatalf("empty inbox: InboxBacklog = %+v, %v; want zeros", b, err)
		}
		before := time.Now().Add(-time.Second)
		for _, ev := range []membership.InboxEvent{
			{EventID: "event_waiting", Type: "dsync.user.created", Payload: []byte("{}")},
			{EventID: "event_due", Type: "dsync.user.created", Payload: []byte("{}")},
			{EventID: "event_ignored", Type: "connection.activated", Payload: []byte("{}")}, // stored as ignored, not pending
		} {
			if _, err := s.PutInbox(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
		waiting, err := s.InboxEvent(ctx, "event_waiting")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Postpone(ctx, waiting.ID, 1, time.Now().Add(time.Minute), "waiting for a plan linked to WorkOS organization org_X", ""); err != nil {
			t.Fatal(err)
		}
		b, err = s.InboxBacklog(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if b.Pending != 2 || b.Waiting != 1 {
			t.Errorf("InboxBacklog = %+v; want 2 pending, 1 waiting", b)
		}
		due, err := s.InboxEvent(ctx, "event_due")
		if err != nil {
			t.Fatal(err)
		}
		if !b.Oldest.Equal(due.ReceivedAt) || b.Oldest.Before(before) {
			t.Errorf("Oldest = %v; want event_due's received_at %v (the waiting event left out)", b.Oldest, due.ReceivedAt)
		}
	})
}
