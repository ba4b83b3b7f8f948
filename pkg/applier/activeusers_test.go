package applier_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestActiveUsersCounter checks that directories.active_users, which
// Store.ActiveUsers reads, moves with every kind of change of a directory
// user's in_a, against a real COUNT: events one by one and in batches (with a
// cutover inside the batch), deactivation, reactivation and deletion of users,
// stale events, resyncs (domains, directory reactivated, scoping groups),
// group membership, reconciliation snapshots, users marked gone, and the
// directory deleted.
func TestActiveUsersCounter(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules) // no grace: the cutover downgrades at once
		ctx := t.Context()
		const beta = "directory_BETA" // a second directory of the same plan
		check := func(step string, wantA, wantBeta int64) {
			t.Helper()
			for _, c := range []struct {
				dir  string
				want int64
			}{{testDir, wantA}, {beta, wantBeta}} {
				got, err := w.st.ActiveUsers(ctx, c.dir)
				if err != nil {
					t.Fatalf("%s: ActiveUsers(%s): %v", step, c.dir, err)
				}
				real := w.count(t, "SELECT COUNT(*) FROM directory_users WHERE directory_id = ? AND in_a", c.dir)
				if got != real || real != c.want {
					t.Fatalf("%s: %s has active_users %d, COUNT %d; want %d", step, c.dir, got, real, c.want)
				}
			}
		}
		user := func(typ, id, email, state string, v int) membership.InboxEvent {
			return userEvent(typ, id, email, state, v)
		}

		// The first event of an unknown directory links it, one by one.
		w.step(t, user("created", "u1", "alice@acme.test", "active", 1))
		check("first event", 1, 0)

		// One batch: new users in and out of A, a user leaving and entering
		// A again within the batch, one entering and leaving it, and the
		// second directory linked by its first event.
		w.put(t,
			user("created", "u2", "bob@acme.test", "active", 1),
			user("created", "u3", "carol@acme.test", "active", 1),
			user("created", "u4", "dave@other.test", "active", 1),
			user("created", "u5", "erin@acme.test", "inactive", 1),
			user("updated", "u1", "alice@acme.test", "inactive", 2),
			user("updated", "u1", "alice@acme.test", "active", 3),
			user("created", "u6", "frank@acme.test", "active", 1),
			user("updated", "u6", "frank@acme.test", "inactive", 2),
			userEventFor(beta, workosOrg, "created", "b1", "b1@acme.test", "active", 1),
			userEventFor(beta, workosOrg, "created", "b2", "b2@acme.test", "active", 1))
		w.drain(t)
		check("batch", 4, 2)

		// The 11th distinct user cuts the plan over mid-batch: the run
		// flushes, downgrades and goes on.
		var evs []membership.InboxEvent
		for i := 7; i <= 11; i++ {
			evs = append(evs, user("created", fmt.Sprintf("u%d", i), fmt.Sprintf("user%d@acme.test", i), "active", 1))
		}
		w.put(t, evs...)
		w.drain(t)
		if p := w.plan(t); p.Mode != string(membership.ModeDirectory) {
			t.Fatalf("plan mode %s after 12 users, want directory", p.Mode)
		}
		check("batch with the cutover", 9, 2)

		w.step(t, user("updated", "u2", "bob@acme.test", "inactive", 5))
		check("user deactivated", 8, 2)
		w.step(t, user("updated", "u2", "bob@acme.test", "active", 6))
		check("user reactivated", 9, 2)
		w.step(t, user("deleted", "u3", "carol@acme.test", "active", 7))
		check("user deleted", 8, 2)
		stale := user("updated", "u1", "alice@acme.test", "inactive", 0)
		w.step(t, stale)
		w.wantOutcome(t, stale.EventID, membership.OutcomeStale, "")
		check("stale event", 8, 2)

		// Directory events that re-decide every user (resync, one by one).
		w.step(t, dirEvent("dsync.activated", 10, "acme.test"))
		check("domains narrowed", 7, 2) // dave@other.test leaves A
		w.step(t, dirEvent("dsync.deactivated", 11))
		check("directory deactivated", 7, 2)
		w.step(t, user("updated", "u5", "erin@acme.test", "active", 12))
		check("user active while the directory is inactive", 8, 2)
		w.step(t, dirEvent("dsync.activated", 13)) // no domains any more
		check("directory reactivated", 9, 2)

		// Scoping groups: the admin API's resync, then a group membership.
		w.scopeTo(t, scopeGroup)
		if err := w.app.Resync(ctx, testPlan); err != nil {
			t.Fatal(err)
		}
		check("scoped to a group nobody is in", 0, 0)
		w.step(t, groupEvent("created", "g1", scopeGroup, 1), memberEvent("user_added", "u1", "alice@acme.test", "g1", scopeGroup, 2))
		check("joined the group", 1, 0)
		w.scopeTo(t)
		if err := w.app.Resync(ctx, testPlan); err != nil {
			t.Fatal(err)
		}
		check("scope removed", 9, 2)

		// Reconciliation: a page of snapshots, then users marked gone.
		at := t0.Add(20 * time.Minute)
		snap := func(id, email, state string) membership.DirectoryUser {
			return membership.DirectoryUser{ID: id, DirectoryID: testDir, OrganizationID: workosOrg, Email: email,
				FirstName: "F" + id, LastName: "L", State: state, Version: membership.Version{UpdatedAt: at}}
		}
		if _, err := w.app.ApplySnapshots(ctx, []membership.DirectoryUser{
			snap("u20", "user20@acme.test", "active"), snap("u21", "user21@acme.test", "active"),
			snap("u2", "bob@acme.test", "inactive"), snap("u7", "user7@acme.test", "active"),
		}, "reconcile:"+testDir); err != nil {
			t.Fatal(err)
		}
		check("reconciliation snapshots", 10, 2)
		gone := []membership.DirectoryUser{*w.dirUser(t, "u20"), *w.dirUser(t, "u5"), *w.dirUser(t, "u2")}
		if _, err := w.app.MarkGone(ctx, gone, t0.Add(30*time.Minute), "reconcile:"+testDir); err != nil {
			t.Fatal(err)
		}
		check("marked gone", 8, 2)

		// A deleted directory keeps its rows; later events for it are stale.
		w.step(t, dirEvent("dsync.deleted", 40))
		check("directory deleted", 8, 2)
		late := user("updated", "u1", "alice@acme.test", "inactive", 41)
		w.step(t, late)
		w.wantOutcome(t, late.EventID, membership.OutcomeStale, "directory deleted")
		w.step(t, userEventFor(beta, workosOrg, "deleted", "b1", "b1@acme.test", "active", 42))
		check("after the directory deleted", 8, 1)
	})
}

// count runs a COUNT query on a connection of its own, beside the store.
func (w *world) count(t *testing.T, query string, args ...any) int64 {
	t.Helper()
	db, query := w.rawDB(t, query)
	defer db.Close()
	var n int64
	if err := db.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
