package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// MemberRow is a member as stored.
type MemberRow struct {
	ID              int64 `gorm:"primaryKey"`
	OrganizationID  string
	Email           string
	Name            string
	PlanID          *string
	Source          string
	ManualPlanID    *string
	DirectoryUserID *string
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName implements gorm's Tabler.
func (MemberRow) TableName() string { return "members" }

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func ptr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Domain converts r to a membership.Member.
func (r MemberRow) Domain() membership.Member {
	return membership.Member{Email: r.Email, Name: r.Name, PlanID: str(r.PlanID), Source: membership.SeatSource(r.Source),
		ManualPlanID: str(r.ManualPlanID), DirectoryUserID: str(r.DirectoryUserID)}
}

// Members returns the organization's members with the given emails, by email.
func (s *Store) Members(ctx context.Context, orgID string, emails []string) (map[string]membership.Member, error) {
	out := make(map[string]membership.Member, len(emails))
	cte, args := s.rowsCTE("email", emails)
	org, args := s.bind(args, orgID)
	err := s.queryRows(ctx, cte+" SELECT m.email, m.name, m.plan_id, m.source, m.manual_plan_id, m.directory_user_id "+
		"FROM members m WHERE m.organization_id = "+org+" AND m.email IN (SELECT email FROM v)", args,
		func(rows *sql.Rows) error {
			var r MemberRow
			if err := rows.Scan(&r.Email, &r.Name, &r.PlanID, &r.Source, &r.ManualPlanID, &r.DirectoryUserID); err != nil {
				return err
			}
			out[r.Email] = r.Domain()
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("load members: %w", err)
	}
	return out, nil
}

// SaveMember stores the member's new state; before is what the caller read
// (nil when no row existed), so the seat counters move with the seat.
func (s *Store) SaveMember(ctx context.Context, orgID string, before *membership.Member, m membership.Member) error {
	now := time.Now().UTC()
	if before != nil {
		err := s.q(ctx).Model(&MemberRow{}).Where("organization_id = ? AND email = ?", orgID, m.Email).Updates(map[string]any{
			"name": m.Name, "plan_id": ptr(m.PlanID), "source": string(m.Source), "manual_plan_id": ptr(m.ManualPlanID),
			"directory_user_id": ptr(m.DirectoryUserID), "updated_at": now,
		}).Error
		if err != nil {
			return fmt.Errorf("save member: %w", translate(err))
		}
	} else {
		row := MemberRow{OrganizationID: orgID, Email: m.Email, Name: m.Name, PlanID: ptr(m.PlanID), Source: string(m.Source),
			ManualPlanID: ptr(m.ManualPlanID), DirectoryUserID: ptr(m.DirectoryUserID), CreatedAt: now, UpdatedAt: now}
		if err := s.q(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("create member: %w", translate(err))
		}
	}
	old := ""
	if before != nil {
		old = before.PlanID
	}
	if before != nil && old == m.PlanID {
		return nil
	}
	return s.moveSeats(ctx, orgID, old, m.PlanID, before == nil, 1)
}

// moveSeats moves n seats from plan `from` to plan `to` in the counters ("" =
// free); fresh means the members are new rather than moved.
func (s *Store) moveSeats(ctx context.Context, orgID, from, to string, fresh bool, n int64) error {
	if n == 0 {
		return nil
	}
	var err error
	switch {
	case from == "" && !fresh:
		err = s.q(ctx).Exec("UPDATE organizations SET free_count = free_count - ? WHERE id = ?", n, orgID).Error
	case from != "":
		err = s.q(ctx).Exec("UPDATE plans SET paid_count = paid_count - ? WHERE id = ?", n, from).Error
	}
	if err == nil && to == "" {
		err = s.q(ctx).Exec("UPDATE organizations SET free_count = free_count + ? WHERE id = ?", n, orgID).Error
	} else if err == nil {
		err = s.q(ctx).Exec("UPDATE plans SET paid_count = paid_count + ? WHERE id = ?", n, to).Error
	}
	if err != nil {
		return fmt.Errorf("count seats: %w", translate(err))
	}
	return nil
}

// MemberPage is one page of a plan's members.
type MemberPage struct {
	Members []MemberRow
	After   string // cursor for the next page; "" at the end
}

// PlanMembers lists a plan's members by email: its paid seats (tier "paid"), the
// organization's free members (tier "free"), or both (tier ""), after the cursor
// email. The indexes members_plan and members_free serve each tier.
func (s *Store) PlanMembers(ctx context.Context, planID, orgID, tier, after string, limit int) (MemberPage, error) {
	return s.SearchPlanMembers(ctx, planID, orgID, tier, "", after, limit)
}

// SearchPlanMembers is PlanMembers limited to the emails that start with
// prefix (compared as given: emails are stored normalized, so pass a
// normalized prefix; "" matches every email). The prefix becomes a range on
// email, which the same indexes serve, plus a LIKE that keeps the range
// exact under any collation; LIKE metacharacters in prefix match literally.
func (s *Store) SearchPlanMembers(ctx context.Context, planID, orgID, tier, prefix, after string, limit int) (MemberPage, error) {
	q := s.q(ctx).Model(&MemberRow{}).Where("email > ?", after).Order("email").Limit(limit + 1)
	if prefix != "" {
		// U+10FFFF sorts after every character in binary and C collations,
		// and after anything an email holds in linguistic ones.
		q = q.Where(`email >= ? AND email < ? AND email LIKE ? ESCAPE '\'`, prefix, prefix+"\U0010FFFF", likePrefix(prefix))
	}
	switch tier {
	case "paid":
		q = q.Where("plan_id = ?", planID)
	case "free":
		q = q.Where("organization_id = ? AND plan_id IS NULL", orgID)
	default:
		q = q.Where("organization_id = ? AND (plan_id = ? OR plan_id IS NULL)", orgID, planID)
	}
	var rows []MemberRow
	if err := q.Find(&rows).Error; err != nil {
		return MemberPage{}, fmt.Errorf("list members: %w", translate(err))
	}
	var page MemberPage
	if len(rows) > limit {
		rows = rows[:limit]
		page.After = rows[limit-1].Email
	}
	page.Members = rows
	return page, nil
}

// likePrefix is the LIKE pattern of the strings starting with prefix, with
// the escape character \ and the wildcards % and _ escaped.
func likePrefix(prefix string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix) + "%"
}

// SeatCounts returns the paid seats of a plan and the free members of its
// organization, from the counters (no scan of the members table).
func (s *Store) SeatCounts(ctx context.Context, planID, orgID string) (paid, free int64, err error) {
	if err = s.q(ctx).Raw("SELECT paid_count FROM plans WHERE id = ?", planID).Find(&paid).Error; err != nil {
		return 0, 0, fmt.Errorf("count paid seats: %w", translate(err))
	}
	if err = s.q(ctx).Raw("SELECT free_count FROM organizations WHERE id = ?", orgID).Find(&free).Error; err != nil {
		return 0, 0, fmt.Errorf("count free members: %w", translate(err))
	}
	return paid, free, nil
}
