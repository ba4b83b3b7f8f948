package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seatsync/seatsync/config"
	"github.com/seatsync/seatsync/store"
)

// TestServeEndToEnd runs `seatsync serve` on the embedded SQLite default and
// drives it like a newcomer: a signed fixture is accepted, its second delivery
// is a duplicate, a bad signature gets 401, the event is applied, and SIGTERM
// (context cancellation) shuts the service down cleanly.
func TestServeEndToEnd(t *testing.T) {
	t.Parallel()
	dbPath := filepath.Join(t.TempDir(), "seatsync.db")
	environ := []string{"SEATSYNC_DATABASE_PATH=" + dbPath, "SEATSYNC_LISTEN=127.0.0.1:0", "SEATSYNC_WEBHOOKS_SECRETS=" + testSecret,
		"SEATSYNC_AUTH_JWT_SECRET=" + testJWTSecret, "SEATSYNC_SEATS_CUTOVER_GRACE=0s"}
	cfg, err := config.LoadFrom("", environ)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	served := make(chan error, 1)
	go func() { served <- serve(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ready) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-served:
		t.Fatalf("serve: %v", err)
	}
	url := "http://" + addr

	// A plan for the fixtures' WorkOS organization, through the CLI.
	var out bytes.Buffer
	planArgs := []string{"plans", "create", "plan_example", "--org", "example", "--name", "Team", "--admin", "admin@example.com",
		"--workos-org", "org_01JNGT55HRGMCFC7JYF90H1ZBC"}
	if err := run(t.Context(), planArgs, &out, &out, environ); err != nil {
		t.Fatalf("plans create: %v\n%s", err, out.String())
	}

	fixture := "../../webhooks/testdata/dsync_user_created.json"
	send := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(t.Context(), append([]string{"send", "--url", url + "/webhooks/workos"}, args...), &out, &out, environ)
		return out.String(), err
	}
	if got, err := send(fixture); err != nil || !strings.Contains(got, `200 {"status":"accepted"}`) {
		t.Fatalf("first send = %q, %v; want accepted", got, err)
	}
	if got, err := send(fixture); err != nil || !strings.Contains(got, `200 {"status":"duplicate"}`) {
		t.Fatalf("second send = %q, %v; want duplicate", got, err)
	}
	if got, err := send("--secret", "not-the-secret", fixture); err == nil || !strings.Contains(got, "401") || !strings.Contains(got, "signature_mismatch") {
		t.Fatalf("send with a wrong secret = %q, %v; want 401 signature_mismatch", got, err)
	}
	if got, err := send("--new-id", fixture); err != nil || !strings.Contains(got, "accepted") {
		t.Fatalf("send --new-id = %q, %v; want accepted", got, err)
	}

	// The applier turns the event into a seat within moments.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var st struct {
			Mode  string             `json:"mode"`
			Seats struct{ Paid int } `json:"seats"`
		}
		ti := &testInstance{url: url}
		if code := ti.apiCall(t, http.MethodGet, "/api/v1/plans/plan_example", nil, &st); code == 200 && st.Mode == "test" && st.Seats.Paid == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("plan not in test mode with one paid seat: %+v", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
	res, err := http.Get(url + "/readyz")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("readyz: %v %v", res, err)
	}
	res.Body.Close()

	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("serve after shutdown: %v", err)
		}
	case <-time.After(cfg.HTTP.ShutdownTimeout + 5*time.Second):
		t.Fatal("serve did not return after cancellation")
	}
	st, err := store.Open(context.Background(), store.Options{Driver: "sqlite", Path: dbPath})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if ev, err := st.InboxEvent(context.Background(), "event_01JNGTQKRPVGJ5MMCHQYSSGRK5"); err != nil || ev.Status != "applied" {
		t.Fatalf("fixture event status = %v, %v; want applied", ev, err)
	}
}
