// Command seatsync keeps a product's paid-plan seats in step with each
// customer's identity provider, from WorkOS Directory Sync events.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Environ()); err != nil {
		fmt.Fprintln(os.Stderr, "seatsync:", err)
		os.Exit(1)
	}
}

// env is what every subcommand receives instead of reading process globals.
type env struct {
	stdout, stderr io.Writer
	environ        []string
	configPath     string
}

// run executes one seatsync command line; tests call it like the binary.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, environ []string) error {
	e := &env{stdout: stdout, stderr: stderr, environ: environ}
	root := &cobra.Command{
		Use:           "seatsync",
		Short:         "Keep paid-plan seats in step with WorkOS Directory Sync",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVar(&e.configPath, "config", "", "YAML configuration file (SEATSYNC_* variables override it)")
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.AddCommand(serveCmd(e), migrateCmd(e), sendCmd(e), tokenCmd(e), plansCmd(e), versionCmd(e), healthcheckCmd(e), benchCmd(e), eventsCmd(e), reconcileCmd(e))
	return root.ExecuteContext(ctx)
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(e.stdout, "seatsync", version)
			return err
		},
	}
}
