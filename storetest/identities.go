// This file checks the links from external accounts (an OpenID Connect
// issuer and subject) to users: kept per tenant, one link per user and
// tenant, races for one user or one account won exactly once, and a link's
// subject rewritten in place (RekeyIdentity) without the user ever being
// unlinked.

package storetest

import (
	"errors"
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
	{name: "Rekey", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-2", "u3"))
		must(t, s.LinkIdentity(ctx, link("t-1", "old-1", "u-1")), "LinkIdentity")
		must(t, s.LinkIdentity(ctx, link("t-2", "old-1", "u-3")), "LinkIdentity in another tenant")
		must(t, s.RekeyIdentity(ctx, link("t-1", "oid:1", "u-1"), "old-1"), "RekeyIdentity")
		wantLinked(t, s, link("t-1", "oid:1", "u-1"), "after RekeyIdentity")
		_, err := s.IdentityUser(ctx, "t-1", linkIssuer, "old-1")
		wantErr(t, err, store.ErrNotFound, "IdentityUser of the old subject")
		wantLinked(t, s, link("t-2", "old-1", "u-3"), "the account's link in another tenant after RekeyIdentity")
		// The user still has its one link; the old subject is free.
		wantErr(t, s.LinkIdentity(ctx, link("t-1", "sub-2", "u-1")), store.ErrConflict, "LinkIdentity of a second account to the rekeyed user")
		must(t, s.LinkIdentity(ctx, link("t-1", "old-1", "u-2")), "LinkIdentity of the old subject to another user")
		must(t, s.RekeyIdentity(ctx, link("t-1", "oid:1", "u-1"), "oid:1"), "RekeyIdentity to its own subject")
		wantLinked(t, s, link("t-1", "oid:1", "u-1"), "after RekeyIdentity to its own subject")
		// UnlinkUser finds the link under its new subject.
		must(t, s.UnlinkUser(ctx, "t-1", "u-1"), "UnlinkUser")
		_, err = s.IdentityUser(ctx, "t-1", linkIssuer, "oid:1")
		wantErr(t, err, store.ErrNotFound, "IdentityUser of the rekeyed link after UnlinkUser")
		must(t, s.LinkIdentity(ctx, link("t-1", "sub-9", "u-1")), "LinkIdentity after UnlinkUser")
	}},
	{name: "RekeyRefused", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"))
		must(t, s.LinkIdentity(ctx, link("t-1", "old-1", "u-1")), "LinkIdentity")
		must(t, s.LinkIdentity(ctx, link("t-1", "oid:2", "u-2")), "LinkIdentity")
		for _, c := range []struct {
			name string
			id   store.Identity
			from string
			want error
		}{
			{"of a missing link", link("t-1", "oid:1", "u-1"), "missing", store.ErrNotFound},
			{"of a link to another user", link("t-1", "oid:1", "u-2"), "old-1", store.ErrNotFound},
			{"in another tenant", link("t-2", "oid:1", "u-1"), "old-1", store.ErrNotFound},
			{"of another issuer", store.Identity{TenantID: "t-1", Issuer: linkIssuer + "/other", Subject: "oid:1", UserID: "u-1"}, "old-1", store.ErrNotFound},
			{"to a linked subject", link("t-1", "oid:2", "u-1"), "old-1", store.ErrConflict},
		} {
			err := s.RekeyIdentity(ctx, c.id, c.from)
			if !errors.Is(err, c.want) {
				t.Errorf("RekeyIdentity %s: got error %v, want %v", c.name, err, c.want)
			}
		}
		wantLinked(t, s, link("t-1", "old-1", "u-1"), "after refused rekeys")
		wantLinked(t, s, link("t-1", "oid:2", "u-2"), "after refused rekeys")
		_, err := s.IdentityUser(ctx, "t-1", linkIssuer, "oid:1")
		wantErr(t, err, store.ErrNotFound, "IdentityUser of a refused new subject")
	}},
	{name: "ConcurrentRekeys", pair: func(t tb, a, b store.Store) {
		// Parallel first sign-ins of one account with an old link: one
		// rekey wins, the others find the old subject gone.
		addUser(t, a, user("u-1", "t-1", "u1"))
		must(t, a.LinkIdentity(t.Context(), link("t-1", "old-1", "u-1")), "LinkIdentity")
		errs := concurrently(racers, func(i int) error {
			return either(a, b, i).RekeyIdentity(t.Context(), link("t-1", "oid:1", "u-1"), "old-1")
		})
		oneWinner(t, "RekeyIdentity of one link by many", errs, store.ErrNotFound)
		wantLinked(t, a, link("t-1", "oid:1", "u-1"), "after the race")
		wantLinked(t, b, link("t-1", "oid:1", "u-1"), "after the race, on the other handle")
	}},
	{name: "ConcurrentRekeyAndLink", pair: func(t tb, a, b store.Store) {
		// A rekey and links of its new subject race: the subject ends
		// linked once, to the user of whoever won.
		addUser(t, a, user("u-1", "t-1", "u1"))
		for i := range racers {
			addUser(t, a, user(fmt.Sprintf("u-r%d", i), "t-1", fmt.Sprintf("r%d", i)))
		}
		must(t, a.LinkIdentity(t.Context(), link("t-1", "old-1", "u-1")), "LinkIdentity")
		errs := concurrently(racers, func(i int) error {
			if i%2 == 0 {
				return either(a, b, i/2).RekeyIdentity(t.Context(), link("t-1", "oid:1", "u-1"), "old-1")
			}
			return either(a, b, i/2).LinkIdentity(t.Context(), link("t-1", "oid:1", fmt.Sprintf("u-r%d", i)))
		})
		winner, wins := -1, 0
		for i, err := range errs {
			switch {
			case err == nil:
				winner, wins = i, wins+1
			case !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound):
				t.Errorf("racer %d: got error %v, want nil, ErrConflict or ErrNotFound", i, err)
			}
		}
		if wins != 1 {
			t.Fatalf("%d racers won the subject, want exactly 1", wins)
		}
		if winner%2 == 0 {
			wantLinked(t, b, link("t-1", "oid:1", "u-1"), "after a rekey won")
			return
		}
		wantLinked(t, b, link("t-1", "oid:1", fmt.Sprintf("u-r%d", winner)), "after a link won")
		wantLinked(t, b, link("t-1", "old-1", "u-1"), "the old link after a link won")
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

// either is a when i is even, else b: racers split between two handles.
func either(a, b store.Store, i int) store.Store {
	if i%2 == 1 {
		return b
	}
	return a
}
