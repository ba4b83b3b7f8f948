package workosapi_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

// sleeps records the back-off waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *sleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.d...)
}

// newClient returns a Client for the fake that records its sleeps.
func newClient(t *testing.T, srv *workostest.Server, edit ...func(*workosapi.Options)) (*workosapi.Client, *sleeps) {
	t.Helper()
	sl := &sleeps{}
	opts := workosapi.Options{APIKey: srv.APIKey, Endpoint: srv.URL, Sleep: sl.sleep}
	for _, e := range edit {
		e(&opts)
	}
	c, err := workosapi.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return c, sl
}

// wantCode fails unless err carries a *membership.Error with kind and code,
// and its text does not leak key.
func wantCode(t *testing.T, err error, kind membership.Kind, code, key string) {
	t.Helper()
	var me *membership.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a *membership.Error %s", err, code)
	}
	if me.Kind != kind || me.Code != code {
		t.Errorf("err = %v (kind %s), want kind %s code %s", err, me.Kind, kind, code)
	}
	if key != "" && (strings.Contains(err.Error(), key) || strings.Contains(me.Message, key)) {
		t.Errorf("error leaks the API key: %v", err)
	}
}
