package workosapi

import (
	"context"

	"github.com/workos/workos-go/v4/pkg/directorysync"
)

// Directory is a WorkOS directory (reference §8.1).
type Directory struct {
	ID             string
	OrganizationID string
	Type           string // e.g. "okta scim v2.0"
	State          string // linked, validating, invalid_credentials, unlinked, deleting
	Name           string
}

// ListDirectories returns every directory of the organization, all pages.
func (c *Client) ListDirectories(ctx context.Context, orgID string) ([]Directory, error) {
	var out []Directory
	opts := directorysync.ListDirectoriesOpts{OrganizationID: orgID, Limit: maxLimit, Order: directorysync.Asc}
	for {
		res, err := c.dsync.ListDirectories(ctx, opts)
		if err != nil {
			return nil, c.wrapErr(ctx, "workos list directories", err)
		}
		for _, d := range res.Data {
			out = append(out, Directory{ID: d.ID, OrganizationID: d.OrganizationID, Type: string(d.Type),
				State: string(d.State), Name: d.Name})
		}
		// A cursor that does not move would loop forever; treat it as the end.
		if res.ListMetadata.After == "" || res.ListMetadata.After == opts.After {
			return out, nil
		}
		opts.After = res.ListMetadata.After
	}
}
