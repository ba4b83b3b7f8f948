package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestInboxWriter delivers events concurrently, each id several times, through
// the group-commit writer: every id is stored once and acknowledged as new once.
func TestInboxWriter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		w := s.NewInboxWriter(64, 2*time.Millisecond, 4)
		ctx, cancel := context.WithCancel(t.Context())
		var run sync.WaitGroup
		run.Go(func() { w.Run(ctx) })
		const ids, copies = 300, 3
		var mu sync.Mutex
		fresh := map[string]int{}
		var wg sync.WaitGroup
		for c := range copies {
			for i := range ids {
				wg.Go(func() {
					typ := "dsync.user.created"
					if i%50 == 0 {
						typ = "user.created" // not a directory event: stored as ignored
					}
					ev := membership.InboxEvent{EventID: fmt.Sprintf("event_%d", i), Type: typ, Payload: []byte(`{}`),
						Source: membership.SourceWebhook, CreatedAt: time.Now()}
					dup, err := w.PutInbox(t.Context(), ev)
					if err != nil {
						t.Errorf("PutInbox(%s) copy %d: %v", ev.EventID, c, err)
						return
					}
					if !dup {
						mu.Lock()
						fresh[ev.EventID]++
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		cancel()
		run.Wait()
		if len(fresh) != ids {
			t.Fatalf("%d ids acknowledged as new, want %d", len(fresh), ids)
		}
		for id, n := range fresh {
			if n != 1 {
				t.Errorf("%s acknowledged as new %d times", id, n)
			}
		}
		counts, err := s.InboxCounts(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if counts["pending"] != ids-ids/50 || counts["ignored"] != ids/50 {
			t.Errorf("inbox counts %v, want %d pending and %d ignored", counts, ids-ids/50, ids/50)
		}
	})
}

// TestInboxWriterStopped: with no writer running, a caller gets an
// unavailable error when its context ends instead of hanging.
func TestInboxWriterStopped(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t, "sqlite")
	w := s.NewInboxWriter(8, time.Millisecond, 1)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	_, err := w.PutInbox(ctx, membership.InboxEvent{EventID: "event_1", Type: "dsync.user.created", Payload: []byte(`{}`)})
	if membership.ErrorKind(err) != membership.Unavailable {
		t.Fatalf("PutInbox without a writer = %v, want Unavailable", err)
	}
}
