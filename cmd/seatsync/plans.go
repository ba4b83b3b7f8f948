package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/spf13/cobra"

	"github.com/seatsync/seatsync/pkg/auth"
)

// plansCmd manages plans from a terminal. It goes through the admin API's own
// handlers in-process, with a service token, so validation lives in one place.
func plansCmd(e *env) *cobra.Command {
	c := &cobra.Command{Use: "plans", Short: "Create, list and show plans"}
	var org, orgName, name, workosOrg string
	var admins, domains []string
	var limit int
	create := &cobra.Command{
		Use:   "create PLAN_ID --org ORG_ID --name NAME --admin EMAIL [--workos-org org_…]",
		Short: "Create or update an organization and a plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			orgBody := map[string]any{"name": orgName, "domains": domains}
			if orgName == "" {
				orgBody["name"] = org
			}
			planBody := map[string]any{"organization_id": org, "name": name, "admins": admins,
				"workos_organization_id": workosOrg}
			if limit >= 0 {
				planBody["test_mode_limit"] = limit
			}
			return e.api(c.Context(), func(call apiCall) error {
				if err := call(http.MethodPut, "/api/v1/organizations/"+org, orgBody, nil); err != nil {
					return err
				}
				return call(http.MethodPut, "/api/v1/plans/"+args[0], planBody, e.stdout)
			})
		},
	}
	create.Flags().StringVar(&org, "org", "", "organization id (required)")
	create.Flags().StringVar(&orgName, "org-name", "", "organization name (default: the id)")
	create.Flags().StringSliceVar(&domains, "domain", nil, "allowed email domain (repeatable; none = any)")
	create.Flags().StringVar(&name, "name", "", "plan name")
	create.Flags().StringSliceVar(&admins, "admin", nil, "plan admin email (repeatable)")
	create.Flags().StringVar(&workosOrg, "workos-org", "", "WorkOS organization id, for customers already set up in WorkOS")
	create.Flags().IntVar(&limit, "test-mode-limit", -1, "test-mode limit for this plan (default: seats.test_mode_limit)")
	_ = create.MarkFlagRequired("org")

	list := &cobra.Command{
		Use: "list", Short: "List plans", Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			return e.withService(c.Context(), func(svc *instance) error {
				plans, err := svc.store.Plans(c.Context())
				if err != nil {
					return err
				}
				for _, p := range plans {
					fmt.Fprintf(e.stdout, "%s\t%s\t%s\t%s\n", p.ID, p.OrganizationID, p.Mode, p.Name)
				}
				return nil
			})
		},
	}
	show := &cobra.Command{
		Use: "show PLAN_ID", Short: "Show a plan's status (as GET /api/v1/plans/{id})", Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			return e.api(c.Context(), func(call apiCall) error {
				return call(http.MethodGet, "/api/v1/plans/"+args[0], nil, e.stdout)
			})
		},
	}
	c.AddCommand(create, list, show)
	return c
}

type apiCall func(method, path string, body any, out any) error

func (e *env) withService(ctx context.Context, fn func(*instance) error) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	svc, err := newService(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.store.Close()
	return fn(svc)
}

// api calls the admin API in-process with a short-lived service token and
// prints indented JSON responses to out when it is an io.Writer.
func (e *env) api(ctx context.Context, fn func(apiCall) error) error {
	cfg, err := e.loadConfig()
	if err != nil {
		return err
	}
	if cfg.Auth.JWTSecret == "" {
		return fmt.Errorf("admin API: auth.jwt_secret is not configured")
	}
	tok, err := auth.Mint(cfg.Auth.JWTSecret, auth.Principal{Email: "cli@service", Service: true}, time.Minute, time.Now(), cfg.Auth.Issuer, cfg.Auth.Audience)
	if err != nil {
		return err
	}
	return e.withService(ctx, func(svc *instance) error {
		return fn(func(method, path string, body any, out any) error {
			var buf bytes.Buffer
			if body != nil {
				if err := json.NewEncoder(&buf).Encode(body); err != nil {
					return err
				}
			}
			req := httptest.NewRequestWithContext(ctx, method, path, &buf)
			req.Header.Set("Authorization", "Bearer "+tok)
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			svc.echo.ServeHTTP(rec, req)
			var pretty bytes.Buffer
			if json.Indent(&pretty, rec.Body.Bytes(), "", "  ") != nil {
				pretty = *rec.Body
			}
			if rec.Code >= 300 {
				return fmt.Errorf("%s %s: %d %s", method, path, rec.Code, bytes.TrimSpace(rec.Body.Bytes()))
			}
			if w, ok := out.(interface{ Write([]byte) (int, error) }); ok {
				_, err := fmt.Fprintln(w, pretty.String())
				return err
			}
			return nil
		})
	})
}
