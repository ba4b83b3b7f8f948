package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store/storetest"
)

// TestSearchPlanMembers: the email prefix search of the admin page matches
// prefixes only, takes LIKE's wildcards literally, keeps to the tier, and
// pages with the same cursor as the unfiltered list.
func TestSearchPlanMembers(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, dialect string) {
		s := storetest.Open(t, dialect)
		ctx := t.Context()
		if err := s.PutOrganization(ctx, membership.Organization{ID: "o"}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.PutPlan(ctx, membership.PlanSpec{ID: "p", OrganizationID: "o", Admins: []string{"a@x.test"}}); err != nil {
			t.Fatal(err)
		}
		paid := []string{"ann@x.test", "anna@x.test", "an_x@x.test", "an%y@x.test", `an\z@x.test`, "bob@x.test", "zoë@x.test"}
		free := []string{"andy@x.test", "annie@x.test"}
		for _, e := range paid {
			if err := s.SaveMember(ctx, "o", nil, membership.Member{Email: e, PlanID: "p", Source: membership.SourceManual}); err != nil {
				t.Fatal(err)
			}
		}
		for _, e := range free {
			if err := s.SaveMember(ctx, "o", nil, membership.Member{Email: e}); err != nil {
				t.Fatal(err)
			}
		}
		search := func(tier, prefix string) []string {
			t.Helper()
			var out []string
			after := ""
			for {
				page, err := s.SearchPlanMembers(ctx, "p", "o", tier, prefix, after, 2)
				if err != nil {
					t.Fatalf("SearchPlanMembers(%q, %q): %v", tier, prefix, err)
				}
				for _, m := range page.Members {
					out = append(out, m.Email)
				}
				if page.After == "" {
					slices.Sort(out)
					return out
				}
				after = page.After
			}
		}
		for _, c := range []struct {
			tier, prefix string
			want         []string
		}{
			{"", "ann", []string{"ann@x.test", "anna@x.test", "annie@x.test"}},
			{"paid", "ann", []string{"ann@x.test", "anna@x.test"}},
			{"free", "an", []string{"andy@x.test", "annie@x.test"}},
			{"paid", "an_", []string{"an_x@x.test"}},
			{"paid", "an%", []string{"an%y@x.test"}},
			{"paid", `an\`, []string{`an\z@x.test`}},
			{"paid", "zo", []string{"zoë@x.test"}},
			{"paid", "zoë@x.test", []string{"zoë@x.test"}},
			{"paid", "nn", nil},
			{"paid", "ANN", nil}, // callers normalize; the store compares as given
			{"paid", "", []string{`an\z@x.test`, "an%y@x.test", "an_x@x.test", "ann@x.test", "anna@x.test", "bob@x.test", "zoë@x.test"}},
		} {
			want := slices.Clone(c.want)
			slices.Sort(want)
			if got := search(c.tier, c.prefix); !slices.Equal(got, want) {
				t.Errorf("search %q %q = %v, want %v", c.tier, c.prefix, got, want)
			}
		}

		changes, err := s.SeatChanges(ctx, "p", 10)
		if err != nil || len(changes) != 0 {
			t.Fatalf("SeatChanges of a plan without audit entries = %v, %v", changes, err)
		}
		now := time.Now().UTC()
		if err := s.AddAudit(ctx, membership.AuditEntry{PlanID: "p", At: now, Actor: "system", Action: membership.ActionCutover},
			membership.AuditEntry{PlanID: "p", At: now, Actor: "system", Action: membership.ActionGranted, MemberEmail: "ann@x.test"},
			membership.AuditEntry{PlanID: "p", At: now, Actor: "system", Action: membership.ActionMoved, FromPlanID: "p"}); err != nil {
			t.Fatal(err)
		}
		if changes, err = s.SeatChanges(ctx, "p", 10); err != nil || len(changes) != 2 || changes[0].Action != membership.ActionMoved ||
			changes[0].FromPlanID != "p" || changes[1].Action != membership.ActionGranted {
			t.Errorf("SeatChanges = %+v, %v; want the move, then the grant", changes, err)
		}
		plans, err := s.AdminPlans(ctx, "a@x.test", 10)
		if err != nil || len(plans) != 1 || plans[0].ID != "p" {
			t.Errorf("AdminPlans = %v, %v", plans, err)
		}
		if plans, err := s.AdminPlans(ctx, "nobody@x.test", 10); err != nil || len(plans) != 0 {
			t.Errorf("AdminPlans of a stranger = %v, %v", plans, err)
		}
	})
}
