// This file checks the links from external accounts (an OpenID Connect
// issuer and subject) to users: kept per tenant, one link per user and
// tenant, and races for one user or one account won exactly once.

package storetest

import (
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

const linkIssuer = "https://login.example/dir/v2.0"

// link is an Identity of tenant, issuer linkIssuer.
func link(tenant, subject, userID string) store.Identity {
	return store.Identity{TenantID: tenant, Issuer: linkIssuer, Subject: subject, UserID: userID}
}

// wantLinked checks what IdentityUser answers for id's account.
func wantLinked(t tb, s store.Store, id store.Identity, what string) {
	t.Helper()
	got, err := s.IdentityUser(t.Context(), id.TenantID, id.Issuer, id.Subject)
	wantErr(t, err, nil, what)
	if got != id.UserID {
		t.Errorf("%s: IdentityUser(%q, %q, %q) = %q, want %q", what, id.TenantID, id.Issuer, id.Subject, got, id.UserID)
	}
}

var identityChecks = []check{
	{name: "Link", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		for _, u := range []store.User{user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-1", "u3"),
			user("u-4", "t-1", "u4"), user("u-5", "t-2", "u5")} {
			addUser(t, s, u)
		}
		_, err := s.IdentityUser(ctx, "t-1", linkIssuer, "sub-1")
		wantErr(t, err, store.ErrNotFound, "IdentityUser before LinkIdentity")
		for _, l := range []store.Identity{
			link("t-1", "sub-1", "u-1"),
			{TenantID: "t-1", Issuer: linkIssuer + "/other", Subject: "sub-1", UserID: "u-2"},
			// Joining the parts must not make these two one key.
			{TenantID: "t-1", Issuer: "https://a.example/x", Subject: "y", UserID: "u-3"},
			{TenantID: "t-1", Issuer: "https://a.example/", Subject: "xy", UserID: "u-4"},
			// The same account, linked in another tenant, to that tenant's user.
			link("t-2", "sub-1", "u-5"),
		} {
			must(t, s.LinkIdentity(ctx, l), fmt.Sprintf("LinkIdentity(%+v)", l))
			wantLinked(t, s, l, "after LinkIdentity")
		}
		wantLinked(t, s, link("t-1", "sub-1", "u-1"), "after linking the account in another tenant")
		_, err = s.IdentityUser(ctx, "t-3", linkIssuer, "sub-1")
		wantErr(t, err, store.ErrNotFound, "IdentityUser in a tenant where the account has no link")
	}},
	{name: "AccountLinkedOnce", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-9", "t-1", "u9"))
		must(t, s.LinkIdentity(t.Context(), link("t-1", "sub-1", "u-1")), "LinkIdentity")
		err := s.LinkIdentity(t.Context(), link("t-1", "sub-1", "u-9"))
		wantErr(t, err, store.ErrConflict, "LinkIdentity of an account linked in the tenant")
		wantLinked(t, s, link("t-1", "sub-1", "u-1"), "after a refused relink")
	}},
	{name: "UserLinkedOnce", fn: func(t tb, s store.Store) {
		// A user already linked is never linked to a second account of the
		// tenant: that is how a second account claiming the user's email is
		// refused even when two sign-ins race.
		addUser(t, s, user("u-1", "t-1", "u1"))
		must(t, s.LinkIdentity(t.Context(), link("t-1", "sub-1", "u-1")), "LinkIdentity")
		err := s.LinkIdentity(t.Context(), link("t-1", "sub-2", "u-1"))
		wantErr(t, err, store.ErrConflict, "LinkIdentity of a second account to a linked user")
		_, err = s.IdentityUser(t.Context(), "t-1", linkIssuer, "sub-2")
		wantErr(t, err, store.ErrNotFound, "IdentityUser of the refused account")
	}},
	{name: "ConcurrentLinksOfOneUser", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-1", "u1"))
		errs := concurrently(racers, func(i int) error {
			return s.LinkIdentity(t.Context(), link("t-1", fmt.Sprintf("sub-%d", i), "u-1"))
		})
		winner := oneWinner(t, "LinkIdentity of one user by many accounts", errs, store.ErrConflict)
		wantLinked(t, s, link("t-1", fmt.Sprintf("sub-%d", winner), "u-1"), "after the race")
	}},
	{name: "ConcurrentLinksOfOneAccount", fn: func(t tb, s store.Store) {
		for i := range racers {
			addUser(t, s, user(fmt.Sprintf("u-%d", i), "t-1", fmt.Sprintf("u%d", i)))
		}
		errs := concurrently(racers, func(i int) error {
			return s.LinkIdentity(t.Context(), link("t-1", "sub-1", fmt.Sprintf("u-%d", i)))
		})
		winner := oneWinner(t, "LinkIdentity of one account to many users", errs, store.ErrConflict)
		wantLinked(t, s, link("t-1", "sub-1", fmt.Sprintf("u-%d", winner)), "after the race")
	}},
}
