// This file checks that a store refuses, with ErrInvalid and storing
// nothing, the records that break the Store contract's own rules: missing
// identifiers, malformed names, reserved names in a tenant, users of a
// tenant that does not exist, tokens of another sign-in.

package storetest

import (
	"errors"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// wantInvalid checks that err is ErrInvalid.
func wantInvalid(t tb, err error, what string) {
	t.Helper()
	if !errors.Is(err, store.ErrInvalid) {
		t.Errorf("%s: got error %v, want ErrInvalid", what, err)
	}
}

var ruleChecks = []check{
	{name: "Tenants", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		for _, c := range []struct {
			name string
			t    store.Tenant
		}{
			{"without an ID", store.Tenant{Domain: "a.example"}},
			{"without a domain", store.Tenant{ID: "t-1"}},
			{"with a space in its domain", store.Tenant{ID: "t-1", Domain: "a example"}},
		} {
			wantInvalid(t, s.CreateTenant(ctx, c.t), "CreateTenant "+c.name)
		}
		_, err := s.Tenant(ctx, "t-1")
		wantErr(t, err, store.ErrNotFound, "Tenant after refused CreateTenant calls")
		must(t, s.CreateTenant(ctx, store.Tenant{ID: "t-1", Domain: "a.example"}), "CreateTenant")
		wantInvalid(t, s.UpdateTenant(ctx, store.Tenant{ID: "t-1", Domain: ""}), "UpdateTenant to no domain")
		got, err := s.Tenant(ctx, "t-1")
		wantErr(t, err, nil, "Tenant after a refused UpdateTenant")
		if got.Domain != "a.example" {
			t.Errorf("after a refused UpdateTenant the domain is %q, want a.example", got.Domain)
		}
	}},
	{name: "Users", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		ensureTenant(t, s, "t-acme")
		ok := user("u-1", "t-acme", "alice")
		for _, c := range []struct {
			name string
			edit func(*store.User)
		}{
			{"without an ID", func(u *store.User) { u.ID = "" }},
			{"without a username", func(u *store.User) { u.Username = "" }},
			{"with a malformed username", func(u *store.User) { u.Username = "bad name!" }},
			{"with a username ending in a period", func(u *store.User) { u.Username = "alice." }},
			{"with a reserved name in a tenant", func(u *store.User) { u.Username = "Admin" }},
			{"without a role", func(u *store.User) { u.Role = "" }},
			{"with a role over 64 bytes", func(u *store.User) { u.Role = string(make([]byte, 65)) }},
			{"of a tenant that does not exist", func(u *store.User) { u.TenantID = "t-missing" }},
		} {
			u := ok
			c.edit(&u)
			wantInvalid(t, s.CreateUser(ctx, u), "CreateUser "+c.name)
		}
		_, err := s.User(ctx, ok.ID)
		wantErr(t, err, store.ErrNotFound, "User after refused CreateUser calls")
		// A reserved name is a system user's.
		root := user("u-root", "", "root")
		must(t, s.CreateUser(ctx, root), "CreateUser of a system user named root")
		addUser(t, s, ok)
		bad := ok
		bad.Username = "bad name!"
		wantInvalid(t, s.UpdateUser(ctx, bad), "UpdateUser to a malformed username")
		bad = ok
		bad.TenantID = "t-missing"
		wantInvalid(t, s.UpdateUser(ctx, bad), "UpdateUser to a tenant that does not exist")
		wantUser(t, s, ok)
	}},
	{name: "SignIns", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ok := store.Family{ID: "f-1", UserID: "u-1", Method: "password", CreatedAt: base, ExpiresAt: at(time.Hour)}
		tok := token("f-1/access", store.AccessToken, "f-1", at(time.Hour))
		for _, c := range []struct {
			name string
			edit func(*store.Family, *store.Token)
		}{
			{"without an ID", func(f *store.Family, t *store.Token) { f.ID, t.FamilyID = "", "" }},
			{"without a user", func(f *store.Family, _ *store.Token) { f.UserID = "" }},
			{"without a method", func(f *store.Family, _ *store.Token) { f.Method = "" }},
			{"without an end", func(f *store.Family, _ *store.Token) { f.ExpiresAt = time.Time{} }},
			{"with a token of another sign-in", func(_ *store.Family, t *store.Token) { t.FamilyID = "f-other" }},
			{"with a token of no kind", func(_ *store.Family, t *store.Token) { t.Kind = 0 }},
		} {
			f, tk := ok, tok
			c.edit(&f, &tk)
			wantInvalid(t, createFamily(ctx, s, f, tk), "CreateFamily "+c.name)
		}
		wantNoGrant(t, s, tok, base, "after refused CreateFamily calls")
		must(t, createFamily(ctx, s, ok, tok), "CreateFamily")
		bad := token("f-1/bad", 9, "f-1", at(time.Hour))
		wantInvalid(t, s.AddToken(ctx, bad, base), "AddToken of a token of no known kind")
	}},
	{name: "Identities", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"))
		for _, c := range []struct {
			name string
			id   store.Identity
		}{
			{"without a tenant", store.Identity{Issuer: linkIssuer, Subject: "sub-1", UserID: "u-1"}},
			{"without an issuer", store.Identity{TenantID: "t-1", Subject: "sub-1", UserID: "u-1"}},
			{"without a subject", store.Identity{TenantID: "t-1", Issuer: linkIssuer, UserID: "u-1"}},
			{"without a user", store.Identity{TenantID: "t-1", Issuer: linkIssuer, Subject: "sub-1"}},
		} {
			wantInvalid(t, s.LinkIdentity(ctx, c.id), "LinkIdentity "+c.name)
			wantInvalid(t, s.RekeyIdentity(ctx, c.id, "sub-0"), "RekeyIdentity "+c.name)
		}
		wantInvalid(t, s.RekeyIdentity(ctx, link("t-1", "sub-1", "u-1"), ""), "RekeyIdentity from an empty subject")
		must(t, s.LinkIdentity(ctx, link("t-1", "sub-1", "u-1")), "LinkIdentity after refused ones")
	}},
}
