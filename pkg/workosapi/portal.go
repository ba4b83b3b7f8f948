package workosapi

import (
	"context"

	"github.com/workos/workos-go/v4/pkg/portal"
)

// PortalLink generates an Admin Portal link with intent dsync for the
// organization. Empty returnURL or successURL are left out, so WorkOS falls back
// to the dashboard's redirect settings. The link expires after five minutes
// (reference §10.2): redirect to it at once, never cache it.
func (c *Client) PortalLink(ctx context.Context, orgID, returnURL, successURL string) (string, error) {
	link, err := c.portal.GenerateLink(ctx, portal.GenerateLinkOpts{
		Intent:       portal.DSync,
		Organization: orgID,
		ReturnURL:    returnURL,
		SuccessURL:   successURL,
	})
	if err != nil {
		return "", c.wrapErr(ctx, "workos portal link", err)
	}
	return link, nil
}
