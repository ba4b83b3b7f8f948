package workosapi_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/pkg/workosapi"
	"github.com/seatsync/seatsync/pkg/workosapi/workostest"
)

func TestListUsers_allPages(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	dir := srv.AddDirectory("org_1", workostest.Directory{})
	in := make([]workostest.User, 250)
	for i := range in {
		in[i] = workostest.User{Email: fmt.Sprintf("u%d@example.com", i), FirstName: "F", LastName: "L"}
	}
	in[7].Email = "" // sent as null
	stored := srv.AddUsers(dir.ID, in...)
	c, _ := newClient(t, srv)

	seen := map[string]workosapi.User{}
	after, pages := "", 0
	for {
		page, err := c.ListUsers(t.Context(), dir.ID, after, 0) // 0 means the maximum, 100
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, u := range page.Users {
			if _, dup := seen[u.ID]; dup {
				t.Fatalf("user %s twice", u.ID)
			}
			seen[u.ID] = u
		}
		if after = page.After; after == "" {
			break
		}
	}
	if len(seen) != 250 || pages != 3 {
		t.Fatalf("%d users in %d pages, want 250 in 3", len(seen), pages)
	}
	want := workosapi.User{ID: stored[3].ID, DirectoryID: dir.ID, OrganizationID: "org_1", Email: "u3@example.com",
		FirstName: "F", LastName: "L", State: "active", UpdatedAt: stored[3].UpdatedAt, CreatedAt: stored[3].CreatedAt}
	if got := seen[stored[3].ID]; got != want {
		t.Errorf("user = %+v, want %+v", got, want)
	}
	if got := seen[stored[7].ID].Email; got != "" {
		t.Errorf("null email = %q, want empty", got)
	}
	q := srv.Calls("/directory_users")[0].Query
	if q.Get("limit") != "100" || q.Get("order") != "asc" || q.Get("directory") != dir.ID {
		t.Errorf("query = %v", q)
	}
}

func TestGetUser(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	dir := srv.AddDirectory("org_1", workostest.Directory{})
	u := srv.AddUsers(dir.ID, workostest.User{Email: "mei.lin@example.com", State: "inactive"})[0]
	c, _ := newClient(t, srv)
	got, err := c.GetUser(t.Context(), u.ID)
	if err != nil || got.ID != u.ID || got.Email != "mei.lin@example.com" || got.State != "inactive" {
		t.Errorf("GetUser = %+v, %v", got, err)
	}
	_, err = c.GetUser(t.Context(), "directory_user_missing")
	wantCode(t, err, membership.Upstream, "workos_not_found", srv.APIKey)
}

func TestListDirectories_allPages(t *testing.T) {
	t.Parallel()
	srv := workostest.New(t)
	for range 130 {
		srv.AddDirectory("org_1", workostest.Directory{})
	}
	d := srv.AddDirectory("org_1", workostest.Directory{Name: "Okta", Type: "okta scim v2.0", State: "linked"})
	srv.AddDirectory("org_2", workostest.Directory{})
	c, _ := newClient(t, srv)
	dirs, err := c.ListDirectories(t.Context(), "org_1")
	if err != nil || len(dirs) != 131 {
		t.Fatalf("ListDirectories: %d, %v", len(dirs), err)
	}
	want := workosapi.Directory{ID: d.ID, OrganizationID: "org_1", Type: "okta scim v2.0", State: "linked", Name: "Okta"}
	if dirs[130] != want {
		t.Errorf("last = %+v, want %+v", dirs[130], want)
	}
	if n := srv.Requests("/directories"); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

// The fixture page, served verbatim, decodes through the SDK with its groups,
// role and deprecated fields present.
func TestListUsers_fixturePage(t *testing.T) {
	t.Parallel()
	fixture, err := os.ReadFile("testdata/directory_users_list.json")
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(fixture)
	}))
	t.Cleanup(hs.Close)
	c, err := workosapi.New(workosapi.Options{APIKey: "sk_test_x", Endpoint: hs.URL})
	if err != nil {
		t.Fatal(err)
	}
	page, err := c.ListUsers(t.Context(), "directory_01JNGTM66DYS8R023Z2PV7GZ3Y", "", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := workosapi.User{ID: "directory_user_01JNGTQM7YR82GGB542R4BYDMM", DirectoryID: "directory_01JNGTM66DYS8R023Z2PV7GZ3Y",
		OrganizationID: "org_01JNGT55HRGMCFC7JYF90H1ZBC", Email: "mei.lin@example.com", FirstName: "Mei", LastName: "Lin",
		State: "active", UpdatedAt: "2025-03-04T15:00:04.990Z", CreatedAt: "2025-03-04T15:00:04.990Z"}
	if len(page.Users) != 2 || page.Users[0] != want || page.After != "directory_user_01JNGTQKWCH698Q3D3178HAN3R" {
		t.Errorf("page = %+v", page)
	}
}
