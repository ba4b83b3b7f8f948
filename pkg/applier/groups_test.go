package applier_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

const scopeGroup = "Seatsync Users"

// scopeTo makes the test plan count only members of the named groups (SPEC §4.5).
func (w *world) scopeTo(t *testing.T, groups ...string) {
	t.Helper()
	if _, err := w.st.PutPlan(t.Context(), membership.PlanSpec{ID: testPlan, OrganizationID: testOrg, Name: "Team",
		WorkOSOrganizationID: workosOrg, Admins: []string{"admin@acme.test"}, ScopingGroups: groups}); err != nil {
		t.Fatal(err)
	}
}

// TestScopingGroupAnyOrder: the user, the group and the membership may arrive in
// any order (reference §6.1); every order ends with the seat.
func TestScopingGroupAnyOrder(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.scopeTo(t, scopeGroup)
		orders := [][3]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}
		for i, order := range orders {
			uid, email, gid := fmt.Sprintf("u_%d", i), fmt.Sprintf("user%d@acme.test", i), fmt.Sprintf("directory_group_%d", i)
			evs := []membership.InboxEvent{
				userEvent("created", uid, email, "active", 1),
				groupEvent("created", gid, scopeGroup, 1),
				memberEvent("user_added", uid, email, gid, scopeGroup, 2),
			}
			for _, k := range order {
				w.step(t, evs[k])
				w.wantOutcome(t, evs[k].EventID, membership.OutcomeApplied, "")
			}
			if got := w.seat(t, email); got != testPlan+"/directory" {
				t.Errorf("order %v (user, group, membership = 0, 1, 2): %s = %s, want a directory seat", order, email, got)
			}
		}
	})
}

func TestScopingGroups(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.scopeTo(t, scopeGroup)
		const gid, other = "directory_group_users", "directory_group_sales"

		// Outside the group: recorded, no seat.
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1),
			groupEvent("created", other, "Sales", 1),
			memberEvent("user_added", "u_bob", "bob@acme.test", other, "Sales", 2))
		for _, e := range []string{"alice@acme.test", "bob@acme.test"} {
			if got := w.seat(t, e); got != "none" {
				t.Errorf("%s = %s, want no seat outside %q", e, got, scopeGroup)
			}
		}
		if u := w.dirUser(t, "u_alice"); u == nil || u.InA {
			t.Errorf("alice stored as %+v, want recorded outside A", u)
		}

		// Joining the group gives the seat.
		w.step(t, groupEvent("created", gid, scopeGroup, 1),
			memberEvent("user_added", "u_alice", "alice@acme.test", gid, scopeGroup, 2),
			memberEvent("user_added", "u_bob", "bob@acme.test", gid, scopeGroup, 2))
		for _, e := range []string{"alice@acme.test", "bob@acme.test"} {
			if got := w.seat(t, e); got != testPlan+"/directory" {
				t.Errorf("%s = %s after joining %q, want a directory seat", e, got, scopeGroup)
			}
		}

		// Leaving it takes the seat away (a directory seat, even in test mode).
		removed := memberEvent("user_removed", "u_alice", "alice@acme.test", gid, scopeGroup, 4)
		w.step(t, removed)
		if got := w.seat(t, "alice@acme.test"); got != "free" {
			t.Errorf("alice = %s after user_removed, want free", got)
		}
		if a := w.auditFor(t, testPlan, membership.ActionMovedToFree, "alice@acme.test"); len(a) != 1 || a[0].EventID != removed.EventID {
			t.Errorf("alice moved_to_free audit = %+v", a)
		}

		// A late user_added, older than the user_removed, is stale.
		late := memberEvent("user_added", "u_alice", "alice@acme.test", gid, scopeGroup, 3)
		w.step(t, late)
		w.wantOutcome(t, late.EventID, membership.OutcomeStale, "older")
		if got := w.seat(t, "alice@acme.test"); got != "free" {
			t.Errorf("alice = %s after a stale user_added, want free", got)
		}

		// Deleting the group takes the seat from its members; a late
		// user_removed for the deleted group is harmless.
		del := groupEvent("deleted", gid, scopeGroup, 5)
		w.step(t, del)
		w.wantOutcome(t, del.EventID, membership.OutcomeApplied, "")
		if got := w.seat(t, "bob@acme.test"); got != "free" {
			t.Errorf("bob = %s after the group was deleted, want free", got)
		}
		lateRemove := memberEvent("user_removed", "u_bob", "bob@acme.test", gid, scopeGroup, 6)
		w.step(t, lateRemove)
		if got := w.seat(t, "bob@acme.test"); got != "free" {
			t.Errorf("bob = %s after a late user_removed, want free", got)
		}
		// A late created cannot resurrect the deleted group.
		resurrect := groupEvent("created", gid, scopeGroup, 4)
		w.step(t, resurrect)
		w.wantOutcome(t, resurrect.EventID, membership.OutcomeStale, "")
		if got := w.seat(t, "bob@acme.test"); got != "free" {
			t.Errorf("bob = %s after a late group created, want free", got)
		}
	})
}

// TestScopingGroupRename: renaming a group into or out of the scoping name
// re-decides its members.
func TestScopingGroupRename(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.scopeTo(t, scopeGroup)
		const gid = "directory_group_eng"
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			groupEvent("created", gid, "Engineering", 1),
			memberEvent("user_added", "u_alice", "alice@acme.test", gid, "Engineering", 2))
		if got := w.seat(t, "alice@acme.test"); got != "none" {
			t.Fatalf("alice = %s, want no seat", got)
		}
		w.step(t, groupEvent("updated", gid, scopeGroup, 3))
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s after the rename into scope, want a seat", got)
		}
		w.step(t, groupEvent("updated", gid, "Engineering", 4))
		if got := w.seat(t, "alice@acme.test"); got != "free" {
			t.Errorf("alice = %s after the rename out of scope, want free", got)
		}
	})
}

// TestGroupEventsFromOtherDirectory: group and membership events of another
// customer's directory that name this customer's directory users or groups
// must not change this customer's seats (SPEC §4.2).
func TestGroupEventsFromOtherDirectory(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.scopeTo(t, scopeGroup)
		w.addPlan(t, "evil", "plan_evil", "org_EVIL")
		const gid = "directory_group_users"
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1),
			groupEvent("created", gid, scopeGroup, 1),
			memberEvent("user_added", "u_alice", "alice@acme.test", gid, scopeGroup, 2))
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Fatalf("alice = %s, want a seat", got)
		}
		if got := w.seat(t, "bob@acme.test"); got != "none" {
			t.Fatalf("bob = %s, want no seat outside the group", got)
		}
		// evil rewrites a group object or a user object as seen from directory_EVIL.
		evil := func(obj map[string]any) map[string]any {
			obj["directory_id"], obj["organization_id"] = "directory_EVIL", "org_EVIL"
			return obj
		}
		at := func(v int) time.Time { return t0.Add(time.Duration(v) * time.Minute) }
		evilUser := func(id, email string) map[string]any {
			return userData("directory_EVIL", "org_EVIL", id, email, "active", t0)
		}
		membershipOf := func(user, group map[string]any) map[string]any {
			return map[string]any{"directory_id": "directory_EVIL", "user": user, "group": group}
		}
		w.step(t, envelope("event_evil_group", "dsync.group.created", evil(groupData("directory_group_evil", scopeGroup)), at(3)),
			envelope("event_evil_member", "dsync.group.user_added", membershipOf(evilUser("u_eve", "eve@evil.test"), evil(groupData("directory_group_evil", scopeGroup))), at(3)))
		attacks := []membership.InboxEvent{
			// bob, a user of acme, added to evil's group named like acme's scoping group
			envelope("event_evil_add_bob", "dsync.group.user_added", membershipOf(evilUser("u_bob", "bob@acme.test"), evil(groupData("directory_group_evil", scopeGroup))), at(4)),
			// alice removed from acme's group by evil's directory
			envelope("event_evil_remove_alice", "dsync.group.user_removed", membershipOf(evilUser("u_alice", "alice@acme.test"), evil(groupData(gid, scopeGroup))), at(5)),
			// evil's own user added to acme's group
			envelope("event_evil_join", "dsync.group.user_added", membershipOf(evilUser("u_eve", "eve@evil.test"), evil(groupData(gid, scopeGroup))), at(5)),
			// acme's group renamed and deleted by evil's directory
			envelope("event_evil_rename", "dsync.group.updated", evil(groupData(gid, "Nobody")), at(6)),
			envelope("event_evil_delete", "dsync.group.deleted", evil(groupData(gid, scopeGroup)), at(7)),
		}
		w.step(t, attacks...)
		for _, ev := range attacks {
			w.wantOutcome(t, ev.EventID, membership.OutcomeRejected, "belongs to directory "+testDir)
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s: another organization's directory took her out of scope", got)
		}
		if got := w.seat(t, "bob@acme.test"); got != "none" {
			t.Errorf("bob = %s: another organization's directory put him in scope", got)
		}
		// acme's own events still work.
		w.step(t, memberEvent("user_added", "u_bob", "bob@acme.test", gid, scopeGroup, 8))
		if got := w.seat(t, "bob@acme.test"); got != testPlan+"/directory" {
			t.Errorf("bob = %s after acme's own user_added, want a seat", got)
		}
	})
}
