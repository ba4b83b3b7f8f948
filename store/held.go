package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// HeldChange is a change the mass-revocation guard stopped.
type HeldChange struct {
	ID        int64 `gorm:"primaryKey"`
	PlanID    string
	Kind      string
	State     string // held, approved, rejected
	Size      int
	Preview   string // JSON array of emails
	Details   string // JSON object
	CreatedAt time.Time
	DecidedAt *time.Time
	DecidedBy string
}

// TableName implements gorm's Tabler.
func (HeldChange) TableName() string { return "held_changes" }

// PreviewList returns the emails the change would move to free (the first few).
func (h HeldChange) PreviewList() []string { return jsonList(h.Preview) }

// HoldDetails is what approving a held change must do.
type HoldDetails struct {
	DirectoryID string   `json:"directory_id,omitempty"`
	UserIDs     []string `json:"user_ids,omitempty"` // reconcile sweep: users to mark gone
	Emails      []string `json:"emails,omitempty"`   // directory deleted: seats to free
	ListedFrom  string   `json:"listed_from,omitempty"`
}

// DetailsValue decodes the change's details.
func (h HeldChange) DetailsValue() HoldDetails {
	var d HoldDetails
	_ = json.Unmarshal([]byte(h.Details), &d) // written only by this package
	return d
}

const previewSize = 20

// ActiveHold returns the plan's held change that still waits, or nil.
func (s *Store) ActiveHold(ctx context.Context, planID string) (*HeldChange, error) {
	var rows []HeldChange
	if err := s.q(ctx).Where("plan_id = ? AND state = 'held'", planID).Order("id").Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("load held change: %w", translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// Hold records a held change, or grows the plan's waiting one: while a change
// waits, every further revocation of the plan joins it.
func (s *Store) Hold(ctx context.Context, planID, kind string, emails []string, details HoldDetails, now time.Time) (*HeldChange, bool, error) {
	h, err := s.ActiveHold(ctx, planID)
	if err != nil {
		return nil, false, err
	}
	if h != nil {
		preview := h.PreviewList()
		for _, e := range emails {
			if len(preview) < previewSize {
				preview = append(preview, e)
			}
		}
		d := h.DetailsValue()
		d.UserIDs = append(d.UserIDs, details.UserIDs...)
		d.Emails = append(d.Emails, details.Emails...)
		b, _ := json.Marshal(d)
		h.Size += len(emails)
		h.Preview, h.Details = toJSON(preview), string(b)
		if err := s.q(ctx).Model(&HeldChange{}).Where("id = ?", h.ID).
			Updates(map[string]any{"size": h.Size, "preview": h.Preview, "details": h.Details}).Error; err != nil {
			return nil, false, fmt.Errorf("grow held change: %w", translate(err))
		}
		return h, false, nil
	}
	preview := emails
	if len(preview) > previewSize {
		preview = preview[:previewSize]
	}
	b, _ := json.Marshal(details)
	h = &HeldChange{PlanID: planID, Kind: kind, State: "held", Size: len(emails), Preview: toJSON(preview), Details: string(b),
		CreatedAt: now.UTC()}
	if err := s.q(ctx).Create(h).Error; err != nil {
		return nil, false, fmt.Errorf("hold change: %w", translate(err))
	}
	return h, true, nil
}

// HeldChange returns one held change of a plan.
func (s *Store) HeldChange(ctx context.Context, planID string, id int64) (*HeldChange, error) {
	var h HeldChange
	if err := s.q(ctx).Where("plan_id = ? AND id = ?", planID, id).Take(&h).Error; err != nil {
		return nil, fmt.Errorf("get held change %d: %w", id, translate(err))
	}
	return &h, nil
}

// DecideHold records the admin's decision on a waiting change.
func (s *Store) DecideHold(ctx context.Context, id int64, state, by string, now time.Time) error {
	res := s.q(ctx).Model(&HeldChange{}).Where("id = ? AND state = 'held'", id).
		Updates(map[string]any{"state": state, "decided_by": by, "decided_at": now.UTC()})
	if res.Error != nil {
		return fmt.Errorf("decide held change %d: %w", id, translate(res.Error))
	}
	if res.RowsAffected == 0 {
		return membership.Errorf(membership.Conflict, "already_decided", "held change %d was already approved or rejected", id)
	}
	return nil
}

// HeldChanges returns a plan's waiting changes.
func (s *Store) HeldChanges(ctx context.Context, planID string) ([]HeldChange, error) {
	var rows []HeldChange
	if err := s.q(ctx).Where("plan_id = ? AND state = 'held'", planID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list held changes: %w", translate(err))
	}
	return rows, nil
}

// recentRevocations counts a plan's revocations since a time. The actions are
// literals, exactly the predicate of the partial index audit_entries_revocations
// (migration 0005): bound as parameters, a cached generic plan could not prove
// the predicate, nor could SQLite, and the count would read every audit entry
// of the plan.
const recentRevocations = "SELECT COUNT(*) FROM audit_entries WHERE plan_id = ? AND from_plan_id = ? AND action IN ('" +
	membership.ActionMovedToFree + "', '" + membership.ActionMoved + "') AND at >= ?"

// RecentRevocations counts the plan's seats the directory revoked since `since`.
func (s *Store) RecentRevocations(ctx context.Context, planID string, since time.Time) (int, error) {
	var n int64
	err := s.q(ctx).Raw(recentRevocations, planID, planID, since.UTC()).Find(&n).Error
	if err != nil {
		return 0, fmt.Errorf("count recent revocations: %w", translate(err))
	}
	return int(n), nil
}

// DowngradeEmails lists the paid members the cutover downgrade would move to free.
func (s *Store) DowngradeEmails(ctx context.Context, planID string) ([]string, error) {
	var emails []string
	if err := s.q(ctx).Raw("SELECT email FROM members WHERE plan_id = ? AND "+notInA+" ORDER BY email", planID, planID).Find(&emails).Error; err != nil {
		return nil, fmt.Errorf("size downgrade: %w", translate(err))
	}
	return emails, nil
}

// DirectorySeats returns the emails holding directory seats on the plan that
// a directory deletion with policy free would move to free.
func (s *Store) DirectorySeats(ctx context.Context, planID string) ([]string, error) {
	var emails []string
	err := s.q(ctx).Raw(`SELECT email FROM members WHERE plan_id = ? AND source = 'directory'
		AND (manual_plan_id IS NULL OR manual_plan_id <> plan_id) ORDER BY email`, planID).Find(&emails).Error
	if err != nil {
		return nil, fmt.Errorf("list directory seats: %w", translate(err))
	}
	return emails, nil
}

// PaidCount returns the plan's paid seats, from the counter.
func (s *Store) PaidCount(ctx context.Context, planID string) (int, error) {
	var n int64
	if err := s.q(ctx).Raw("SELECT paid_count FROM plans WHERE id = ?", planID).Find(&n).Error; err != nil {
		return 0, fmt.Errorf("count paid seats: %w", translate(err))
	}
	return int(n), nil
}

// FreeSeats moves the listed members of the plan to free, audited: an
// approved directory deletion with policy free.
func (s *Store) FreeSeats(ctx context.Context, planID string, emails []string, actor, reason string, now time.Time) error {
	if len(emails) == 0 {
		return nil
	}
	err := s.q(ctx).Exec(`INSERT INTO audit_entries (plan_id, at, actor, action, member_email, from_plan_id, event_id, reason)
		SELECT ?, ?, ?, ?, email, ?, '', ? FROM members WHERE plan_id = ? AND email IN ?`,
		planID, now.UTC(), actor, membership.ActionMovedToFree, planID, reason, planID, emails).Error
	if err != nil {
		return fmt.Errorf("free seats: audit: %w", translate(err))
	}
	res := s.q(ctx).Exec(`UPDATE members SET plan_id = NULL, source = '', manual_plan_id = NULL, updated_at = ?
		WHERE plan_id = ? AND email IN ?`, now.UTC(), planID, emails)
	if res.Error != nil {
		return fmt.Errorf("free seats: %w", translate(res.Error))
	}
	return s.movePlanSeatsToFree(ctx, planID, res.RowsAffected)
}
