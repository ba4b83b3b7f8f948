package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seatsync/seatsync/pkg/workosapi"
)

// eventsCmd reads the WorkOS Events API by hand, beside or instead of the
// poller that serve runs when workos.events_poll_interval is set.
func eventsCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "events", Short: "Read the WorkOS Events API; list and retry inbox events"}
	pull := &cobra.Command{
		Use:   "pull",
		Short: "Pull Directory Sync events once from the stored cursor into the inbox",
		Long: "Fetches dsync.* events after the stored cursor, oldest first, stores them in the inbox (duplicates of\n" +
			"webhook deliveries are absorbed) and advances the cursor. A running seatsync applies them.",
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return e.withService(c.Context(), func(svc *instance) error {
				if svc.poller == nil {
					return fmt.Errorf("events pull: %w", workosapi.ErrNotConfigured())
				}
				rep, err := svc.poller.PullOnce(c.Context())
				// Another replica's poller may take over at once instead of after the lease.
				if rerr := svc.poller.Release(context.WithoutCancel(c.Context())); rerr != nil && err == nil {
					err = rerr
				}
				fmt.Fprintf(e.stdout, "pages=%d fetched=%d stored=%d duplicates=%d restarts=%d cursor=%s\n",
					rep.Pages, rep.Fetched, rep.Stored, rep.Duplicates, rep.Restarts, rep.Cursor)
				return err
			})
		},
	}
	c.AddCommand(pull, eventsListCmd(e), eventsRetryCmd(e)) // list and retry: events_repair.go
	return c
}
