package main

import "github.com/spf13/cobra"

func migrateCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Apply database migrations (serve does this too unless database.auto_migrate is false)",
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return migrateCmdRun(c.Context(), e) },
	}
}
