package main

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seatsync/seatsync/webhooks"
)

func sendCmd(e *env) *cobra.Command {
	var url, secret, eventID string
	var newID bool
	c := &cobra.Command{
		Use:   "send --url URL --secret S FILE...",
		Short: "Sign event files exactly as WorkOS does and deliver them",
		Long: "Signs each file's bytes with a fresh timestamp (WorkOS-Signature: t=<ms>, v1=<hex>) and POSTs it.\n" +
			"--event-id or --new-id rewrite the envelope id first, so one fixture can be sent as distinct events.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(c *cobra.Command, files []string) error {
			if secret == "" {
				if cfg, err := e.loadConfig(); err == nil && len(cfg.Webhooks.Secrets) > 0 {
					secret = cfg.Webhooks.Secrets[0]
				}
			}
			if url == "" || secret == "" {
				return fmt.Errorf("send: --url and --secret are required")
			}
			client := &http.Client{Timeout: 30 * time.Second}
			for _, f := range files {
				body, err := os.ReadFile(f)
				if err != nil {
					return fmt.Errorf("send: %w", err)
				}
				id := eventID
				if newID {
					id = "event_" + strings.ToUpper(rand.Text())
				}
				if id != "" {
					if body, err = withEventID(body, id); err != nil {
						return fmt.Errorf("send %s: %w", f, err)
					}
				}
				req, err := http.NewRequestWithContext(c.Context(), http.MethodPost, url, bytes.NewReader(body))
				if err != nil {
					return fmt.Errorf("send: %w", err)
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set(webhooks.SignatureHeader, webhooks.Sign(secret, time.Now(), body))
				res, err := client.Do(req)
				if err != nil {
					return fmt.Errorf("send %s: %w", f, err)
				}
				reply, _ := io.ReadAll(io.LimitReader(res.Body, 4096))
				res.Body.Close()
				fmt.Fprintf(e.stdout, "%s: %d %s\n", f, res.StatusCode, bytes.TrimSpace(reply))
				if res.StatusCode != http.StatusOK {
					return fmt.Errorf("send %s: %s", f, res.Status)
				}
			}
			return nil
		},
	}
	c.Flags().StringVar(&url, "url", "", "webhook URL, e.g. http://localhost:8080/webhooks/workos")
	c.Flags().StringVar(&secret, "secret", "", "webhook secret (default: the first of the configured webhooks.secrets)")
	c.Flags().StringVar(&eventID, "event-id", "", "rewrite the envelope id to this value")
	c.Flags().BoolVar(&newID, "new-id", false, "rewrite the envelope id to a fresh random id")
	return c
}

// withEventID replaces the envelope's id; the other fields keep their bytes.
func withEventID(body []byte, id string) ([]byte, error) {
	var env map[string]json.RawMessage
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("rewrite event id: %w", err)
	}
	env["id"], _ = json.Marshal(id)
	return json.Marshal(env)
}
