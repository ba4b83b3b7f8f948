package applier_test

import (
	"errors"
	"testing"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestTestModeAndCutover walks a plan with L = 3 and no grace through test
// mode, the cutover and directory mode (SPEC §3).
func TestTestModeAndCutover(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, store.Rules{TestModeLimit: 3, OnDirectoryDeleted: "keep"})
		ctx := t.Context()
		if err := w.st.PutOrganization(ctx, membership.Organization{ID: testOrg, Name: "Acme", Domains: []string{"acme.test"}}); err != nil {
			t.Fatal(err)
		}
		// Carol's seat was given by an admin before any directory event.
		if _, err := w.app.AddManualSeat(ctx, testPlan, "carol@acme.test", "Carol", "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}

		// Three users: test mode, each in A holds a paid seat.
		w.step(t, userEvent("created", "u_alice", "alice@acme.test", "active", 1),
			userEvent("created", "u_bob", "bob@acme.test", "active", 1),
			userEvent("created", "u_carol", "carol@acme.test", "active", 1))
		if p := w.plan(t); p.Mode != "test" {
			t.Fatalf("plan mode %s after 3 users, want test", p.Mode)
		}
		for _, e := range []string{"alice@acme.test", "bob@acme.test", "carol@acme.test"} {
			if got := w.seat(t, e); got != testPlan+"/directory" {
				t.Errorf("%s = %s, want a directory seat", e, got)
			}
		}
		// The directory owns the seats now.
		if _, err := w.app.AddManualSeat(ctx, testPlan, "zed@acme.test", "", "admin:admin@acme.test"); !isCode(err, "idp_managed") {
			t.Errorf("AddManualSeat in test mode = %v, want idp_managed", err)
		}
		if err := w.app.RemoveManualSeat(ctx, testPlan, "alice@acme.test", "admin:admin@acme.test"); !isCode(err, "idp_managed") {
			t.Errorf("RemoveManualSeat in test mode = %v, want idp_managed", err)
		}

		// Carol leaves A: in test mode her manual seat survives.
		w.step(t, userEvent("updated", "u_carol", "carol@acme.test", "inactive", 2))
		if got := w.seat(t, "carol@acme.test"); got != testPlan+"/manual" {
			t.Errorf("carol = %s after leaving A in test mode, want her manual seat", got)
		}
		// A user outside the organization's domains gets no seat, and is not added to E.
		outsider := userEvent("created", "u_mallory", "mallory@elsewhere.test", "active", 2)
		w.step(t, outsider)
		w.wantOutcome(t, outsider.EventID, membership.OutcomeApplied, "")
		if got := w.seat(t, "mallory@elsewhere.test"); got != "none" {
			t.Errorf("mallory = %s, want no seat (domain)", got)
		}
		if u := w.dirUser(t, "u_mallory"); u == nil || u.InA || u.Added {
			t.Errorf("mallory stored as %+v, want recorded, outside A and E", u)
		}
		if p := w.plan(t); p.Mode != "test" {
			t.Fatalf("plan mode %s, want test (|E| = 3)", p.Mode)
		}

		// The 4th distinct user: cutover, and with no grace the downgrade at once.
		w.now = t0.Add(7 * 60e9)
		fourth := userEvent("created", "u_dave", "dave@acme.test", "active", 3)
		w.step(t, fourth)
		p := w.plan(t)
		if p.Mode != "directory" || p.CutoverAt == nil || !p.CutoverAt.Equal(w.now) || p.DowngradedAt == nil || p.DowngradeDueAt != nil {
			t.Fatalf("plan after the 4th user: mode %s cutover %v downgraded %v due %v", p.Mode, p.CutoverAt, p.DowngradedAt, p.DowngradeDueAt)
		}
		if got := w.seat(t, "carol@acme.test"); got != "free" {
			t.Errorf("carol = %s after cutover, want free", got)
		}
		cut := w.auditFor(t, testPlan, membership.ActionCutover, "")
		if len(cut) != 1 || cut[0].EventID != fourth.EventID {
			t.Errorf("cutover audit = %+v, want one by the 4th user's event", cut)
		}
		moved := w.auditFor(t, testPlan, membership.ActionMovedToFree, "carol@acme.test")
		if len(moved) != 1 || moved[0].Reason != "not assigned in the directory after cutover" || moved[0].EventID != fourth.EventID {
			t.Errorf("carol moved_to_free audit = %+v", moved)
		}
		if d := w.directory(t, testDir); d.UsersAdded != 4 {
			t.Errorf("users added = %d, want 4", d.UsersAdded)
		}

		// Email change moves the seat to the new address.
		w.step(t, userEvent("updated", "u_alice", "alice.smith@acme.test", "active", 4))
		if got := w.seat(t, "alice@acme.test"); got != "free" {
			t.Errorf("old address = %s, want free", got)
		}
		if got := w.seat(t, "alice.smith@acme.test"); got != testPlan+"/directory" {
			t.Errorf("new address = %s, want the seat", got)
		}
		if d := w.directory(t, testDir); d.UsersAdded != 4 {
			t.Errorf("users added = %d after an email change, want 4 (same user)", d.UsersAdded)
		}

		// Dropping back to ≤ L active users does not undo directory mode.
		w.step(t, userEvent("updated", "u_bob", "bob@acme.test", "inactive", 5),
			userEvent("deleted", "u_dave", "dave@acme.test", "active", 5))
		if p := w.plan(t); p.Mode != "directory" {
			t.Errorf("plan mode %s after users left, want directory", p.Mode)
		}
		for e, want := range map[string]string{"bob@acme.test": "free", "dave@acme.test": "free", "alice.smith@acme.test": testPlan + "/directory"} {
			if got := w.seat(t, e); got != want {
				t.Errorf("%s = %s, want %s", e, got, want)
			}
		}
		// Carol coming back is a directory seat again, and nothing more.
		w.step(t, userEvent("updated", "u_carol", "carol@acme.test", "active", 6))
		if got := w.seat(t, "carol@acme.test"); got != testPlan+"/directory" {
			t.Errorf("carol = %s after reactivation, want a directory seat", got)
		}
		if n := len(w.auditFor(t, testPlan, membership.ActionCutover, "")); n != 1 {
			t.Errorf("cutover entries = %d, want 1", n)
		}
	})
}

// TestOneSeatPerOrganization: a directory of a second plan of the organization
// that lists a person holding a manual seat on the first plan moves the seat.
func TestOneSeatPerOrganization(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		w := newWorld(t, dialect, rules)
		ctx := t.Context()
		const plan2, wos2, dir2 = "plan_acme_pro", "org_ACME_PRO", "directory_ACME_PRO"
		w.addPlan(t, testOrg, plan2, wos2)
		if _, err := w.app.AddManualSeat(ctx, testPlan, "dave@acme.test", "Dave", "admin:admin@acme.test"); err != nil {
			t.Fatal(err)
		}
		ev := userEventFor(dir2, wos2, "created", "u_dave", "dave@acme.test", "active", 1)
		w.step(t, ev)
		m, _ := w.member(t, "dave@acme.test")
		if m.PlanID != plan2 || m.Source != membership.SourceDirectory {
			t.Fatalf("dave = %s/%s, want a directory seat on %s", m.PlanID, m.Source, plan2)
		}
		mv := w.auditFor(t, plan2, membership.ActionMoved, "dave@acme.test")
		if len(mv) != 1 || mv[0].FromPlanID != testPlan || mv[0].EventID != ev.EventID {
			t.Errorf("moved audit = %+v, want one from %s", mv, testPlan)
		}
		if seats := w.seats(t); seats["dave@acme.test"] != "" {
			// seats lists the first plan's members: dave is no longer paid there.
			t.Errorf("dave on the first plan = %q", seats["dave@acme.test"])
		}
		var paid int
		for _, pid := range []string{testPlan, plan2} {
			page, err := w.st.PlanMembers(ctx, pid, testOrg, "paid", "", 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range page.Members {
				if r.Email == "dave@acme.test" {
					paid++
				}
			}
		}
		if paid != 1 {
			t.Errorf("dave holds %d paid seats, want 1", paid)
		}
		// Leaving the second plan's directory gives back the manual seat the
		// admin gave on the first (still in manual mode).
		w.step(t, userEventFor(dir2, wos2, "updated", "u_dave", "dave@acme.test", "inactive", 2))
		if got := w.seat(t, "dave@acme.test"); got != testPlan+"/manual" {
			t.Errorf("dave = %s after leaving the second directory, want his manual seat back", got)
		}
	})
}

func isCode(err error, code string) bool {
	var me *membership.Error
	return errors.As(err, &me) && me.Code == code
}
