package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// BenchmarkInboxWriter stores 20,000 copies of the reference dsync.user.created
// payload (~3 KB, each with its own event id) through the group-commit writer
// on Postgres from 32 concurrent callers, as the webhook handler does: the
// ingest path without HTTP. The callers wait for their commit, like WorkOS's
// senders, so the window a writer waits for company is pure latency once
// every caller is queued; one sub-benchmark per window, four writers as in
// seatsync serve.
func BenchmarkInboxWriter(b *testing.B) {
	ref, err := os.ReadFile("../webhooks/testdata/dsync_user_created.json")
	if err != nil {
		b.Fatal(err)
	}
	const events, callers, writers = 20000, 32, 4
	for _, wait := range []time.Duration{250 * time.Microsecond, 500 * time.Microsecond, time.Millisecond, 2 * time.Millisecond} {
		b.Run(fmt.Sprintf("wait=%s", wait), func(b *testing.B) {
			var total time.Duration
			n := 0
			for range b.N {
				b.StopTimer()
				s := storetest.Open(b, "postgres")
				evs := make([]membership.InboxEvent, events)
				for i := range evs {
					id := fmt.Sprintf("event_bench_%06d", i)
					evs[i] = membership.InboxEvent{EventID: id, Type: "dsync.user.created", Source: membership.SourceWebhook,
						CreatedAt: time.Now(), Payload: bytes.Replace(ref, []byte("event_01JNGTQKRPVGJ5MMCHQYSSGRK5"), []byte(id), 1)}
				}
				w := s.NewInboxWriter(256, wait, writers)
				ctx, stop := context.WithCancel(b.Context())
				var running sync.WaitGroup
				running.Go(func() { w.Run(ctx) })
				b.StartTimer()
				start := time.Now()
				var puts sync.WaitGroup
				for c := range callers {
					puts.Go(func() {
						for i := c; i < events; i += callers {
							if _, err := w.PutInbox(b.Context(), evs[i]); err != nil {
								b.Error(err)
								return
							}
						}
					})
				}
				puts.Wait()
				total += time.Since(start)
				n += events
				b.StopTimer()
				stop()
				running.Wait()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)/total.Seconds(), "events/s")
		})
	}
}
