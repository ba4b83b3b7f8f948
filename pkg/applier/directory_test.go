package applier_test

import (
	"slices"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// Directory lifecycle (SPEC §3, §4.1): activated, deactivated, deleted.

func TestDirectoryActivatedLinks(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		ev := dirEvent("dsync.activated", 1, "Acme.test", "acme.example")
		w.step(t, ev)
		r := w.wantOutcome(t, ev.EventID, membership.OutcomeApplied, "")
		if r.PlanID != testPlan || r.DirectoryID != testDir {
			t.Errorf("inbox row plan %q dir %q", r.PlanID, r.DirectoryID)
		}
		d := w.directory(t, testDir)
		if d == nil {
			t.Fatal("directory not linked")
		}
		if d.PlanID != testPlan || d.OrganizationID != workosOrg || d.State != "active" || d.Type != "okta scim v2.0" || d.Name != "Acme Okta" {
			t.Errorf("directory = plan %q org %q state %q type %q name %q", d.PlanID, d.OrganizationID, d.State, d.Type, d.Name)
		}
		if got := d.DomainList(); !slices.Equal(got, []string{"acme.test", "acme.example"}) {
			t.Errorf("domains = %v, want normalized [acme.test acme.example]", got)
		}
		if p := w.plan(t); p.Mode != "test" {
			t.Errorf("plan mode %s, want test", p.Mode)
		}
		linked := w.auditFor(t, testPlan, membership.ActionDirectoryLinked, "")
		if len(linked) != 1 || linked[0].EventID != ev.EventID || linked[0].Actor != "directory:"+testDir {
			t.Errorf("directory_linked audit = %+v", linked)
		}
		// The directory's domains are now allowed: a user outside them gets no seat.
		w.step(t, userEvent("created", "u_alice", "alice@acme.example", "active", 2),
			userEvent("created", "u_mallory", "mallory@elsewhere.test", "active", 2))
		if got := w.seat(t, "alice@acme.example"); got != testPlan+"/directory" {
			t.Errorf("alice = %s, want a directory seat", got)
		}
		if got := w.seat(t, "mallory@elsewhere.test"); got != "none" {
			t.Errorf("mallory = %s, want no seat (domain)", got)
		}
		if u := w.dirUser(t, "u_mallory"); u == nil || u.InA {
			t.Errorf("mallory stored as %+v, want recorded outside A", u)
		}
		// A duplicate or older activation changes nothing.
		older := dirEvent("dsync.activated", 0)
		w.step(t, older)
		w.wantOutcome(t, older.EventID, membership.OutcomeStale, "older")
		if n := len(w.auditFor(t, testPlan, membership.ActionDirectoryLinked, "")); n != 1 {
			t.Errorf("directory_linked entries = %d, want 1", n)
		}
	})
}

// TestUserEventsBeforeActivated: the initial sync's user events may overtake
// dsync.activated; they link the directory through their organization_id.
func TestUserEventsBeforeActivated(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		first := userEvent("created", "u_alice", "alice@acme.test", "active", 2)
		w.step(t, first, userEvent("created", "u_bob", "bob@acme.test", "active", 2))
		d := w.directory(t, testDir)
		if d == nil || d.PlanID != testPlan || d.State != "active" || d.OrganizationID != workosOrg {
			t.Fatalf("directory after a user event = %+v, want linked and active", d)
		}
		if p := w.plan(t); p.Mode != "test" {
			t.Errorf("plan mode %s, want test", p.Mode)
		}
		linked := w.auditFor(t, testPlan, membership.ActionDirectoryLinked, "")
		if len(linked) != 1 || linked[0].EventID != first.EventID {
			t.Errorf("directory_linked audit = %+v, want one, by the first user event", linked)
		}
		if d.UsersAdded != 2 {
			t.Errorf("users added = %d, want 2", d.UsersAdded)
		}
		// The activation, created before the user events but delivered after them,
		// still records the directory's details.
		act := dirEvent("dsync.activated", 1, "acme.test")
		w.step(t, act)
		w.wantOutcome(t, act.EventID, membership.OutcomeApplied, "")
		d = w.directory(t, testDir)
		if d.Type != "okta scim v2.0" || d.Name != "Acme Okta" || !slices.Equal(d.DomainList(), []string{"acme.test"}) || d.State != "active" {
			t.Errorf("directory after late activation = type %q name %q domains %v state %q", d.Type, d.Name, d.DomainList(), d.State)
		}
		if d.UsersAdded != 2 {
			t.Errorf("users added = %d after activation, want 2 (kept)", d.UsersAdded)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionDirectoryLinked, "")); n != 1 {
			t.Errorf("directory_linked entries = %d, want 1", n)
		}
		for _, e := range []string{"alice@acme.test", "bob@acme.test"} {
			if got := w.seat(t, e); got != testPlan+"/directory" {
				t.Errorf("%s = %s, want a directory seat", e, got)
			}
		}
	})
}

// TestDirectoryDeactivatedFreezes: while the directory is inactive seats stay as
// they are; a later activation resumes and re-decides everyone.
func TestDirectoryDeactivatedFreezes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.step(t, dirEvent("dsync.activated", 1),
			userEvent("created", "u_alice", "alice@acme.test", "active", 2),
			userEvent("created", "u_bob", "bob@acme.test", "active", 2))
		off := dirEvent("dsync.deactivated", 3)
		w.step(t, off)
		w.wantOutcome(t, off.EventID, membership.OutcomeApplied, "")
		if d := w.directory(t, testDir); d.State != "inactive" {
			t.Errorf("directory state %s, want inactive", d.State)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionDirectoryFrozen, "")); n != 1 {
			t.Errorf("directory_deactivated entries = %d, want 1", n)
		}
		// Alice is deactivated while frozen; Carol is created: neither seat changes.
		w.step(t, userEvent("updated", "u_alice", "alice@acme.test", "inactive", 4),
			userEvent("created", "u_carol", "carol@acme.test", "active", 4))
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s while frozen, want her seat kept", got)
		}
		if got := w.seat(t, "carol@acme.test"); got == testPlan+"/directory" {
			t.Errorf("carol = %s while frozen, want no new seat", got)
		}
		if u := w.dirUser(t, "u_alice"); u.State != "inactive" {
			t.Errorf("alice stored as %s, want the change recorded", u.State)
		}
		if p := w.plan(t); p.Mode != "test" {
			t.Errorf("plan mode %s while frozen, want test", p.Mode)
		}
		// Active again: changes resume.
		on := dirEvent("dsync.activated", 5)
		w.step(t, on)
		w.wantOutcome(t, on.EventID, membership.OutcomeApplied, "")
		if got := w.seat(t, "alice@acme.test"); got != "free" {
			t.Errorf("alice = %s after reactivation, want free", got)
		}
		if got := w.seat(t, "carol@acme.test"); got != testPlan+"/directory" {
			t.Errorf("carol = %s after reactivation, want a directory seat", got)
		}
		if got := w.seat(t, "bob@acme.test"); got != testPlan+"/directory" {
			t.Errorf("bob = %s after reactivation, want his seat", got)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionDirectoryReactivate, "")); n != 1 {
			t.Errorf("directory_reactivated entries = %d, want 1", n)
		}
		moved := w.auditFor(t, testPlan, membership.ActionMovedToFree, "alice@acme.test")
		if len(moved) != 1 || moved[0].EventID != on.EventID {
			t.Errorf("alice moved_to_free audit = %+v, want one by the activation", moved)
		}
	})
}

// TestStaleActivationDoesNotUnfreeze: an activation older than the stored
// deactivation is stale and leaves the directory inactive.
func TestStaleActivationDoesNotUnfreeze(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.step(t, dirEvent("dsync.activated", 1),
			userEvent("created", "u_alice", "alice@acme.test", "active", 2),
			dirEvent("dsync.deactivated", 5),
			userEvent("updated", "u_alice", "alice@acme.test", "inactive", 6))
		late := dirEvent("dsync.activated", 3)
		w.step(t, late)
		w.wantOutcome(t, late.EventID, membership.OutcomeStale, "older than the stored directory version")
		if d := w.directory(t, testDir); d.State != "inactive" || d.VersionEventID != dirEvent("dsync.deactivated", 5).EventID {
			t.Errorf("directory state %s version %s, want inactive at the deactivation", d.State, d.VersionEventID)
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s, want frozen seat", got)
		}
	})
}

func TestDirectoryDeletedKeepsSeats(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules) // OnDirectoryDeleted: keep
		ctx := t.Context()
		w.step(t, dirEvent("dsync.activated", 1),
			userEvent("created", "u_alice", "alice@acme.test", "active", 2),
			userEvent("created", "u_bob", "bob@acme.test", "active", 2),
			userEvent("created", "u_carol", "carol@acme.test", "inactive", 2))
		del := dirEvent("dsync.deleted", 3)
		w.step(t, del)
		w.wantOutcome(t, del.EventID, membership.OutcomeApplied, "")
		if p := w.plan(t); p.Mode != "manual" || p.CutoverAt != nil || p.DowngradeDueAt != nil {
			t.Errorf("plan mode %s cutover %v due %v, want manual", p.Mode, p.CutoverAt, p.DowngradeDueAt)
		}
		if d := w.directory(t, testDir); d.State != "deleted" {
			t.Errorf("directory state %s, want deleted", d.State)
		}
		for _, e := range []string{"alice@acme.test", "bob@acme.test"} {
			if got := w.seat(t, e); got != testPlan+"/manual" {
				t.Errorf("%s = %s, want the seat kept as manual", e, got)
			}
			if a := w.auditFor(t, testPlan, membership.ActionSourceChanged, e); len(a) != 1 || a[0].EventID != del.EventID {
				t.Errorf("%s source_changed audit = %+v", e, a)
			}
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionDirectoryRemoved, "")); n != 1 {
			t.Errorf("directory_removed entries = %d, want 1", n)
		}
		// A late user event of the deleted directory is stale, whatever its version.
		for _, ev := range []membership.InboxEvent{
			userEvent("updated", "u_alice", "alice@acme.test", "inactive", 9),
			userEvent("created", "u_dave", "dave@acme.test", "active", 2),
		} {
			w.step(t, ev)
			w.wantOutcome(t, ev.EventID, membership.OutcomeStale, "directory deleted")
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/manual" {
			t.Errorf("alice = %s after a late event, want her manual seat", got)
		}
		if got := w.seat(t, "dave@acme.test"); got != "none" {
			t.Errorf("dave = %s, want nothing from a deleted directory", got)
		}
		// Nor can the deleted directory come back.
		again := dirEvent("dsync.activated", 10)
		w.step(t, again)
		w.wantOutcome(t, again.EventID, membership.OutcomeStale, "")
		if p := w.plan(t); p.Mode != "manual" {
			t.Errorf("plan mode %s after a late activation, want manual", p.Mode)
		}
		// The admin manages the seats again.
		if err := w.app.RemoveManualSeat(ctx, testPlan, "bob@acme.test", "admin:admin@acme.test"); err != nil {
			t.Errorf("RemoveManualSeat after directory deletion: %v", err)
		}
		if _, err := w.app.AddManualSeat(ctx, testPlan, "erin@acme.test", "Erin", "admin:admin@acme.test"); err != nil {
			t.Errorf("AddManualSeat after directory deletion: %v", err)
		}
	})
}

func TestDirectoryDeletedFreesSeats(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		r := rules
		r.OnDirectoryDeleted = "free"
		w := newWorld(t, dialect, r)
		ctx := t.Context()
		// Carol's seat was given by an admin before the directory existed.
		if _, err := w.app.AddManualSeat(ctx, testPlan, "carol@acme.test", "Carol", "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		w.step(t, dirEvent("dsync.activated", 1),
			userEvent("created", "u_alice", "alice@acme.test", "active", 2),
			userEvent("created", "u_carol", "carol@acme.test", "active", 2))
		if got := w.seat(t, "carol@acme.test"); got != testPlan+"/directory" {
			t.Fatalf("carol = %s, want directory-sourced", got)
		}
		del := dirEvent("dsync.deleted", 3)
		w.step(t, del)
		if p := w.plan(t); p.Mode != "manual" {
			t.Errorf("plan mode %s, want manual", p.Mode)
		}
		if got := w.seat(t, "alice@acme.test"); got != "free" {
			t.Errorf("alice = %s, want free", got)
		}
		if got := w.seat(t, "carol@acme.test"); got != testPlan+"/manual" {
			t.Errorf("carol = %s, want her admin-given seat back as manual", got)
		}
		if a := w.auditFor(t, testPlan, membership.ActionMovedToFree, "alice@acme.test"); len(a) != 1 || a[0].EventID != del.EventID {
			t.Errorf("alice moved_to_free audit = %+v", a)
		}
		if a := w.auditFor(t, testPlan, membership.ActionMovedToFree, "carol@acme.test"); len(a) != 0 {
			t.Errorf("carol audited as moved to free: %+v", a)
		}
	})
}

// TestDirectoryEventRejectedForOtherOrganization: a directory event whose
// organization_id contradicts the stored link is refused like a user event.
func TestDirectoryEventRejectedForOtherOrganization(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		w.addPlan(t, "evil", "plan_evil", "org_EVIL")
		w.step(t, dirEvent("dsync.activated", 1), userEvent("created", "u_alice", "alice@acme.test", "active", 2))
		for _, ev := range []membership.InboxEvent{dirEventFor(testDir, "org_EVIL", "dsync.deleted", 5), dirEventFor(testDir, "org_EVIL", "dsync.deactivated", 6)} {
			w.step(t, ev)
			w.wantOutcome(t, ev.EventID, membership.OutcomeRejected, "contradicts")
		}
		if d := w.directory(t, testDir); d.State != "active" || d.PlanID != testPlan {
			t.Errorf("directory = %s on %s, want active on %s", d.State, d.PlanID, testPlan)
		}
		if got := w.seat(t, "alice@acme.test"); got != testPlan+"/directory" {
			t.Errorf("alice = %s", got)
		}
		for _, id := range []string{testPlan, "plan_evil"} {
			p, err := w.st.Plan(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]string{testPlan: "test", "plan_evil": "manual"}[id]; p.Mode != want {
				t.Errorf("%s mode %s, want %s", id, p.Mode, want)
			}
		}
	})
}
