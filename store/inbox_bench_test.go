package store_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
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
// every caller is queued. Sub-benchmarks vary the window (with two writers, as
// in seatsync serve) and the number of writers (with its 0.5 ms window).
// cpu-µs/event is the whole machine's busy time (Postgres included, from
// /proc/stat) per event: every commit costs CPU (a flush of the WAL, a round
// trip), so fewer, larger batches leave more of a saturated machine to the
// rest of the work.
func BenchmarkInboxWriter(b *testing.B) {
	ref, err := os.ReadFile("../webhooks/testdata/dsync_user_created.json")
	if err != nil {
		b.Fatal(err)
	}
	const events, callers = 20000, 32
	for _, c := range []struct {
		wait    time.Duration
		writers int
	}{
		{250 * time.Microsecond, 2}, {500 * time.Microsecond, 2}, {time.Millisecond, 2}, {2 * time.Millisecond, 2},
		{500 * time.Microsecond, 1}, {500 * time.Microsecond, 4},
	} {
		b.Run(fmt.Sprintf("wait=%s/writers=%d", c.wait, c.writers), func(b *testing.B) {
			var total time.Duration
			var busy int64 // jiffies, -1 when /proc/stat cannot be read
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
				w := s.NewInboxWriter(256, c.wait, c.writers)
				ctx, stop := context.WithCancel(b.Context())
				var running sync.WaitGroup
				running.Go(func() { w.Run(ctx) })
				b.StartTimer()
				start, busy0 := time.Now(), machineBusy()
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
				if busy1 := machineBusy(); busy >= 0 && busy0 >= 0 && busy1 >= 0 {
					busy += busy1 - busy0
				} else {
					busy = -1
				}
				n += events
				b.StopTimer()
				stop()
				running.Wait()
				b.StartTimer()
			}
			b.ReportMetric(float64(n)/total.Seconds(), "events/s")
			if busy >= 0 {
				b.ReportMetric(float64(busy)*1e6/100/float64(n), "cpu-µs/event") // USER_HZ is 100 on Linux
			}
		})
	}
}

// machineBusy returns the jiffies all CPUs spent busy (neither idle nor
// waiting for I/O) since boot, or -1 where /proc/stat cannot be read.
func machineBusy() int64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return -1
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line)) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return -1
	}
	var busy int64
	for _, i := range []int{1, 2, 3, 6, 7, 8} {
		v, err := strconv.ParseInt(f[i], 10, 64)
		if err != nil {
			return -1
		}
		busy += v
	}
	return busy
}
