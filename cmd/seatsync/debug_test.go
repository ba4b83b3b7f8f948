package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDebugListenerServesOnlyProfiles: the opt-in debug listener answers the
// pprof index and nothing else (no expvar, no configuration), and what it
// serves holds none of the secrets of a configuration loaded in the process.
func TestDebugListenerServesOnlyProfiles(t *testing.T) {
	t.Parallel()
	secrets := []string{"whsec_debugSECRETvalue", "debugJWTsecret-0123456789abcdef0123", "skDEBUGapiKEY"}
	cfg := loadConfig(t, []string{"SEATSYNC_WEBHOOKS_SECRETS=" + secrets[0], "SEATSYNC_AUTH_JWT_SECRET=" + secrets[1],
		"SEATSYNC_WORKOS_API_KEY=" + secrets[2]})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { serveDebug(ctx, addr, slog.New(slog.NewTextHandler(io.Discard, nil))) })
	t.Cleanup(func() { stop(); wg.Wait() })

	client := &http.Client{Timeout: 10 * time.Second}
	get := func(path string) (int, string) {
		t.Helper()
		var res *http.Response
		var err error
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			if res, err = client.Get("http://" + addr + path); err == nil || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, path := range []string{"/debug/pprof/", "/debug/pprof/cmdline", "/debug/pprof/goroutine?debug=2",
		"/debug/pprof/heap?debug=1"} {
		code, body := get(path)
		if code != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", path, code)
		}
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("GET %s shows the secret %q", path, s)
			}
		}
	}
	for _, path := range []string{"/", "/debug/vars", "/debug/config", "/healthz"} {
		if code, _ := get(path); code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404: the debug listener serves profiles only", path, code)
		}
	}
	runtime.KeepAlive(cfg) // its secrets stay in this process's memory while the profiles are taken
}
