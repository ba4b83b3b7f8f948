package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// benchReport is everything `seatsync bench` measured; --json writes it as is.
// Keys are flat and unique so that a shell script can pick them with sed.
type benchReport struct {
	URL     string `json:"url"`
	Users   int    `json:"users"`
	Senders int    `json:"senders"`
	Seed    uint64 `json:"seed"`
	Prefix  string `json:"event_id_prefix"`

	Created             int   `json:"events_created"`
	Updated             int   `json:"events_updated"`
	Deactivated         int   `json:"events_deactivated"`
	DistinctEvents      int   `json:"distinct_events"`
	DuplicateSends      int   `json:"duplicate_sends"`
	Sends               int   `json:"sends"`
	AvgPayloadBytes     int64 `json:"avg_payload_bytes"`
	ExpectedActiveUsers int   `json:"expected_active_users"`

	Acked          int            `json:"acked"`
	AckedAccepted  int            `json:"acked_accepted"`
	AckedDuplicate int            `json:"acked_duplicate"`
	AckedIgnored   int            `json:"acked_ignored"`
	Retries        int            `json:"retries"`
	Undelivered    int            `json:"undelivered"`
	ErrorCount     int            `json:"error_count"`
	Errors         map[string]int `json:"errors"`
	SendSeconds    float64        `json:"send_seconds"`
	IngestPerSec   float64        `json:"ingest_events_per_second"`
	AckP50Ms       float64        `json:"ack_p50_ms"`
	AckP95Ms       float64        `json:"ack_p95_ms"`
	AckP99Ms       float64        `json:"ack_p99_ms"`
	AckMaxMs       float64        `json:"ack_max_ms"`

	Stored        int            `json:"stored_events"`
	Pending       int            `json:"pending_events"`
	Applied       int            `json:"applied_events"`
	ApplySeconds  float64        `json:"apply_seconds"`
	AppliedPerSec float64        `json:"applied_events_per_second"`
	LagP50S       *float64       `json:"apply_lag_p50_seconds"` // null: no --database-url
	LagP99S       *float64       `json:"apply_lag_p99_seconds"`
	Outcomes      map[string]int `json:"outcomes"`
	Complete      bool           `json:"complete"` // every distinct event stored and none pending

	PlanMode    string   `json:"plan_mode"`
	PaidSeats   int64    `json:"paid_seats"`
	FreeMembers int64    `json:"free_members"`
	UsersAdded  int      `json:"users_added"`
	PeakRSSMiB  *float64 `json:"peak_rss_mib"` // null: unknown
}

// percentile returns the p-th percentile (0-100) of sorted values, nearest rank.
func percentile[T int64 | float64 | time.Duration](sorted []T, p float64) T {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func (r *benchReport) setLatencies(ls []time.Duration) {
	slices.Sort(ls)
	ms := func(d time.Duration) float64 { return round3(d.Seconds() * 1000) }
	r.AckP50Ms, r.AckP95Ms, r.AckP99Ms = ms(percentile(ls, 50)), ms(percentile(ls, 95)), ms(percentile(ls, 99))
	if len(ls) > 0 {
		r.AckMaxMs = ms(ls[len(ls)-1])
	}
}

func (r *benchReport) setLags(lags []float64) {
	if lags == nil {
		return
	}
	slices.Sort(lags)
	p50, p99 := round3(percentile(lags, 50)), round3(percentile(lags, 99))
	r.LagP50S, r.LagP99S = &p50, &p99
}

func round3(f float64) float64 { return float64(int64(f*1000+0.5)) / 1000 }

// peakRSS reads a process's high-water resident set (VmHWM) from /proc.
func peakRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return round3(float64(kb) / 1024), err
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

// sampleMetricsRSS polls the server's Prometheus process_resident_memory_bytes
// until ctx ends and returns the highest value seen, in MiB (0: no metric).
func sampleMetricsRSS(ctx context.Context, url string) float64 {
	peak := 0.0
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url+"/metrics", nil)
		res, err := client.Do(req)
		if err != nil || res.StatusCode != http.StatusOK {
			if res != nil {
				res.Body.Close()
			}
			return peak // no metrics endpoint (or the run is over)
		}
		sc := bufio.NewScanner(io.LimitReader(res.Body, 4<<20))
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
				if b, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					peak = max(peak, round3(b/(1<<20)))
				}
			}
		}
		res.Body.Close()
		if sleepCtx(ctx, time.Second) != nil {
			return peak
		}
	}
}

// print writes the human table.
func (r *benchReport) print(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	f := func(format string, args ...any) { fmt.Fprintf(tw, format+"\n", args...) }
	f("seatsync bench\t%d users, %d senders, %s", r.Users, r.Senders, r.URL)
	f("stream\t%d distinct events (%d created, %d updated, %d deactivated) + %d duplicates = %d sends, %d B avg payload",
		r.DistinctEvents, r.Created, r.Updated, r.Deactivated, r.DuplicateSends, r.Sends, r.AvgPayloadBytes)
	f("ingest\t%d acknowledged in %.1f s = %.0f ev/s (%d accepted, %d duplicate, %d retries, %d undelivered)",
		r.Acked, r.SendSeconds, r.IngestPerSec, r.AckedAccepted, r.AckedDuplicate, r.Retries, r.Undelivered)
	f("ack latency\tp50 %.1f ms, p95 %.1f ms, p99 %.1f ms, max %.1f ms", r.AckP50Ms, r.AckP95Ms, r.AckP99Ms, r.AckMaxMs)
	f("applied\t%d events in %.1f s = %.0f ev/s", r.Applied, r.ApplySeconds, r.AppliedPerSec)
	if r.LagP50S != nil {
		f("apply lag\tp50 %.2f s, p99 %.2f s", *r.LagP50S, *r.LagP99S)
	} else {
		f("apply lag\tunknown (no --database-url)")
	}
	f("errors\t%s", countList(r.Errors, "none"))
	f("outcomes\t%s", countList(r.Outcomes, "unknown (no --database-url)"))
	if r.PlanMode != "" {
		f("plan\t%s mode, %d paid (expected %d), %d free, %d users added", r.PlanMode, r.PaidSeats, r.ExpectedActiveUsers, r.FreeMembers, r.UsersAdded)
	} else {
		f("plan\tunknown (expected %d paid)", r.ExpectedActiveUsers)
	}
	if r.PeakRSSMiB != nil {
		f("server rss\tpeak %.1f MiB", *r.PeakRSSMiB)
	} else {
		f("server rss\tunknown (no --server-pid, no /metrics)")
	}
	return tw.Flush()
}

func countList(m map[string]int, empty string) string {
	if len(m) == 0 {
		return empty
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %d", k, m[k])
	}
	return strings.Join(parts, ", ")
}
