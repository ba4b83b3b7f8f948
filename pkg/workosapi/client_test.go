package workosapi_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func TestNew_withoutAPIKeyIsNotConfigured(t *testing.T) {
	t.Parallel()
	for _, key := range []string{"", "  "} {
		_, err := workosapi.New(workosapi.Options{APIKey: key})
		wantCode(t, err, membership.Unavailable, "workos_not_configured", "")
		if !strings.Contains(err.Error(), "workos.api_key") {
			t.Errorf("message %q does not name workos.api_key", err)
		}
	}
	wantCode(t, workosapi.ErrNotConfigured(), membership.Unavailable, "workos_not_configured", "")
	if _, err := workosapi.New(workosapi.Options{APIKey: "sk_test_x", Endpoint: "api.workos.com"}); err == nil {
		t.Error("an endpoint without a scheme was accepted")
	}
}

func TestClient_wrongKeyIsUnauthorized(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	const key = "sk_test_wrong_key_123"
	c, sl := newClient(t, srv, func(o *workosapi.Options) { o.APIKey = key })
	ctx := t.Context()
	calls := map[string]func() error{
		"EnsureOrganization": func() error { _, _, err := c.EnsureOrganization(ctx, "plan_1", "P", nil); return err },
		"PortalLink":         func() error { _, err := c.PortalLink(ctx, "org_1", "", ""); return err },
		"ListDirectories":    func() error { _, err := c.ListDirectories(ctx, "org_1"); return err },
		"ListUsers":          func() error { _, err := c.ListUsers(ctx, "directory_1", "", 10); return err },
		"GetUser":            func() error { _, err := c.GetUser(ctx, "directory_user_1"); return err },
		"ListEvents":         func() error { _, err := c.ListEvents(ctx, workosapi.EventsQuery{}); return err },
	}
	for name, call := range calls {
		err := call()
		wantCode(t, err, membership.Upstream, "workos_unauthorized", key)
		if !strings.Contains(err.Error(), "WorkOS rejected the API key") {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(sl.all()) != 0 {
		t.Errorf("a 401 was retried: %v", sl.all())
	}
}

func TestClient_unreachable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	const key = "sk_test_secret_abc"
	sl := &sleeps{}
	var logs bytes.Buffer
	c, err := workosapi.New(workosapi.Options{APIKey: key, Endpoint: "http://" + addr, MaxRetries: 2, Sleep: sl.sleep,
		Log: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.ListUsers(t.Context(), "directory_1", "", 10)
	wantCode(t, err, membership.Upstream, "workos_unreachable", key)
	if got := c.Requests(); got != 3 {
		t.Errorf("Requests = %d, want 3 (1 + 2 retries)", got)
	}
	if !strings.Contains(logs.String(), "workos request retry") || strings.Contains(logs.String(), key) {
		t.Errorf("retry log missing or leaks the key:\n%s", logs.String())
	}
}

func TestClient_cancelledContextStaysAContextError(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	srv.FailNext("GET", "/directory_users", 100, http.StatusServiceUnavailable, "")
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	// The caller gives up during the back-off after the first 503.
	c, _ := newClient(t, srv, func(o *workosapi.Options) {
		o.Sleep = func(ctx context.Context, _ time.Duration) error { cancel(); return ctx.Err() }
	})
	_, err := c.ListUsers(ctx, "directory_1", "", 10)
	if !errors.Is(err, context.Canceled) || membership.ErrorCode(err) != "" {
		t.Errorf("err = %v, want context.Canceled and no membership code", err)
	}
}
