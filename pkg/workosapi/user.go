package workosapi

import (
	"context"
	"net/url"

	"github.com/workos/workos-go/v4/pkg/directorysync"
)

// maxLimit is the largest page WorkOS list endpoints serve (reference §8).
const maxLimit = 100

// User is a directory user as the Directory Sync API lists it (reference §8.3).
type User struct {
	ID             string
	DirectoryID    string
	OrganizationID string
	Email          string // "" when WorkOS has none (null)
	FirstName      string
	LastName       string
	State          string // active, inactive or suspended
	UpdatedAt      string // RFC 3339, as WorkOS sent it
	CreatedAt      string
}

// UserPage is one page of directory users. After is the cursor for the next
// page, "" after the last.
type UserPage struct {
	Users []User
	After string
}

// ListUsers returns one page of the directory's users after the cursor after
// ("" for the first page); limit is clamped to 1–100, 0 meaning 100.
// GET /directory_users allows 4 requests per second per directory; the retries
// absorb the 429s of a faster caller, but a caller walking many pages should
// pace itself.
func (c *Client) ListUsers(ctx context.Context, directoryID, after string, limit int) (UserPage, error) {
	if limit <= 0 || limit > maxLimit {
		limit = maxLimit
	}
	res, err := c.dsync.ListUsers(ctx, directorysync.ListUsersOpts{
		Directory: directoryID,
		Limit:     limit,
		// Oldest first, so a user created while a reconciliation walks the
		// pages lands after the cursor and is still listed; newest first
		// (the SDK default) would skip it, and the walk would mark it gone.
		Order: directorysync.Asc,
		After: after,
	})
	if err != nil {
		return UserPage{}, c.wrapErr(ctx, "workos list users", err)
	}
	page := UserPage{Users: make([]User, 0, len(res.Data)), After: res.ListMetadata.After}
	for _, u := range res.Data {
		page.Users = append(page.Users, userFrom(u))
	}
	if page.After == after && after != "" {
		page.After = "" // a cursor that does not move is the end
	}
	return page, nil
}

// GetUser returns one directory user.
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	// The SDK puts the id into the path unescaped (reference §9.3).
	u, err := c.dsync.GetUser(ctx, directorysync.GetUserOpts{User: url.PathEscape(id)})
	if err != nil {
		return User{}, c.wrapErr(ctx, "workos get user", err)
	}
	return userFrom(u), nil
}

func userFrom(u directorysync.User) User {
	return User{ID: u.ID, DirectoryID: u.DirectoryID, OrganizationID: u.OrganizationID, Email: u.Email,
		FirstName: u.FirstName, LastName: u.LastName, State: string(u.State),
		UpdatedAt: u.UpdatedAt, CreatedAt: u.CreatedAt}
}
