package workosapi

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/workos/workos-go/v4/pkg/organizations"
	"github.com/workos/workos-go/v4/pkg/workos_errors"

	"github.com/seatsync/seatsync/pkg/membership"
)

// EnsureOrganization returns the WorkOS organization whose external_id is
// externalID, creating it (with name and domains, pending verification) if
// there is none. created reports whether this call created it. Concurrent
// calls with the same externalID create one organization: WorkOS refuses a
// second external_id, and the loser fetches the winner's.
func (c *Client) EnsureOrganization(ctx context.Context, externalID, name string, domains []string) (orgID string, created bool, err error) {
	const op = "workos ensure organization"
	if externalID == "" || len(externalID) > 128 {
		return "", false, membership.Errorf(membership.Invalid, "workos_invalid_request",
			"organization external id must be 1 to 128 characters")
	}
	// Explicit empty slice and map: the SDK would send null (reference §9.3).
	dd := make([]organizations.OrganizationDomainData, 0, len(domains))
	for _, d := range domains {
		dd = append(dd, organizations.OrganizationDomainData{Domain: d, State: organizations.Pending})
	}
	org, err := c.orgs.CreateOrganization(ctx, organizations.CreateOrganizationOpts{
		Name:       name,
		DomainData: dd,
		ExternalID: externalID,
		Metadata:   map[string]string{},
	})
	if err == nil {
		return org.ID, true, nil
	}
	var he workos_errors.HTTPError
	// 400 external_id_already_used is documented; 409 is tolerated too, since
	// the spec lists it for this endpoint without saying when.
	if !errors.As(err, &he) || !(he.ErrorCode == "external_id_already_used" || he.Code == http.StatusConflict) {
		return "", false, c.wrapErr(ctx, op, err)
	}
	// The SDK puts path parameters into the URL unescaped (reference §9.3).
	org, err = c.orgs.GetOrganizationByExternalID(ctx, organizations.GetOrganizationByExternalIDOpts{
		ExternalID: url.PathEscape(externalID),
	})
	if err != nil {
		return "", false, c.wrapErr(ctx, op, err)
	}
	return org.ID, false, nil
}
