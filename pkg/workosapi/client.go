// Package workosapi is the only code that calls the WorkOS API: organizations,
// Admin Portal links, directories, directory users and the Events API. It wraps
// the v4 SDK with retries, pacing and one error mapping to *membership.Error.
package workosapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/workos/workos-go/v4/pkg/directorysync"
	"github.com/workos/workos-go/v4/pkg/organizations"
	"github.com/workos/workos-go/v4/pkg/portal"

	"github.com/seatsync/seatsync/pkg/membership"
)

// DefaultEndpoint is the WorkOS API base URL.
const DefaultEndpoint = "https://api.workos.com"

// Options configures a Client.
type Options struct {
	// APIKey is the WorkOS secret key (workos.api_key). Required.
	APIKey string
	// Endpoint is the API base URL; empty means DefaultEndpoint.
	Endpoint string
	// HTTPClient supplies the transport, redirect policy and, in Timeout, the
	// limit for each attempt (default 30s). Retries happen beneath it, so its
	// Timeout does not cut them short. Nil means http.DefaultTransport.
	HTTPClient *http.Client
	// MaxRetries bounds the retries of one request; 0 means 5, negative means none.
	MaxRetries int
	// Log receives retry notices; nil discards them.
	Log *slog.Logger
	// Sleep waits between retries; nil waits on a timer. Tests inject a fake.
	Sleep func(ctx context.Context, d time.Duration) error
	// Observer hears of every request, for metrics; nil means nobody.
	Observer Observer
}

// Client calls WorkOS. It is safe for concurrent use.
type Client struct {
	apiKey   string
	endpoint string
	http     *http.Client
	requests *atomic.Int64
	log      *slog.Logger
	orgs     *organizations.Client
	portal   *portal.Client
	dsync    *directorysync.Client
}

// ErrNotConfigured is the error for a missing API key: Kind Unavailable, code
// workos_not_configured. Callers without a Client return it too.
func ErrNotConfigured() error {
	return membership.Errorf(membership.Unavailable, "workos_not_configured",
		"WorkOS is not configured (workos.api_key is empty)")
}

// New builds a Client; an empty APIKey returns ErrNotConfigured.
func New(opts Options) (*Client, error) {
	if strings.TrimSpace(opts.APIKey) == "" {
		return nil, ErrNotConfigured()
	}
	endpoint := strings.TrimRight(opts.Endpoint, "/")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	if u, err := url.Parse(endpoint); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("workosapi: endpoint %q is not an http(s) URL", endpoint)
	}
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	hc := &http.Client{}
	if opts.HTTPClient != nil {
		*hc = *opts.HTTPClient
	}
	rt := newRetryTransport(hc.Transport, opts, log)
	// The retry transport owns the per-attempt timeout; a Timeout on the
	// http.Client would also cover the back-off sleeps and cut retries short.
	hc.Transport, hc.Timeout = rt, 0

	c := &Client{apiKey: opts.APIKey, endpoint: endpoint, http: hc, requests: rt.requests, log: log}
	c.orgs = &organizations.Client{APIKey: opts.APIKey, HTTPClient: hc, Endpoint: endpoint, JSONEncode: encodeWithoutEmpty}
	c.portal = &portal.Client{APIKey: opts.APIKey, HTTPClient: hc, Endpoint: endpoint, JSONEncode: encodeWithoutEmpty}
	c.dsync = &directorysync.Client{APIKey: opts.APIKey, HTTPClient: hc, Endpoint: endpoint}
	return c, nil
}

// Requests returns how many HTTP requests the Client has sent, retries included.
func (c *Client) Requests() int64 { return c.requests.Load() }
