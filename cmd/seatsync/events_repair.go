package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"
)

// `seatsync events list` and `events retry` go through GET /api/v1/events and
// POST /api/v1/events/retry in-process (e.api), so their validation, logging
// and the retry rules live in one place, the API's handlers.

// inboxEvent is one entry of GET /api/v1/events.
type inboxEvent struct {
	ID         string    `json:"id"`
	Event      string    `json:"event"`
	ReceivedAt time.Time `json:"received_at"`
	Status     string    `json:"status"`
	Reason     string    `json:"reason"`
	Attempts   int       `json:"attempts"`
	LastError  string    `json:"last_error"`
}

// maxRetryIDsPerCall matches the API's bound on event_ids.
const maxRetryIDsPerCall = 1000

func eventsListCmd(e *env) *cobra.Command {
	var outcome string
	var limit int
	c := &cobra.Command{
		Use:   "list [--outcome failed|rejected|unmatched|conflict|…] [--limit N]",
		Short: "List inbox events, oldest first, with why they are parked",
		Long: "Prints id, type, status, received time, attempts, reason and the last error (truncated) of inbox events,\n" +
			"oldest first, as GET /api/v1/events does. Parked events (failed, rejected, unmatched, conflict) can be\n" +
			"sent back to the appliers with `seatsync events retry`.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if limit < 1 {
				return fmt.Errorf("events list: --limit must be at least 1")
			}
			return e.api(c.Context(), func(call apiCall) error {
				w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
				fmt.Fprintln(w, "ID\tTYPE\tSTATUS\tRECEIVED\tATTEMPTS\tREASON\tLAST ERROR")
				after, n := "", 0
				for n < limit {
					q := url.Values{"limit": {strconv.Itoa(min(100, limit-n))}}
					if outcome != "" {
						q.Set("outcome", outcome)
					}
					if after != "" {
						q.Set("after", after)
					}
					var page struct {
						Data         []inboxEvent `json:"data"`
						ListMetadata struct {
							After *string `json:"after"`
						} `json:"list_metadata"`
					}
					if err := callJSON(call, http.MethodGet, "/api/v1/events?"+q.Encode(), nil, &page); err != nil {
						return err
					}
					for _, ev := range page.Data {
						fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", ev.ID, ev.Event, ev.Status, ev.ReceivedAt.UTC().Format(time.RFC3339),
							ev.Attempts, oneLine(ev.Reason, 60), oneLine(ev.LastError, 80))
						n++
					}
					if page.ListMetadata.After == nil {
						break
					}
					after = *page.ListMetadata.After
					if n >= limit {
						fmt.Fprintf(e.stderr, "more events after these %d: raise --limit\n", n)
					}
				}
				return w.Flush()
			})
		},
	}
	c.Flags().StringVar(&outcome, "outcome", "", "only events with this status (failed, rejected, unmatched, conflict, stale, pending, applied, ignored)")
	c.Flags().IntVar(&limit, "limit", 100, "print at most this many events")
	return c
}

func eventsRetryCmd(e *env) *cobra.Command {
	var outcome string
	var failed bool
	c := &cobra.Command{
		Use:   "retry EVENT_ID... | --failed | --outcome OUTCOME",
		Short: "Send parked inbox events back to the appliers, after their cause is fixed",
		Long: "Moves failed, rejected, unmatched or conflict events back to pending with their attempts reset; a running\n" +
			"seatsync applies them again. Idempotent: events that are not parked (pending, applied, ignored, stale) are\n" +
			"skipped, and re-running an applied change is stale, never applied twice. stale events are final.",
		RunE: func(c *cobra.Command, args []string) error {
			if failed {
				if outcome != "" && outcome != "failed" {
					return fmt.Errorf("events retry: --failed and --outcome %s contradict each other", outcome)
				}
				outcome = "failed"
			}
			if (len(args) == 0) == (outcome == "") {
				return fmt.Errorf("events retry: give event ids, or --failed, or --outcome, but not both")
			}
			var bodies []map[string]any
			if outcome != "" {
				bodies = append(bodies, map[string]any{"outcome": outcome})
			}
			for i := 0; i < len(args); i += maxRetryIDsPerCall {
				bodies = append(bodies, map[string]any{"event_ids": args[i:min(i+maxRetryIDsPerCall, len(args))]})
			}
			var retried, skipped int
			err := e.api(c.Context(), func(call apiCall) error {
				for _, b := range bodies {
					var res struct{ Retried, Skipped int }
					if err := callJSON(call, http.MethodPost, "/api/v1/events/retry", b, &res); err != nil {
						return err
					}
					retried, skipped = retried+res.Retried, skipped+res.Skipped
				}
				return nil
			})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "retried=%d skipped=%d\n", retried, skipped)
			return err
		},
	}
	c.Flags().BoolVar(&failed, "failed", false, "retry every failed event (same as --outcome failed)")
	c.Flags().StringVar(&outcome, "outcome", "", "retry every event with this status: failed, rejected, unmatched or conflict")
	return c
}

// callJSON makes an in-process API call and decodes its JSON answer into out.
func callJSON(call apiCall, method, path string, body, out any) error {
	var buf bytes.Buffer
	if err := call(method, path, body, &buf); err != nil {
		return err
	}
	if err := json.Unmarshal(buf.Bytes(), out); err != nil {
		return fmt.Errorf("%s %s: decode answer: %w", method, path, err)
	}
	return nil
}

// oneLine keeps a table cell on one line and at most n runes long.
func oneLine(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		return string(r[:n-1]) + "…"
	}
	if s == "" {
		return "-"
	}
	return s
}
