package workostest

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// TestPaginateAscending checks the binary-search listing of sorted ids
// against paginate, cursor by cursor, including cursors of ids that are gone.
func TestPaginateAscending(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{0, 1, 2, 7, 100, 101, 250} {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf("directory_user_%04d", 2*r.IntN(5000)) // even: odd cursors are gone ids
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		cursors := []string{"", "a", "zzz"}
		for range 20 {
			cursors = append(cursors, fmt.Sprintf("directory_user_%04d", r.IntN(10000)))
		}
		cursors = append(cursors, ids...)
		for _, limit := range []int{1, 3, 10, 100} {
			for _, c := range cursors {
				for _, dir := range []string{"after", "before"} {
					before, after := "", c
					if dir == "before" {
						before, after = c, ""
					}
					wantPage, wantMeta := paginate(ids, false, before, after, limit)
					gotPage, gotMeta := paginateAscending(ids, before, after, limit)
					if !slices.Equal(gotPage, wantPage) || !reflect.DeepEqual(gotMeta, wantMeta) {
						t.Fatalf("n=%d limit=%d %s=%q: got %v %+v, want %v %+v", n, limit, dir, c, gotPage, gotMeta, wantPage, wantMeta)
					}
				}
			}
		}
	}
}

// TestDirectoryUsers_listSeesChangesBetweenPages: the sorted ids a listing
// keeps are dropped when a user is added or deleted.
func TestDirectoryUsers_listSeesChangesBetweenPages(t *testing.T) {
	t.Parallel()
	s := New(t)
	dir := s.AddDirectory("org_1", Directory{})
	u := s.AddUsers(dir.ID, make([]User, 4)...)
	page := func(after string) []string {
		_, _, body := call(t, s, "GET", "/directory_users?order=asc&limit=2&directory="+dir.ID+"&after="+after, nil)
		return ids(t, decodeList(t, body).Data)
	}
	if got := page(""); !slices.Equal(got, []string{u[0].ID, u[1].ID}) {
		t.Fatalf("first page %v", got)
	}
	s.DeleteUser(u[2].ID)
	added := s.AddUsers(dir.ID, User{})[0]
	if got := page(u[1].ID); !slices.Equal(got, []string{u[3].ID, added.ID}) {
		t.Errorf("second page %v, want %s and the added %s", got, u[3].ID, added.ID)
	}
}
