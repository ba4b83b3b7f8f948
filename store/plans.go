package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/seatsync/seatsync/pkg/membership"
)

// OrganizationRow is an organization as stored.
type OrganizationRow struct {
	ID        string `gorm:"primaryKey"`
	Name      string
	Domains   string // JSON array
	CreatedAt time.Time
	UpdatedAt time.Time
}

// TableName implements gorm's Tabler.
func (OrganizationRow) TableName() string { return "organizations" }

// PlanRow is a plan as stored.
type PlanRow struct {
	ID                   string `gorm:"primaryKey"`
	OrganizationID       string
	Name                 string
	WorkOSOrganizationID *string `gorm:"column:workos_organization_id"`
	TestModeLimit        *int
	ScopingGroups        string // JSON array
	Mode                 string
	CutoverAt            *time.Time
	DowngradeDueAt       *time.Time
	DowngradedAt         *time.Time
	CreatedAt            time.Time
	UpdatedAt            time.Time
}

// TableName implements gorm's Tabler.
func (PlanRow) TableName() string { return "plans" }

// Rules are the configured seat settings the stored plans are read with.
type Rules struct {
	TestModeLimit      int
	CutoverGrace       time.Duration
	OnDirectoryDeleted string // keep or free
}

// Domain converts r into what the seat rules read.
func (r PlanRow) Domain(rules Rules) membership.Plan {
	limit := rules.TestModeLimit
	if r.TestModeLimit != nil {
		limit = *r.TestModeLimit
	}
	return membership.Plan{
		ID: r.ID, OrganizationID: r.OrganizationID, Mode: membership.Mode(r.Mode), Limit: limit,
		Grace: rules.CutoverGrace, CutoverAt: r.CutoverAt, DowngradeDueAt: r.DowngradeDueAt, DowngradedAt: r.DowngradedAt,
	}
}

func jsonList(s string) []string {
	var out []string
	_ = json.Unmarshal([]byte(s), &out) // written only by this package
	return out
}

func toJSON(v []string) string {
	if v == nil {
		v = []string{}
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// PutOrganization creates or updates an organization.
func (s *Store) PutOrganization(ctx context.Context, o membership.Organization) error {
	now := time.Now().UTC()
	row := OrganizationRow{ID: o.ID, Name: o.Name, Domains: toJSON(o.Domains), CreatedAt: now, UpdatedAt: now}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"name", "domains", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("put organization %s: %w", o.ID, translate(err))
	}
	return nil
}

// Organization returns an organization.
func (s *Store) Organization(ctx context.Context, id string) (membership.Organization, error) {
	var r OrganizationRow
	if err := s.q(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return membership.Organization{}, fmt.Errorf("get organization %s: %w", id, translate(err))
	}
	return membership.Organization{ID: r.ID, Name: r.Name, Domains: jsonList(r.Domains)}, nil
}

// LockOrganization takes the row lock that serializes every seat change of one
// organization (members are unique per organization, so two plans of one
// organization must not decide seats concurrently).
func (s *Store) LockOrganization(ctx context.Context, id string) error {
	var ids []string
	if err := s.q(ctx).Raw("SELECT id FROM organizations WHERE id = ?"+s.forUpdate(), id).Find(&ids).Error; err != nil {
		return fmt.Errorf("lock organization %s: %w", id, translate(err))
	}
	if len(ids) == 0 {
		return fmt.Errorf("lock organization %s: %w", id, membership.Errorf(membership.NotFound, "not_found", "organization not found"))
	}
	return nil
}

// PutPlan creates or updates a plan and its admins. The mode and cutover state
// belong to the rules and are never written here.
func (s *Store) PutPlan(ctx context.Context, p membership.PlanSpec) (created bool, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		now := time.Now().UTC()
		var existing []PlanRow
		if err := tx.q(ctx).Raw("SELECT * FROM plans WHERE id = ?"+tx.forUpdate(), p.ID).Find(&existing).Error; err != nil {
			return err
		}
		var wos *string
		if p.WorkOSOrganizationID != "" {
			wos = &p.WorkOSOrganizationID
		}
		fields := map[string]any{
			"organization_id": p.OrganizationID, "name": p.Name, "test_mode_limit": p.TestModeLimit,
			"scoping_groups": toJSON(p.ScopingGroups), "updated_at": now,
		}
		if len(existing) == 0 {
			created = true
			row := PlanRow{ID: p.ID, OrganizationID: p.OrganizationID, Name: p.Name, WorkOSOrganizationID: wos,
				TestModeLimit: p.TestModeLimit, ScopingGroups: toJSON(p.ScopingGroups), Mode: string(membership.ModeManual),
				CreatedAt: now, UpdatedAt: now}
			if err := tx.q(ctx).Create(&row).Error; err != nil {
				return err
			}
		} else {
			if existing[0].OrganizationID != p.OrganizationID {
				return membership.Errorf(membership.Conflict, "organization_mismatch", "plan %s belongs to another organization", p.ID)
			}
			if wos != nil {
				fields["workos_organization_id"] = *wos
			}
			if err := tx.q(ctx).Model(&PlanRow{}).Where("id = ?", p.ID).Updates(fields).Error; err != nil {
				return err
			}
		}
		if err := tx.q(ctx).Exec("DELETE FROM plan_admins WHERE plan_id = ?", p.ID).Error; err != nil {
			return err
		}
		for _, a := range p.Admins {
			if err := tx.q(ctx).Exec("INSERT INTO plan_admins (plan_id, email) VALUES (?, ?) ON CONFLICT DO NOTHING", p.ID, a).Error; err != nil {
				return err
			}
		}
		if wos != nil {
			return tx.WakeWaiting(ctx, now)
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("put plan %s: %w", p.ID, translate(err))
	}
	return created, nil
}

// Plan returns a plan row.
func (s *Store) Plan(ctx context.Context, id string) (PlanRow, error) {
	var r PlanRow
	if err := s.q(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return r, fmt.Errorf("get plan %s: %w", id, translate(err))
	}
	return r, nil
}

// PlanSpec returns what the billing system said about a plan, with its admins.
func (s *Store) PlanSpec(ctx context.Context, id string) (membership.PlanSpec, error) {
	r, err := s.Plan(ctx, id)
	if err != nil {
		return membership.PlanSpec{}, err
	}
	admins, err := s.PlanAdmins(ctx, id)
	if err != nil {
		return membership.PlanSpec{}, err
	}
	spec := membership.PlanSpec{ID: r.ID, OrganizationID: r.OrganizationID, Name: r.Name, Admins: admins,
		TestModeLimit: r.TestModeLimit, ScopingGroups: jsonList(r.ScopingGroups)}
	if r.WorkOSOrganizationID != nil {
		spec.WorkOSOrganizationID = *r.WorkOSOrganizationID
	}
	return spec, nil
}

// PlanAdmins returns the admin emails of a plan.
func (s *Store) PlanAdmins(ctx context.Context, id string) ([]string, error) {
	var out []string
	if err := s.q(ctx).Raw("SELECT email FROM plan_admins WHERE plan_id = ? ORDER BY email", id).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("get plan admins %s: %w", id, translate(err))
	}
	return out, nil
}

// IsPlanAdmin reports whether email administers the plan.
func (s *Store) IsPlanAdmin(ctx context.Context, planID, email string) (bool, error) {
	var n int64
	if err := s.q(ctx).Table("plan_admins").Where("plan_id = ? AND email = ?", planID, email).Count(&n).Error; err != nil {
		return false, fmt.Errorf("check plan admin: %w", translate(err))
	}
	return n > 0, nil
}

// Plans lists plans, ordered by id.
func (s *Store) Plans(ctx context.Context) ([]PlanRow, error) {
	var out []PlanRow
	if err := s.q(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("list plans: %w", translate(err))
	}
	return out, nil
}

// PlanByWorkOSOrganization returns the plan linked to a WorkOS organization, or nil.
func (s *Store) PlanByWorkOSOrganization(ctx context.Context, workosOrgID string) (*PlanRow, error) {
	var rows []PlanRow
	if err := s.q(ctx).Where("workos_organization_id = ?", workosOrgID).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("find plan by workos organization: %w", translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// SetWorkOSOrganization links a plan to a WorkOS organization unless the plan
// is linked already, and returns the id stored afterwards: orgID, or the one a
// concurrent caller (another replica, or the billing system) stored first, so
// racing callers converge on one id. A new link wakes the events waiting for a
// plan. A WorkOS organization linked to another plan is a Conflict.
func (s *Store) SetWorkOSOrganization(ctx context.Context, planID, orgID string) (stored string, err error) {
	err = s.Tx(ctx, func(tx *Store) error {
		now := time.Now().UTC()
		res := tx.q(ctx).Exec("UPDATE plans SET workos_organization_id = ?, updated_at = ? WHERE id = ? AND workos_organization_id IS NULL",
			orgID, now, planID)
		if errors.Is(res.Error, gorm.ErrDuplicatedKey) {
			return membership.Errorf(membership.Conflict, "workos_organization_in_use",
				"WorkOS organization %s is already linked to another plan", orgID)
		}
		if res.Error != nil {
			return res.Error
		}
		var ids []*string
		if err := tx.q(ctx).Raw("SELECT workos_organization_id FROM plans WHERE id = ?", planID).Find(&ids).Error; err != nil {
			return err
		}
		if len(ids) == 0 {
			return membership.Errorf(membership.NotFound, "plan_not_found", "plan not found")
		}
		if ids[0] == nil { // only if the plan was unlinked between the two statements
			return fmt.Errorf("plan %s has no WorkOS organization after linking", planID)
		}
		stored = *ids[0]
		if res.RowsAffected > 0 {
			return tx.WakeWaiting(ctx, now)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("set workos organization of plan %s: %w", planID, translate(err))
	}
	return stored, nil
}

// OrganizationPlans returns the plans of an organization.
func (s *Store) OrganizationPlans(ctx context.Context, orgID string) ([]PlanRow, error) {
	var rows []PlanRow
	if err := s.q(ctx).Where("organization_id = ?", orgID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list organization plans: %w", translate(err))
	}
	return rows, nil
}

// SavePlanState writes the rules' view of a plan back.
func (s *Store) SavePlanState(ctx context.Context, p membership.Plan) error {
	err := s.q(ctx).Model(&PlanRow{}).Where("id = ?", p.ID).Updates(map[string]any{
		"mode": string(p.Mode), "cutover_at": p.CutoverAt, "downgrade_due_at": p.DowngradeDueAt,
		"downgraded_at": p.DowngradedAt, "updated_at": time.Now().UTC(),
	}).Error
	if err != nil {
		return fmt.Errorf("save plan %s: %w", p.ID, translate(err))
	}
	return nil
}

// DueDowngrades returns the plans whose cutover downgrade is due at now.
func (s *Store) DueDowngrades(ctx context.Context, now time.Time) ([]string, error) {
	var ids []string
	if err := s.q(ctx).Raw("SELECT id FROM plans WHERE downgrade_due_at <= ? ORDER BY downgrade_due_at", now.UTC()).Find(&ids).Error; err != nil {
		return nil, fmt.Errorf("list due downgrades: %w", translate(err))
	}
	return ids, nil
}

// ScopingGroupList returns the directory groups that scope the plan's set A.
func (r PlanRow) ScopingGroupList() []string { return jsonList(r.ScopingGroups) }
