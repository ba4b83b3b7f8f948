package events_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/events"
	"github.com/seatsync/seatsync/pkg/membership"
)

// received is an events.Observer that counts what it heard.
type received struct {
	mu sync.Mutex
	n  map[string]int
}

func (r *received) EventReceived(source, eventType, status string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.n[source+" "+eventType+" "+status]++
}

// TestPullOnce_observer: every event of a committed page is reported once,
// stored ones as accepted and those already in the inbox as duplicates.
func TestPullOnce_observer(t *testing.T) {
	t.Parallel()
	b := setup(t, "sqlite")
	ids := b.emit(5, time.Minute)
	// A webhook brought one of them first.
	if _, err := b.st.PutInbox(t.Context(), membership.InboxEvent{EventID: ids[2], Type: "dsync.user.created", Payload: []byte("{}")}); err != nil {
		t.Fatal(err)
	}
	obs := &received{n: map[string]int{}}
	if _, err := b.poller(events.Options{PageSize: 2, Observer: obs}).PullOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"events_api dsync.user.created accepted": 4, "events_api dsync.user.created duplicate": 1}
	if len(obs.n) != len(want) || obs.n["events_api dsync.user.created accepted"] != 4 || obs.n["events_api dsync.user.created duplicate"] != 1 {
		t.Errorf("observer heard %v, want %v", obs.n, want)
	}
}
