// This file holds the signed-in user's routes: who they are and their
// sign-ins.

package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// User is the signed-in user (GET /auth/user).
type User struct {
	// Username is a pbxauth extension; "" from PortSIP.
	Username           string `json:"username"`
	Role               string `json:"role"`
	PasswordVerified   bool   `json:"password_verified"`
	PasswordForceReset bool   `json:"password_force_reset"`
}

// User returns the signed-in user.
func (c *Client) User(ctx context.Context) (User, error) {
	var u User
	err := c.call(ctx, c.HTTPClient(), http.MethodGet, "/auth/user", nil, &u)
	return u, err
}

// Session is one of the user's live sign-ins (GET /auth/sessions, a
// pbxauth extension).
type Session struct {
	ID         string    `json:"id"`
	Method     string    `json:"method"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	ClientIP   string    `json:"client_ip"`
	UserAgent  string    `json:"user_agent"`
	// Current marks the client's own sign-in.
	Current bool `json:"current"`
}

// Sessions lists the user's live sign-ins, newest first.
func (c *Client) Sessions(ctx context.Context) ([]Session, error) {
	var a struct {
		Sessions []Session `json:"sessions"`
	}
	err := c.call(ctx, c.HTTPClient(), http.MethodGet, "/auth/sessions", nil, &a)
	return a.Sessions, err
}

// RevokeSession ends one of the user's sign-ins by its Session.ID; an
// unknown one is an *APIError with Status 404. To end the client's own,
// use SignOut.
func (c *Client) RevokeSession(ctx context.Context, id string) error {
	return c.call(ctx, c.HTTPClient(), http.MethodDelete, "/auth/sessions/"+url.PathEscape(id), nil, nil)
}
