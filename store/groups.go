package store

import (
	"context"
	"fmt"
	"time"

	"github.com/seatsync/seatsync/pkg/membership"
)

// SaveGroup records a directory group unless the stored version is newer.
func (s *Store) SaveGroup(ctx context.Context, id, directoryID, name string, deleted bool, v membership.Version) (applied bool, err error) {
	var rows []struct {
		VersionCreatedAt *time.Time
		VersionEventID   string
		Deleted          bool
	}
	if err := s.q(ctx).Raw("SELECT version_created_at, version_event_id, deleted FROM directory_groups WHERE id = ?", id).Find(&rows).Error; err != nil {
		return false, fmt.Errorf("load group %s: %w", id, translate(err))
	}
	now := time.Now().UTC()
	c := v.CreatedAt.UTC()
	if len(rows) == 0 {
		err = s.q(ctx).Exec(`INSERT INTO directory_groups (id, directory_id, name, deleted, version_created_at, version_event_id, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, id, directoryID, name, deleted, c, v.EventID, now).Error
		if err != nil {
			return false, fmt.Errorf("save group %s: %w", id, translate(err))
		}
		return true, nil
	}
	if older(rows[0].VersionCreatedAt, rows[0].VersionEventID, v) || rows[0].Deleted {
		return false, nil // a deleted group stays deleted: late events cannot resurrect it
	}
	err = s.q(ctx).Exec(`UPDATE directory_groups SET name = ?, deleted = ?, version_created_at = ?, version_event_id = ?, updated_at = ?
		WHERE id = ?`, name, deleted, c, v.EventID, now, id).Error
	if err != nil {
		return false, fmt.Errorf("save group %s: %w", id, translate(err))
	}
	if deleted {
		if err := s.q(ctx).Exec("UPDATE directory_group_members SET present = ? WHERE group_id = ?", false, id).Error; err != nil {
			return false, fmt.Errorf("clear group %s: %w", id, translate(err))
		}
	}
	return true, nil
}

// older reports whether v is not newer than the stored (created_at, event id).
func older(storedAt *time.Time, storedID string, v membership.Version) bool {
	if storedAt == nil {
		return false
	}
	return v.Compare(membership.Version{CreatedAt: *storedAt, EventID: storedID}) <= 0
}

// SetGroupMember records that a user joined or left a group, unless a newer
// membership event is already stored (user_added and user_removed arrive in any order).
func (s *Store) SetGroupMember(ctx context.Context, groupID, userID, directoryID string, present bool, v membership.Version) (applied bool, err error) {
	var rows []struct {
		VersionCreatedAt *time.Time
		VersionEventID   string
	}
	if err := s.q(ctx).Raw("SELECT version_created_at, version_event_id FROM directory_group_members WHERE group_id = ? AND user_id = ?",
		groupID, userID).Find(&rows).Error; err != nil {
		return false, fmt.Errorf("load group member: %w", translate(err))
	}
	c := v.CreatedAt.UTC()
	if len(rows) == 0 {
		err = s.q(ctx).Exec(`INSERT INTO directory_group_members (group_id, user_id, directory_id, present, version_created_at, version_event_id)
			VALUES (?, ?, ?, ?, ?, ?)`, groupID, userID, directoryID, present, c, v.EventID).Error
	} else {
		if older(rows[0].VersionCreatedAt, rows[0].VersionEventID, v) {
			return false, nil
		}
		err = s.q(ctx).Exec(`UPDATE directory_group_members SET present = ?, version_created_at = ?, version_event_id = ?
			WHERE group_id = ? AND user_id = ?`, present, c, v.EventID, groupID, userID).Error
	}
	if err != nil {
		return false, fmt.Errorf("save group member: %w", translate(err))
	}
	return true, nil
}

// GroupDirectory returns the directory a stored group belongs to, or "" for an unknown group.
func (s *Store) GroupDirectory(ctx context.Context, groupID string) (string, error) {
	var ids []string
	if err := s.q(ctx).Raw("SELECT directory_id FROM directory_groups WHERE id = ?", groupID).Find(&ids).Error; err != nil {
		return "", fmt.Errorf("get group %s: %w", groupID, translate(err))
	}
	if len(ids) == 0 {
		return "", nil
	}
	return ids[0], nil
}

// GroupUsers returns the ids of the users whose membership rows name the group.
func (s *Store) GroupUsers(ctx context.Context, groupID string) ([]string, error) {
	var ids []string
	if err := s.q(ctx).Raw("SELECT user_id FROM directory_group_members WHERE group_id = ?", groupID).Find(&ids).Error; err != nil {
		return nil, fmt.Errorf("list group users: %w", translate(err))
	}
	return ids, nil
}
