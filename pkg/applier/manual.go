package applier

import (
	"context"

	"github.com/seatsync/seatsync/pkg/membership"
	"github.com/seatsync/seatsync/store"
)

func idpManaged() error {
	return membership.Errorf(membership.Conflict, "idp_managed",
		"this plan's seats are managed by its identity provider: assign or unassign the user to the application in the identity provider instead")
}

// AddManualSeat gives email a manual seat on a plan in manual mode (SPEC §8).
func (a *Applier) AddManualSeat(ctx context.Context, planID, email, name, actor string) (membership.Member, error) {
	var out membership.Member
	err := a.st.Tx(ctx, func(tx *store.Store) error {
		plan, err := a.lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		if plan.Mode != string(membership.ModeManual) {
			return idpManaged()
		}
		ms, err := tx.Members(ctx, plan.OrganizationID, []string{email})
		if err != nil {
			return err
		}
		m, exists := ms[email]
		if exists && m.PlanID == planID {
			out = m
			return nil // already holds it: adding twice is harmless
		}
		if exists && m.PlanID != "" {
			return membership.Errorf(membership.Conflict, "seat_elsewhere", "%s already holds a paid seat on plan %s of this organization", email, m.PlanID)
		}
		var prev *membership.Member
		if exists {
			prev = &membership.Member{}
			*prev = m
		} else {
			m = membership.Member{Email: email}
		}
		if name != "" {
			m.Name = name
		}
		m.PlanID, m.Source, m.ManualPlanID = planID, membership.SourceManual, planID
		out = m
		if err := tx.SaveMember(ctx, plan.OrganizationID, prev, m); err != nil {
			return err
		}
		return tx.AddAudit(ctx, membership.AuditEntry{PlanID: planID, At: a.opts.Now().UTC(), Actor: actor,
			Action: membership.ActionManualAdded, MemberEmail: email, Reason: "added by an admin"})
	})
	return out, err
}

// RemoveManualSeat moves email to free on a plan in manual mode.
func (a *Applier) RemoveManualSeat(ctx context.Context, planID, email, actor string) error {
	return a.st.Tx(ctx, func(tx *store.Store) error {
		plan, err := a.lockPlan(ctx, tx, planID)
		if err != nil {
			return err
		}
		if plan.Mode != string(membership.ModeManual) {
			return idpManaged()
		}
		ms, err := tx.Members(ctx, plan.OrganizationID, []string{email})
		if err != nil {
			return err
		}
		m, ok := ms[email]
		if !ok || m.PlanID != planID {
			return membership.Errorf(membership.NotFound, "member_not_found", "no paid seat for this email on the plan")
		}
		prev := m
		m.PlanID, m.Source, m.ManualPlanID = "", membership.SourceNone, ""
		if err := tx.SaveMember(ctx, plan.OrganizationID, &prev, m); err != nil {
			return err
		}
		return tx.AddAudit(ctx, membership.AuditEntry{PlanID: planID, At: a.opts.Now().UTC(), Actor: actor,
			Action: membership.ActionManualRemoved, MemberEmail: email, FromPlanID: planID, Reason: "removed by an admin"})
	})
}

// AddFreeMember records a person of the organization without a seat.
func (a *Applier) AddFreeMember(ctx context.Context, orgID, email, name string) error {
	return a.st.Tx(ctx, func(tx *store.Store) error {
		if err := tx.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		ms, err := tx.Members(ctx, orgID, []string{email})
		if err != nil || len(ms) > 0 {
			return err
		}
		return tx.SaveMember(ctx, orgID, nil, membership.Member{Email: email, Name: name})
	})
}

func (a *Applier) lockPlan(ctx context.Context, tx *store.Store, planID string) (store.PlanRow, error) {
	plan, err := tx.Plan(ctx, planID)
	if err != nil {
		return plan, err
	}
	if err := tx.LockOrganization(ctx, plan.OrganizationID); err != nil {
		return plan, err
	}
	return tx.Plan(ctx, planID) // re-read under the lock
}
