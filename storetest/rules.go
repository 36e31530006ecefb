// This file checks that a store refuses, with ErrInvalid and storing
// nothing, the records that break the Store contract's own rules: missing
// identifiers, malformed names, reserved names in a tenant, users of a
// tenant that does not exist, tokens of another sign-in.

package storetest

import (
	"errors"
	"time"

	"github.com/pbxauth/pbxauth"
)

// wantInvalid checks that err is ErrInvalid.
func wantInvalid(t tb, err error, what string) {
	t.Helper()
	if !errors.Is(err, pbxauth.ErrInvalid) {
		t.Errorf("%s: got error %v, want ErrInvalid", what, err)
	}
}

var ruleChecks = []check{
	{name: "Tenants", fn: func(t tb, s pbxauth.Store) {
		ctx := t.Context()
		for _, c := range []struct {
			name string
			t    pbxauth.Tenant
		}{
			{"without an ID", pbxauth.Tenant{Domain: "a.example"}},
			{"without a domain", pbxauth.Tenant{ID: "t-1"}},
			{"with a space in its domain", pbxauth.Tenant{ID: "t-1", Domain: "a example"}},
		} {
			wantInvalid(t, s.CreateTenant(ctx, c.t), "CreateTenant "+c.name)
		}
		_, err := s.Tenant(ctx, "t-1")
		wantErr(t, err, pbxauth.ErrNotFound, "Tenant after refused CreateTenant calls")
		must(t, s.CreateTenant(ctx, pbxauth.Tenant{ID: "t-1", Domain: "a.example"}), "CreateTenant")
		wantInvalid(t, s.UpdateTenant(ctx, pbxauth.Tenant{ID: "t-1", Domain: ""}), "UpdateTenant to no domain")
		got, err := s.Tenant(ctx, "t-1")
		wantErr(t, err, nil, "Tenant after a refused UpdateTenant")
		if got.Domain != "a.example" {
			t.Errorf("after a refused UpdateTenant the domain is %q, want a.example", got.Domain)
		}
	}},
	{name: "Users", fn: func(t tb, s pbxauth.Store) {
		ctx := t.Context()
		ensureTenant(t, s, "t-acme")
		ok := user("u-1", "t-acme", "alice")
		for _, c := range []struct {
			name string
			edit func(*pbxauth.User)
		}{
			{"without an ID", func(u *pbxauth.User) { u.ID = "" }},
			{"without a username", func(u *pbxauth.User) { u.Username = "" }},
			{"with a malformed username", func(u *pbxauth.User) { u.Username = "bad name!" }},
			{"with a username ending in a period", func(u *pbxauth.User) { u.Username = "alice." }},
			{"with a reserved name in a tenant", func(u *pbxauth.User) { u.Username = "Admin" }},
			{"without a role", func(u *pbxauth.User) { u.Role = "" }},
			{"with a role over 64 bytes", func(u *pbxauth.User) { u.Role = string(make([]byte, 65)) }},
			{"of a tenant that does not exist", func(u *pbxauth.User) { u.TenantID = "t-missing" }},
		} {
			u := ok
			c.edit(&u)
			wantInvalid(t, s.CreateUser(ctx, u), "CreateUser "+c.name)
		}
		_, err := s.User(ctx, ok.ID)
		wantErr(t, err, pbxauth.ErrNotFound, "User after refused CreateUser calls")
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
	{name: "SignIns", fn: func(t tb, s pbxauth.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ok := pbxauth.Family{ID: "f-1", UserID: "u-1", Method: "password", CreatedAt: base, ExpiresAt: at(time.Hour)}
		tok := token("f-1/access", pbxauth.AccessToken, "f-1", at(time.Hour))
		for _, c := range []struct {
			name string
			edit func(*pbxauth.Family, *pbxauth.Token)
		}{
			{"without an ID", func(f *pbxauth.Family, t *pbxauth.Token) { f.ID, t.FamilyID = "", "" }},
			{"without a user", func(f *pbxauth.Family, _ *pbxauth.Token) { f.UserID = "" }},
			{"without a method", func(f *pbxauth.Family, _ *pbxauth.Token) { f.Method = "" }},
			{"without an end", func(f *pbxauth.Family, _ *pbxauth.Token) { f.ExpiresAt = time.Time{} }},
			{"with a token of another sign-in", func(_ *pbxauth.Family, t *pbxauth.Token) { t.FamilyID = "f-other" }},
			{"with a token of no kind", func(_ *pbxauth.Family, t *pbxauth.Token) { t.Kind = 0 }},
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
	{name: "Identities", fn: func(t tb, s pbxauth.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"))
		for _, c := range []struct {
			name string
			id   pbxauth.Identity
		}{
			{"without a tenant", pbxauth.Identity{Issuer: linkIssuer, Subject: "sub-1", UserID: "u-1"}},
			{"without an issuer", pbxauth.Identity{TenantID: "t-1", Subject: "sub-1", UserID: "u-1"}},
			{"without a subject", pbxauth.Identity{TenantID: "t-1", Issuer: linkIssuer, UserID: "u-1"}},
			{"without a user", pbxauth.Identity{TenantID: "t-1", Issuer: linkIssuer, Subject: "sub-1"}},
		} {
			wantInvalid(t, s.LinkIdentity(ctx, c.id), "LinkIdentity "+c.name)
			wantInvalid(t, s.RekeyIdentity(ctx, c.id, "sub-0"), "RekeyIdentity "+c.name)
		}
		wantInvalid(t, s.RekeyIdentity(ctx, link("t-1", "sub-1", "u-1"), ""), "RekeyIdentity from an empty subject")
		must(t, s.LinkIdentity(ctx, link("t-1", "sub-1", "u-1")), "LinkIdentity after refused ones")
	}},
}
