package workosapi

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/workos/workos-go/v4/pkg/portal"
	"github.com/workos/workos-go/v4/pkg/workos_errors"
)

func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt, hi := range []time.Duration{200, 400, 800, 1600, 3200, 6400, 10000, 10000} {
		hi *= time.Millisecond
		for range 50 {
			if d := backoff(attempt, nil); d < hi/2 || d > hi {
				t.Fatalf("attempt %d: %v outside [%v, %v]", attempt, d, hi/2, hi)
			}
		}
	}
	res := &http.Response{Header: http.Header{}}
	for v, want := range map[string]time.Duration{"2": 2 * time.Second, "3600": retryAfterCap} {
		res.Header.Set("Retry-After", v)
		if got := backoff(0, res); got != want {
			t.Errorf("Retry-After %s: %v, want %v", v, got, want)
		}
	}
	res.Header.Set("Retry-After", time.Now().Add(5*time.Second).UTC().Format(http.TimeFormat))
	if got := backoff(0, res); got < 3*time.Second || got > 5*time.Second {
		t.Errorf("Retry-After date: %v, want about 5s", got)
	}
	for _, v := range []string{"0", "-1", "soon"} {
		res.Header.Set("Retry-After", v)
		if got := backoff(0, res); got > 200*time.Millisecond {
			t.Errorf("Retry-After %q: %v, want the ordinary back-off", v, got)
		}
	}
}

func TestEncodeWithoutEmpty(t *testing.T) {
	t.Parallel()
	b, err := encodeWithoutEmpty(portal.GenerateLinkOpts{Intent: portal.DSync, Organization: "org_1", ReturnURL: "https://x"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"intent":"dsync","organization":"org_1","return_url":"https://x"}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	want := time.Date(2025, 3, 4, 15, 0, 4, 215e6, time.UTC)
	for _, v := range []string{"2025-03-04T15:00:04.215Z", "2025-03-04T16:00:04.215+01:00", "2025-03-04 15:00:04.215"} {
		if got, ok := parseTime(v); !ok || !got.Equal(want) {
			t.Errorf("parseTime(%q) = %v, %v", v, got, ok)
		}
	}
	if _, ok := parseTime("yesterday"); ok {
		t.Error("parseTime accepted nonsense")
	}
}

func TestWrapErr_redactsTheKey(t *testing.T) {
	t.Parallel()
	c := &Client{apiKey: "sk_test_leak"}
	err := c.wrapErr(context.Background(), "op", workos_errors.HTTPError{Code: 400, Status: "400 Bad Request",
		RequestID: "req_1", Message: "bad key sk_test_leak in body"})
	if strings.Contains(err.Error(), "sk_test_leak") || !strings.Contains(err.Error(), "request id req_1") {
		t.Errorf("err = %v", err)
	}
}
