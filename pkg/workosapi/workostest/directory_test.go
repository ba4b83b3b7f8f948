package workostest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestDirectoryUsers_paginationVisitsEachUserOnce(t *testing.T) {
	t.Parallel()
	s := New(t)
	dir := s.AddDirectory("org_1", Directory{})
	users := make([]User, 2500)
	for i := range users {
		users[i] = User{Email: fmt.Sprintf("u%d@example.com", i)}
	}
	stored := s.AddUsers(dir.ID, users...)
	s.AddUsers(s.AddDirectory("org_2", Directory{}).ID, User{}, User{}) // another directory's users stay out

	for _, order := range []string{"asc", "desc"} {
		t.Run(order, func(t *testing.T) {
			t.Parallel()
			seen := map[string]bool{}
			var sequence []string
			after, pages := "", 0
			for {
				q := url.Values{"directory": {dir.ID}, "limit": {"100"}, "order": {order}}
				if after != "" {
					q.Set("after", after)
				}
				status, _, body := call(t, s, "GET", "/directory_users?"+q.Encode(), nil)
				if status != http.StatusOK {
					t.Fatalf("status %d: %s", status, body)
				}
				l := decodeList(t, body)
				pages++
				if pages == 1 && l.ListMetadata.Before != nil {
					t.Errorf("first page: before = %q, want null", *l.ListMetadata.Before)
				}
				for _, id := range ids(t, l.Data) {
					if seen[id] {
						t.Fatalf("user %s listed twice", id)
					}
					seen[id] = true
					sequence = append(sequence, id)
				}
				if l.ListMetadata.After == nil {
					break
				}
				after = *l.ListMetadata.After
			}
			if len(seen) != len(stored) || pages != 25 {
				t.Fatalf("visited %d users in %d pages, want %d in 25", len(seen), pages, len(stored))
			}
			want := slices.IsSorted(sequence)
			if order == "desc" {
				want = slices.IsSortedFunc(sequence, func(a, b string) int { return -compare(a, b) })
			}
			if !want {
				t.Errorf("order %s: ids not sorted that way", order)
			}
		})
	}
}

func compare(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func TestDirectoryUsers_shapeAndDefaults(t *testing.T) {
	t.Parallel()
	s := New(t)
	dir := s.AddDirectory("org_1", Directory{})
	u := s.AddUsers(dir.ID, User{Email: "a@example.com", FirstName: "A"}, User{})
	// Default order is desc: the newest user first.
	status, _, body := call(t, s, "GET", "/directory_users?directory="+dir.ID+"&limit=1", nil)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	l := decodeList(t, body)
	if got := ids(t, l.Data); len(got) != 1 || got[0] != u[1].ID {
		t.Fatalf("first page %v, want [%s]", got, u[1].ID)
	}
	var obj map[string]any
	if err := json.Unmarshal(l.Data[0], &obj); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"object", "id", "directory_id", "organization_id", "idp_id", "email", "first_name",
		"last_name", "state", "created_at", "updated_at", "raw_attributes", "custom_attributes", "groups"} {
		if _, ok := obj[k]; !ok {
			t.Errorf("user object lacks %q", k)
		}
	}
	if obj["email"] != nil || obj["organization_id"] != "org_1" || obj["state"] != "active" {
		t.Errorf("email %v organization_id %v state %v, want null org_1 active", obj["email"], obj["organization_id"], obj["state"])
	}

	for _, q := range []string{"limit=0", "limit=101", "order=sideways", ""} {
		path := "/directory_users?" + q
		if q != "" {
			path += "&directory=" + dir.ID
		}
		if status, _, _ := call(t, s, "GET", path, nil); status != http.StatusUnprocessableEntity {
			t.Errorf("%s: status %d, want 422", path, status)
		}
	}
	if status, _, _ := call(t, s, "GET", "/directory_users?directory=directory_nope", nil); status != http.StatusNotFound {
		t.Errorf("unknown directory: status %d, want 404", status)
	}

	s.SetUser(User{ID: u[0].ID, DirectoryID: dir.ID, Email: "b@example.com", State: "inactive"})
	status, _, body = call(t, s, "GET", "/directory_users/"+u[0].ID, nil)
	if status != http.StatusOK {
		t.Fatalf("get: status %d", status)
	}
	if err := json.Unmarshal(body, &obj); err != nil {
		t.Fatal(err)
	}
	if obj["email"] != "b@example.com" || obj["state"] != "inactive" || obj["created_at"] != u[0].CreatedAt {
		t.Errorf("after SetUser: %v", obj)
	}
	s.DeleteUser(u[0].ID)
	if status, _, _ := call(t, s, "GET", "/directory_users/"+u[0].ID, nil); status != http.StatusNotFound {
		t.Errorf("deleted user: status %d, want 404", status)
	}
}

func TestDirectoryUsers_beforeCursorWalksBack(t *testing.T) {
	t.Parallel()
	s := New(t)
	dir := s.AddDirectory("org_1", Directory{})
	u := s.AddUsers(dir.ID, make([]User, 5)...)
	_, _, body := call(t, s, "GET", "/directory_users?order=asc&limit=2&directory="+dir.ID+"&before="+u[4].ID, nil)
	l := decodeList(t, body)
	if got := ids(t, l.Data); !slices.Equal(got, []string{u[2].ID, u[3].ID}) {
		t.Errorf("before %s: %v, want users 2 and 3", u[4].ID, got)
	}
	if l.ListMetadata.Before == nil || *l.ListMetadata.Before != u[2].ID || l.ListMetadata.After == nil {
		t.Errorf("list_metadata = %+v", l.ListMetadata)
	}
}

func TestDirectories_byOrganization(t *testing.T) {
	t.Parallel()
	s := New(t)
	a := s.AddDirectory("org_a", Directory{Name: "A"})
	s.AddDirectory("org_b", Directory{})
	_, _, body := call(t, s, "GET", "/directories?organization_id=org_a", nil)
	l := decodeList(t, body)
	if got := ids(t, l.Data); !slices.Equal(got, []string{a.ID}) {
		t.Fatalf("directories of org_a: %v, want [%s]", got, a.ID)
	}
	var d Directory
	if err := json.Unmarshal(l.Data[0], &d); err != nil {
		t.Fatal(err)
	}
	if d.Object != "directory" || d.State != "linked" || d.Name != "A" || d.OrganizationID != "org_a" {
		t.Errorf("directory = %+v", d)
	}
}
