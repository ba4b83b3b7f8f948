package membership_test

import (
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SPEC §3, §4.2, §4.5: A is the active, not deleted users with an email in an
// allowed domain and, when the plan names scoping groups, in one of them.
type inATest struct {
	name    string
	user    membership.DirectoryUser
	scope   membership.Scope
	want    bool
	wantWhy string
}

func withUser(mut func(*membership.DirectoryUser)) membership.DirectoryUser {
	u := dirUser(u1, alice, "active", 1)
	mut(&u)
	return u
}

var (
	activeAlice  = dirUser(u1, alice, "active", 1)
	acmeOnly     = membership.Scope{AllowedDomains: []string{"acme.test"}}
	acmeAndOther = membership.Scope{AllowedDomains: []string{"acme.test", "other.test"}}
)

var inATests = []inATest{
	{"active user, no restrictions", activeAlice, membership.Scope{}, true, ""},
	{"deleted user", withUser(func(u *membership.DirectoryUser) { u.Deleted = true }), membership.Scope{}, false, "deleted in the directory"},
	{"deleted wins over inactive as the reason", withUser(func(u *membership.DirectoryUser) { u.Deleted, u.State = true, "inactive" }), membership.Scope{}, false, "deleted in the directory"},
	{"inactive user", withUser(func(u *membership.DirectoryUser) { u.State = "inactive" }), membership.Scope{}, false, "state inactive in the directory"},
	{"suspended user", withUser(func(u *membership.DirectoryUser) { u.State = "suspended" }), membership.Scope{}, false, "state suspended in the directory"},
	{"no state is not active", withUser(func(u *membership.DirectoryUser) { u.State = "" }), membership.Scope{}, false, "state  in the directory"},
	{"no email", withUser(func(u *membership.DirectoryUser) { u.Email = "" }), membership.Scope{}, false, "no email in the directory"},
	{"empty domain allow-list = any domain", withUser(func(u *membership.DirectoryUser) { u.Email = eve }), membership.Scope{AllowedDomains: []string{}}, true, ""},
	{"domain in the allow-list", activeAlice, acmeOnly, true, ""},
	{"domain in a longer allow-list", withUser(func(u *membership.DirectoryUser) { u.Email = eve }), acmeAndOther, true, ""},
	{"domain outside the allow-list", withUser(func(u *membership.DirectoryUser) { u.Email = eve }), acmeOnly, false, "email domain not allowed"},
	{"a subdomain is not the allowed domain", withUser(func(u *membership.DirectoryUser) { u.Email = "bob@eng.acme.test" }), acmeOnly, false, "email domain not allowed"},
	{"a suffix look-alike is not the allowed domain", withUser(func(u *membership.DirectoryUser) { u.Email = "bob@evilacme.test" }), acmeOnly, false, "email domain not allowed"},
	{"no scoping groups: every user counts", activeAlice, membership.Scope{UserGroups: nil}, true, ""},
	{"in a scoping group named by id", activeAlice,
		membership.Scope{ScopingGroups: []string{"directory_group_1"}, UserGroups: []string{"directory_group_1", "Clockwise Users"}}, true, ""},
	{"in a scoping group named by name", activeAlice,
		membership.Scope{ScopingGroups: []string{"Clockwise Users"}, UserGroups: []string{"directory_group_1", "Clockwise Users"}}, true, ""},
	{"in one of several scoping groups", activeAlice,
		membership.Scope{ScopingGroups: []string{"Admins", "Clockwise Users"}, UserGroups: []string{"directory_group_1", "Clockwise Users"}}, true, ""},
	{"not in a scoping group", activeAlice,
		membership.Scope{ScopingGroups: []string{"Clockwise Users"}, UserGroups: []string{"directory_group_2", "Everyone"}}, false, "not in a scoping group"},
	{"in no group at all while the plan is scoped", activeAlice,
		membership.Scope{ScopingGroups: []string{"Clockwise Users"}}, false, "not in a scoping group"},
	{"domain checked before the scoping group", withUser(func(u *membership.DirectoryUser) { u.Email = eve }),
		membership.Scope{AllowedDomains: []string{"acme.test"}, ScopingGroups: []string{"G"}, UserGroups: []string{"G"}}, false, "email domain not allowed"},
	{"stored InA and Added are not inputs", withUser(func(u *membership.DirectoryUser) { u.InA, u.Added = false, false }), membership.Scope{}, true, ""},
}

func TestInA(t *testing.T) {
	t.Parallel()
	for _, tt := range inATests {
		got, why := membership.InA(tt.user, tt.scope)
		if got != tt.want || why != tt.wantWhy {
			t.Errorf("%s:\n\tInA(%s, %+v) = %v, %q\n\twant %v, %q", tt.name, userString(&tt.user), tt.scope, got, why, tt.want, tt.wantWhy)
		}
	}
}

type nameTest struct {
	first, last, want string
}

var nameTests = []nameTest{
	{"Ada", "Lovelace", "Ada Lovelace"},
	{"Ada", "", "Ada"},
	{"", "Lovelace", "Lovelace"},
	{"", "", ""},
}

func TestDirectoryUserName(t *testing.T) {
	t.Parallel()
	for _, tt := range nameTests {
		u := membership.DirectoryUser{FirstName: tt.first, LastName: tt.last}
		if got := u.Name(); got != tt.want {
			t.Errorf("DirectoryUser{FirstName: %q, LastName: %q}.Name() = %q, want %q", tt.first, tt.last, got, tt.want)
		}
	}
}
