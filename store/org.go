package store

import (
	"context"
	"fmt"

	"github.com/seatsync/seatsync/pkg/membership"
)

// PlanLinks is what the directories say about each plan of an organization.
type PlanLinks struct {
	Active, Inactive int
	Added            int      // |E| over live directories
	Domains          []string // union of the live directories' domains
}

// Frozen reports whether the plan's directories are all inactive (SPEC §3:
// seats frozen while the directory is deactivated).
func (l PlanLinks) Frozen() bool { return l.Active == 0 && l.Inactive > 0 }

// OrganizationLinks returns the PlanLinks of every plan of the organization.
func (s *Store) OrganizationLinks(ctx context.Context, orgID string) (map[string]PlanLinks, error) {
	var rows []DirectoryRow
	err := s.q(ctx).Raw(`SELECT d.* FROM directories d JOIN plans p ON p.id = d.plan_id
		WHERE p.organization_id = ? AND d.state <> 'deleted'`, orgID).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load directory links: %w", translate(err))
	}
	out := map[string]PlanLinks{}
	for _, d := range rows {
		l := out[d.PlanID]
		if d.State == string(membership.DirectoryActive) {
			l.Active++
		} else {
			l.Inactive++
		}
		l.Added += d.UsersAdded
		l.Domains = append(l.Domains, d.DomainList()...)
		out[d.PlanID] = l
	}
	return out, nil
}

// UserGroups returns the ids and names of the groups of the user's own
// directory that the user is in; memberships recorded by another directory
// never scope this one (SPEC §4.2).
func (s *Store) UserGroups(ctx context.Context, userID, directoryID string) ([]string, error) {
	var rows []struct{ ID, Name string }
	err := s.q(ctx).Raw(`SELECT g.id, g.name FROM directory_group_members gm JOIN directory_groups g ON g.id = gm.group_id
		WHERE gm.user_id = ? AND gm.directory_id = ? AND g.directory_id = ? AND gm.present AND NOT g.deleted`,
		userID, directoryID, directoryID).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("load user groups: %w", translate(err))
	}
	out := make([]string, 0, 2*len(rows))
	for _, r := range rows {
		out = append(out, r.ID, r.Name)
	}
	return out, nil
}
