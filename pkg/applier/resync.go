package applier

import (
	"context"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

// resync re-decides every user of the plan's live directories after something
// that changes A for many of them at once (reactivation, new domains, plan
// scoping or limit), then checks the cutover against the current limit.
func (a *Applier) resync(ctx context.Context, tx *store.Store, planID, eventID string, now time.Time) error {
	dirs, err := tx.PlanDirectories(ctx, planID)
	if err != nil {
		return err
	}
	for _, d := range dirs {
		if d.State == string(membership.DirectoryDeleted) {
			continue
		}
		after := ""
		for {
			users, err := tx.DirectoryUsers(ctx, d.ID, after, 500)
			if err != nil || len(users) == 0 {
				if err != nil {
					return err
				}
				break
			}
			for _, u := range users {
				if _, err := a.applyUser(ctx, tx, u, eventID, now, true); err != nil {
					return err
				}
			}
			after = users[len(users)-1].ID
		}
	}
	plan, err := tx.Plan(ctx, planID)
	if err != nil {
		return err
	}
	links, err := tx.OrganizationLinks(ctx, plan.OrganizationID)
	if err != nil {
		return err
	}
	if err := a.reevaluateSeats(ctx, tx, plan, links, eventID, now); err != nil {
		return err
	}
	p := plan.Domain(a.opts.Rules)
	p.Frozen = links[planID].Frozen()
	p, cut := membership.CheckCutover(p, links[planID].Added, now)
	if !cut {
		return nil
	}
	if err := tx.SavePlanState(ctx, p); err != nil {
		return err
	}
	if err := tx.AddAudit(ctx, membership.AuditEntry{PlanID: planID, At: now, Actor: "system", Action: membership.ActionCutover,
		EventID: eventID, Reason: "more users added by the directory than the test-mode limit"}); err != nil {
		return err
	}
	if p.DowngradedAt != nil {
		_, _, err = a.downgrade(ctx, tx, planID, eventID, now)
	}
	return err
}

// reevaluateSeats re-decides every paid seat of the plan: a seat may rest on
// an email no directory user carries any more (renamed while the directory was
// inactive), which the walk over directory users cannot reach.
func (a *Applier) reevaluateSeats(ctx context.Context, tx *store.Store, plan store.PlanRow, links map[string]store.PlanLinks, eventID string, now time.Time) error {
	views, err := a.planViews(ctx, tx, plan.OrganizationID, links)
	if err != nil {
		return err
	}
	after := ""
	for {
		page, err := tx.PlanMembers(ctx, plan.ID, plan.OrganizationID, "paid", after, 500)
		if err != nil || len(page.Members) == 0 {
			return err
		}
		emails := make([]string, len(page.Members))
		for i, r := range page.Members {
			emails[i] = r.Email
		}
		claims, err := tx.Claims(ctx, plan.OrganizationID, emails, "")
		if err != nil {
			return err
		}
		for _, r := range page.Members {
			m := r.Domain()
			seat := membership.SeatFor(m, claims[m.Email], views)
			if !seat.Differs(m) {
				continue
			}
			after := m
			after.PlanID, after.Source, after.DirectoryUserID = seat.PlanID, seat.Source, seat.DirectoryUserID
			r := membership.UserResult{Changes: []membership.MemberChange{{Before: m, After: after}}}
			if act := membership.SeatAction(m, seat); act != "" {
				r.Audit = []membership.AuditEntry{{PlanID: plan.ID, At: now, Actor: "system", Action: act,
					MemberEmail: m.Email, FromPlanID: m.PlanID, EventID: eventID, Reason: "re-decided after the directory or the plan's settings changed"}}
			}
			r, _, err := a.guardChanges(ctx, tx, plan.ID, r, 0, now)
			if err != nil {
				return err
			}
			for _, c := range r.Changes {
				if err := tx.SaveMember(ctx, plan.OrganizationID, &c.Before, c.After); err != nil {
					return err
				}
			}
			if err := tx.AddAudit(ctx, r.Audit...); err != nil {
				return err
			}
		}
		if page.After == "" {
			return nil
		}
		after = page.After
	}
}

// Resync re-decides a plan's seats in one transaction; the admin API calls it
// after a plan's limit or scoping groups changed.
func (a *Applier) Resync(ctx context.Context, planID string) error {
	return a.st.Tx(ctx, func(tx *store.Store) error {
		plan, err := tx.Plan(ctx, planID)
		if err != nil {
			return err
		}
		if err := tx.LockOrganization(ctx, plan.OrganizationID); err != nil {
			return err
		}
		return a.resync(ctx, tx, planID, "", a.opts.Now().UTC())
	})
}
