package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/seatsync/seatsync/pkg/auth"
	"github.com/seatsync/seatsync/pkg/membership"
)

func tokenCmd(e *env) *cobra.Command {
	var admin string
	var service bool
	var ttl time.Duration
	c := &cobra.Command{
		Use:   "token --admin EMAIL | --service",
		Short: "Mint an admin or service token with the configured auth.jwt_secret",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if (admin == "") == !service {
				return fmt.Errorf("token: give exactly one of --admin EMAIL and --service")
			}
			cfg, err := e.loadConfig()
			if err != nil {
				return err
			}
			if cfg.Auth.JWTSecret == "" {
				return fmt.Errorf("token: auth.jwt_secret is not configured")
			}
			p := auth.Principal{Email: membership.NormalizeEmail(admin), Service: service}
			if service {
				p.Email = "billing@service"
			}
			tok, err := auth.Mint(cfg.Auth.JWTSecret, p, ttl, time.Now(), cfg.Auth.Issuer, cfg.Auth.Audience)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(e.stdout, tok)
			return err
		},
	}
	c.Flags().StringVar(&admin, "admin", "", "plan admin email (the token's sub)")
	c.Flags().BoolVar(&service, "service", false, "a service token (scope service), as the billing system uses")
	c.Flags().DurationVar(&ttl, "ttl", 12*time.Hour, "lifetime")
	return c
}
