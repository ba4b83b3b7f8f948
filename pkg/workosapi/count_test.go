package workosapi_test

import (
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func TestCountRequests_countsRetriesPerContext(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	dir := srv.AddDirectory("org_1", workostest.Directory{})
	c, _ := newClient(t, srv)
	var outer, inner atomic.Int64
	ctx := workosapi.CountRequests(t.Context(), &outer)
	srv.FailNext("GET", "/directory_users", 2, http.StatusTooManyRequests, "1")
	if _, err := c.ListUsers(workosapi.CountRequests(ctx, &inner), dir.ID, "", 10); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListDirectories(ctx, "org_1"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListDirectories(t.Context(), "org_1"); err != nil { // not counted
		t.Fatal(err)
	}
	if inner.Load() != 3 || outer.Load() != 4 || c.Requests() != 5 {
		t.Errorf("inner %d outer %d client %d, want 3 4 5", inner.Load(), outer.Load(), c.Requests())
	}
}
