package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seatsync/seatsync/pkg/auth"
)

type benchOptions struct {
	url, secret, jwtSecret  string
	issuer, audience        string
	users, senders          int
	databaseURL, jsonPath   string
	serverPID, attempts     int
	seed                    uint64
	timeout, requestTimeout time.Duration
}

func benchCmd(e *env) *cobra.Command {
	var o benchOptions
	c := &cobra.Command{
		Use:   "bench --url URL --users N --senders C [--database-url URL] [--server-pid PID] [--json FILE]",
		Short: "Send a signed initial-sync stream to a running seatsync and measure ingest and apply",
		Long: "Creates organization bench and plan plan_bench (WorkOS organization org_BENCH) through the admin API,\n" +
			"then sends N dsync.user.created events of directory_BENCH (~2 KB each), 2% updates, 1% deactivations and\n" +
			"1% duplicates, shuffled, from C concurrent senders, each attempt signed as WorkOS signs. It waits until\n" +
			"every event is applied and prints throughput, ack latency, apply lag, errors and the server's peak RSS.\n" +
			"It expects a fresh database: with --database-url it reads outcomes and lag from inbox_events.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if cfg, err := e.loadConfig(); err == nil {
				if o.secret == "" && len(cfg.Webhooks.Secrets) > 0 {
					o.secret = cfg.Webhooks.Secrets[0]
				}
				if o.jwtSecret == "" {
					o.jwtSecret, o.issuer, o.audience = cfg.Auth.JWTSecret, cfg.Auth.Issuer, cfg.Auth.Audience
				}
			}
			if o.secret == "" || o.jwtSecret == "" || o.users < 1 || o.senders < 1 || o.attempts < 1 {
				return fmt.Errorf("bench: --secret, --jwt-secret (or a configuration with them), --users ≥ 1 and --senders ≥ 1 are required")
			}
			rep, err := o.run(c.Context(), e.stderr)
			if rep == nil {
				return err
			}
			if o.jsonPath != "" {
				b, _ := json.MarshalIndent(rep, "", "  ")
				if werr := os.WriteFile(o.jsonPath, append(b, '\n'), 0o644); werr != nil && err == nil {
					err = fmt.Errorf("bench: %w", werr)
				}
			}
			if perr := rep.print(e.stdout); perr != nil && err == nil {
				err = perr
			}
			return err
		},
	}
	f := c.Flags()
	f.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the seatsync under test")
	f.StringVar(&o.secret, "secret", "", "webhook secret (default: the first of the configured webhooks.secrets)")
	f.StringVar(&o.jwtSecret, "jwt-secret", "", "HS256 secret for the service token (default: the configured auth.jwt_secret)")
	f.IntVar(&o.users, "users", 1000, "directory users in the initial sync")
	f.IntVar(&o.senders, "senders", 32, "concurrent senders")
	f.StringVar(&o.databaseURL, "database-url", "", "the server's Postgres: measure apply lag and outcomes from inbox_events")
	f.IntVar(&o.serverPID, "server-pid", 0, "server process id: report its peak RSS (VmHWM)")
	f.StringVar(&o.jsonPath, "json", "", "also write the report as JSON to this file")
	f.Uint64Var(&o.seed, "seed", 1, "seed of the stream (users picked for updates, deactivations, duplicates; order)")
	f.DurationVar(&o.timeout, "timeout", 30*time.Minute, "how long to wait for the events to be applied")
	f.IntVar(&o.attempts, "attempts", 8, "delivery attempts per event before it counts as undelivered")
	f.DurationVar(&o.requestTimeout, "request-timeout", 10*time.Second, "timeout of one delivery attempt")
	return c
}

// run sets up the plan, sends the stream and waits for it to be applied. The
// report is returned, as far as the run got, even with an error.
func (o *benchOptions) run(ctx context.Context, progress io.Writer) (*benchReport, error) {
	o.url = strings.TrimRight(o.url, "/")
	api := o.apiClient()
	if err := api(ctx, http.MethodPut, "/api/v1/organizations/"+benchOrg, map[string]any{"name": "Bench", "domains": []string{benchDomain}}, nil); err != nil {
		return nil, err
	}
	plan := map[string]any{"organization_id": benchOrg, "name": "Bench", "admins": []string{"admin@" + benchDomain},
		"workos_organization_id": benchWorkOSOrg, "test_mode_limit": 10}
	if err := api(ctx, http.MethodPut, "/api/v1/plans/"+benchPlan, plan, nil); err != nil {
		return nil, err
	}
	s, err := newBenchStream(o.users, o.seed, "B"+rand.Text()[:10], time.Now().UTC().Add(-time.Hour).Truncate(time.Millisecond))
	if err != nil {
		return nil, err
	}
	r := &benchReport{URL: o.url, Users: o.users, Senders: o.senders, Seed: o.seed, Prefix: s.prefix,
		Created: s.created, Updated: s.updated, Deactivated: s.deactivated, DistinctEvents: len(s.ids),
		DuplicateSends: s.duplicates, Sends: len(s.order), AvgPayloadBytes: s.payloadBytes / int64(len(s.ids)),
		ExpectedActiveUsers: s.expectedActive}
	rssCtx, stopRSS := context.WithCancel(ctx)
	rss := make(chan float64, 1)
	if o.serverPID == 0 {
		go func() { rss <- sampleMetricsRSS(rssCtx, o.url) }()
	}
	defer stopRSS()

	snd := &benchSender{url: o.url + "/webhooks/workos", secret: o.secret, senders: o.senders, attempts: o.attempts,
		timeout: o.requestTimeout, progress: progress}
	start := time.Now()
	tally, acked, sendErr := snd.send(ctx, s)
	r.SendSeconds = round3(time.Since(start).Seconds())
	r.Acked = len(tally.latencies)
	r.AckedAccepted, r.AckedDuplicate, r.AckedIgnored = tally.accepted, tally.duplicate, tally.ignored
	r.Retries, r.Undelivered, r.Errors = tally.retries, tally.undelivered, tally.errors
	for _, n := range tally.errors {
		r.ErrorCount += n
	}
	r.IngestPerSec = round3(float64(r.Acked) / max(r.SendSeconds, 1e-9))
	r.setLatencies(tally.latencies)
	if sendErr != nil {
		return r, sendErr
	}
	want := 0
	for _, a := range acked {
		if a {
			want++
		}
	}
	fmt.Fprintf(progress, "bench: %d sends acknowledged in %.1f s; waiting for the appliers\n", r.Acked, r.SendSeconds)
	watch := &applyWatch{databaseURL: o.databaseURL, api: api, timeout: o.timeout, progress: progress}
	st, waitErr := watch.wait(ctx, s.prefix, want, start)
	if st != nil {
		r.Stored, r.Pending, r.Outcomes, r.ApplySeconds = st.stored, st.pending, st.outcomes, round3(st.seconds)
		r.Applied = st.stored - st.pending
		if o.databaseURL == "" {
			r.Stored, r.Applied = want, want-st.pending
		}
		r.AppliedPerSec = round3(float64(r.Applied) / max(st.seconds, 1e-9))
		r.setLags(st.lags)
		r.Complete = waitErr == nil && r.Pending == 0 && r.Stored >= len(s.ids)
	}
	var status struct {
		Mode      string `json:"mode"`
		Directory *struct {
			UsersAdded int `json:"users_added"`
		} `json:"directory"`
		Seats struct{ Paid, Free int64 } `json:"seats"`
	}
	if err := api(ctx, http.MethodGet, "/api/v1/plans/"+benchPlan, nil, &status); err == nil {
		r.PlanMode, r.PaidSeats, r.FreeMembers = status.Mode, status.Seats.Paid, status.Seats.Free
		if status.Directory != nil {
			r.UsersAdded = status.Directory.UsersAdded
		}
	}
	stopRSS()
	if o.serverPID != 0 {
		if mib, err := peakRSS(o.serverPID); err == nil {
			r.PeakRSSMiB = &mib
		}
	} else if mib := <-rss; mib > 0 {
		r.PeakRSSMiB = &mib
	}
	switch {
	case waitErr != nil:
		return r, waitErr
	case r.Undelivered > 0:
		return r, fmt.Errorf("bench: %d events were never acknowledged (last error: %s)", r.Undelivered, tally.lastErr)
	case !r.Complete:
		return r, fmt.Errorf("bench: only %d of %d events are stored", r.Stored, len(s.ids))
	}
	return r, nil
}

// apiClient returns a caller of the admin API with a service token.
func (o *benchOptions) apiClient() func(ctx context.Context, method, path string, body, out any) error {
	client := &http.Client{Timeout: 30 * time.Second}
	return func(ctx context.Context, method, path string, body, out any) error {
		tok, err := auth.Mint(o.jwtSecret, auth.Principal{Email: "bench@service", Service: true}, time.Hour, time.Now(), o.issuer, o.audience)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		var buf bytes.Buffer
		if body != nil {
			_ = json.NewEncoder(&buf).Encode(body)
		}
		req, err := http.NewRequestWithContext(ctx, method, o.url+path, &buf)
		if err != nil {
			return fmt.Errorf("bench: %w", err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			return fmt.Errorf("bench: %s %s: %w", method, path, err)
		}
		defer res.Body.Close()
		reply, _ := io.ReadAll(io.LimitReader(res.Body, 1<<20))
		if res.StatusCode >= 300 {
			return fmt.Errorf("bench: %s %s: %d %s", method, path, res.StatusCode, bytes.TrimSpace(reply))
		}
		if out != nil {
			return json.Unmarshal(reply, out)
		}
		return nil
	}
}
