// This file maps a verified Microsoft account to a tenant user: by the link
// remembered at its first sign-in, else by email, after which the link is
// remembered so that a later change of mailbox at Microsoft neither locks the
// user out nor moves the account to someone else.

package pbxauth

import (
	"context"
	"errors"
	"slices"
	"strings"
)

// mapMicrosoftAccount returns the user of tenant t that the account (iss,
// sub, claims) signs in as. The account is known by its object ID (oid,
// stable across the directory's applications) or else by sub.
func (a *Auth) mapMicrosoftAccount(ctx context.Context, t Tenant, iss, sub string, c msClaims) (User, *msFailure) {
	account := c.Email
	if account == "" {
		account = c.PreferredUsername
	}
	subject := c.OID
	if subject == "" {
		subject = sub
	}
	u, fail := a.linkedUser(ctx, iss, subject)
	if fail == nil && u.ID == "" {
		u, fail = a.userByEmail(ctx, t, c)
		if fail == nil && !u.Disabled {
			fail = a.link(ctx, iss, subject, u)
		}
	}
	switch {
	case fail != nil:
	case u.TenantID != t.ID:
		fail = denied("account is linked to a user of another tenant")
	case u.Disabled:
		fail = denied("user is disabled")
	}
	if fail != nil {
		if fail.user.ID == "" && u.TenantID == t.ID {
			fail.user = u // for the event; another tenant's user is not named
		}
		fail.account = account
		return User{}, fail
	}
	return u, nil
}

// linkedUser returns the user linked to the account, or a zero User when
// the account has no link yet.
func (a *Auth) linkedUser(ctx context.Context, iss, subject string) (User, *msFailure) {
	id, err := a.store.IdentityUser(ctx, iss, subject)
	if errors.Is(err, ErrNotFound) {
		return User{}, nil
	}
	if err != nil {
		return User{}, serverError(User{}, "read identity link", err)
	}
	u, err := a.store.User(ctx, id)
	if errors.Is(err, ErrNotFound) {
		// The Store cannot unlink, so the account stays refused rather than
		// silently re-mapped by email to whoever holds the address now.
		return User{}, denied("account is linked to a deleted user")
	}
	if err != nil {
		return User{}, serverError(User{}, "read linked user", err)
	}
	return u, nil
}

// userByEmail finds the one tenant user whose email equals the account's
// email or preferred_username, case-insensitively.
func (a *Auth) userByEmail(ctx context.Context, t Tenant, c msClaims) (User, *msFailure) {
	addrs := []string{c.Email}
	if !strings.EqualFold(c.PreferredUsername, c.Email) {
		addrs = append(addrs, c.PreferredUsername)
	}
	var found []User
	for _, addr := range addrs {
		if addr == "" {
			continue // an empty address would match every user without one
		}
		users, err := a.store.UsersByEmail(ctx, t.ID, addr)
		if err != nil {
			return User{}, serverError(User{}, "find users by email", err)
		}
		for _, u := range users {
			if !slices.ContainsFunc(found, func(f User) bool { return f.ID == u.ID }) {
				found = append(found, u)
			}
		}
	}
	switch len(found) {
	case 0:
		return User{}, denied("no tenant user has the account's email")
	case 1:
		return found[0], nil
	}
	return User{}, denied("%d tenant users have the account's email", len(found))
}

// link remembers that the account is u. A concurrent first sign-in of the
// same account may have linked it already; that is fine if to the same user.
func (a *Auth) link(ctx context.Context, iss, subject string, u User) *msFailure {
	err := a.store.LinkIdentity(ctx, iss, subject, u.ID)
	if errors.Is(err, ErrConflict) {
		var id string
		id, err = a.store.IdentityUser(ctx, iss, subject)
		if err == nil && id != u.ID {
			return denied("account was linked to another user meanwhile")
		}
	}
	if err != nil {
		return serverError(u, "link identity", err)
	}
	return nil
}
