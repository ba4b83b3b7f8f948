package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/seatsync/seatsync/pkg/membership"
)

// DirectoryRow is a linked WorkOS directory.
type DirectoryRow struct {
	ID               string `gorm:"primaryKey"`
	PlanID           string
	OrganizationID   string
	Type             string
	Name             string
	State            string
	Domains          string // JSON array
	UsersAdded       int
	VersionUpdatedAt *time.Time
	VersionCreatedAt *time.Time
	VersionEventID   string
	LastEventAt      *time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName implements gorm's Tabler.
func (DirectoryRow) TableName() string { return "directories" }

// Version is the version of the last applied directory event.
func (d DirectoryRow) Version() membership.Version {
	var v membership.Version
	if d.VersionUpdatedAt != nil {
		v.UpdatedAt = *d.VersionUpdatedAt
	}
	if d.VersionCreatedAt != nil {
		v.CreatedAt = *d.VersionCreatedAt
	}
	v.EventID = d.VersionEventID
	return v
}

// DomainList returns the directory's domains.
func (d DirectoryRow) DomainList() []string { return jsonList(d.Domains) }

// SetDomains sets the directory's domains.
func (d *DirectoryRow) SetDomains(ds []string) { d.Domains = toJSON(ds) }

// SetVersion records v as the directory's version.
func (d *DirectoryRow) SetVersion(v membership.Version) {
	u, c := v.UpdatedAt.UTC(), v.CreatedAt.UTC()
	d.VersionUpdatedAt, d.VersionCreatedAt, d.VersionEventID = &u, &c, v.EventID
}

// Directory returns a directory, or nil when it is unknown.
func (s *Store) Directory(ctx context.Context, id string) (*DirectoryRow, error) {
	var rows []DirectoryRow
	if err := s.q(ctx).Raw("SELECT * FROM directories WHERE id = ?", id).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get directory %s: %w", id, translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	return &rows[0], nil
}

// PlanDirectories returns the directories linked to a plan.
func (s *Store) PlanDirectories(ctx context.Context, planID string) ([]DirectoryRow, error) {
	var rows []DirectoryRow
	if err := s.q(ctx).Where("plan_id = ?", planID).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list plan directories: %w", translate(err))
	}
	return rows, nil
}

// SaveDirectory creates or replaces a directory row.
func (s *Store) SaveDirectory(ctx context.Context, d *DirectoryRow) error {
	now := time.Now().UTC()
	if d.CreatedAt.IsZero() {
		d.CreatedAt = now
	}
	d.UpdatedAt = now
	if d.Domains == "" {
		d.Domains = "[]"
	}
	// users_added, active_users and last_event_at are kept by TouchDirectory alone.
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"type", "name", "state", "domains", "version_updated_at",
			"version_created_at", "version_event_id", "updated_at"}),
	}).Create(d).Error
	if err != nil {
		return fmt.Errorf("save directory %s: %w", d.ID, translate(err))
	}
	return nil
}

// TouchDirectory records that an event of the directory was applied, how many
// users joined E with it, and by how much its users in A (active_users, what
// ActiveUsers reads) changed: the caller, who knows each saved user's stored
// in_a, passes the sum of +1 (now in A), -1 (no longer) and 0.
func (s *Store) TouchDirectory(ctx context.Context, id string, addedDelta, activeDelta int, at time.Time) error {
	err := s.q(ctx).Exec(`UPDATE directories SET users_added = users_added + ?, active_users = active_users + ?,
		last_event_at = ?, updated_at = ? WHERE id = ?`,
		addedDelta, activeDelta, at.UTC(), time.Now().UTC(), id).Error
	if err != nil {
		return fmt.Errorf("touch directory %s: %w", id, translate(err))
	}
	return nil
}

// UserRow is a directory user as stored.
type UserRow struct {
	ID               string `gorm:"primaryKey"`
	DirectoryID      string
	OrganizationID   string
	Email            string
	FirstName        string
	LastName         string
	State            string
	Deleted          bool
	InA              bool `gorm:"column:in_a"`
	Added            bool
	VersionUpdatedAt *time.Time
	VersionCreatedAt *time.Time
	VersionEventID   string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// TableName implements gorm's Tabler.
func (UserRow) TableName() string { return "directory_users" }

func (r UserRow) domain() membership.DirectoryUser {
	u := membership.DirectoryUser{ID: r.ID, DirectoryID: r.DirectoryID, OrganizationID: r.OrganizationID, Email: r.Email,
		FirstName: r.FirstName, LastName: r.LastName, State: r.State, Deleted: r.Deleted, InA: r.InA, Added: r.Added}
	if r.VersionUpdatedAt != nil {
		u.Version.UpdatedAt = *r.VersionUpdatedAt
	}
	if r.VersionCreatedAt != nil {
		u.Version.CreatedAt = *r.VersionCreatedAt
	}
	u.Version.EventID = r.VersionEventID
	return u
}

// DirectoryUser returns a stored directory user, or nil.
func (s *Store) DirectoryUser(ctx context.Context, id string) (*membership.DirectoryUser, error) {
	var rows []UserRow
	if err := s.q(ctx).Where("id = ?", id).Limit(1).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("get directory user %s: %w", id, translate(err))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	u := rows[0].domain()
	return &u, nil
}

// DirectoryUsers returns up to limit users of a directory with ids after `after`.
func (s *Store) DirectoryUsers(ctx context.Context, directoryID, after string, limit int) ([]membership.DirectoryUser, error) {
	var rows []UserRow
	if err := s.q(ctx).Where("directory_id = ? AND id > ?", directoryID, after).Order("id").Limit(limit).Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list directory users: %w", translate(err))
	}
	out := make([]membership.DirectoryUser, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// SaveDirectoryUser creates or replaces a directory user. A change of in_a
// must be counted with TouchDirectory in the same transaction.
func (s *Store) SaveDirectoryUser(ctx context.Context, u membership.DirectoryUser) error {
	now := time.Now().UTC()
	vu, vc := u.Version.UpdatedAt.UTC(), u.Version.CreatedAt.UTC()
	row := UserRow{ID: u.ID, DirectoryID: u.DirectoryID, OrganizationID: u.OrganizationID, Email: u.Email,
		FirstName: u.FirstName, LastName: u.LastName, State: u.State, Deleted: u.Deleted, InA: u.InA, Added: u.Added,
		VersionUpdatedAt: &vu, VersionCreatedAt: &vc, VersionEventID: u.Version.EventID, CreatedAt: now, UpdatedAt: now}
	err := s.q(ctx).Clauses(clause.OnConflict{
		Columns: []clause.Column{{Name: "id"}},
		DoUpdates: clause.AssignmentColumns([]string{"directory_id", "organization_id", "email", "first_name", "last_name",
			"state", "deleted", "in_a", "added", "version_updated_at", "version_created_at", "version_event_id", "updated_at"}),
	}).Create(&row).Error
	if err != nil {
		return fmt.Errorf("save directory user %s: %w", u.ID, translate(err))
	}
	s.noteWritten(1)
	return nil
}

// Claims returns, for each email, the directory users of the organization's
// live directories that carry it, except the user `except`.
func (s *Store) Claims(ctx context.Context, orgID string, emails []string, except string) (map[string][]membership.Claim, error) {
	out := map[string][]membership.Claim{}
	cte, args := s.rowsCTE("email", emails)
	org, args := s.bind(args, orgID)
	exceptID, args := s.bind(args, except)
	err := s.queryRows(ctx, cte+` SELECT du.email, du.id, d.plan_id, du.in_a FROM directory_users du
		JOIN directories d ON d.id = du.directory_id JOIN plans p ON p.id = d.plan_id
		WHERE du.email IN (SELECT email FROM v) AND p.organization_id = `+org+` AND d.state <> 'deleted'
		AND du.id <> `+exceptID+` AND NOT du.deleted ORDER BY du.id`, args, func(rows *sql.Rows) error {
		var email string
		var c membership.Claim
		if err := rows.Scan(&email, &c.DirectoryUserID, &c.PlanID, &c.InA); err != nil {
			return err
		}
		out[email] = append(out[email], c)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load claims: %w", err)
	}
	return out, nil
}
