// Tests of the tenants' Go API and of paging through tenants and users:
// what CreateTenant and UpdateTenant refuse changes nothing, what they
// store is what GET /info and sign-ins see, and pages come in order, each
// record once, without credentials.

package pbxauth_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// globex are the settings of a tenant the seed does not have.
func globex() pbxauth.TenantSettings {
	return pbxauth.TenantSettings{Name: "Globex Corporation", Domain: "globex.example.test", Website: "https://globex.example.test"}
}

func TestCreateTenantValidation(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	ctx := context.Background()
	for _, c := range []struct {
		name string
		edit func(*pbxauth.TenantSettings)
		want error
	}{
		{"no name", func(s *pbxauth.TenantSettings) { s.Name = "" }, store.ErrInvalid},
		{"a name of 1025 characters", func(s *pbxauth.TenantSettings) { s.Name = strings.Repeat("é", 1025) }, store.ErrInvalid},
		{"a control character in the name", func(s *pbxauth.TenantSettings) { s.Name = "Globex\nCorp" }, store.ErrInvalid},
		{"a name that is no UTF-8", func(s *pbxauth.TenantSettings) { s.Name = "Globex \xff" }, store.ErrInvalid},
		{"no domain", func(s *pbxauth.TenantSettings) { s.Domain = "" }, store.ErrInvalid},
		{"a space in the domain", func(s *pbxauth.TenantSettings) { s.Domain = "globex example.test" }, store.ErrInvalid},
		{"a 281-character domain", func(s *pbxauth.TenantSettings) { s.Domain = strings.Repeat("g", 281) }, store.ErrInvalid},
		{"a website of 256 characters", func(s *pbxauth.TenantSettings) { s.Website = "https://" + strings.Repeat("g", 248) }, store.ErrInvalid},
		{"a control character in the avatar URL", func(s *pbxauth.TenantSettings) { s.AvatarURL = "/a\x00.png" }, store.ErrInvalid},
		{"an unknown national cloud", func(s *pbxauth.TenantSettings) {
			s.MS365 = &store.MS365{ApplicationID: "app", DirectoryID: "dir", ClientSecret: "s", NationalCloud: "MARS"}
		}, store.ErrInvalid},
		{"a certificate without its key", func(s *pbxauth.TenantSettings) {
			s.MS365 = &store.MS365{ApplicationID: "app", DirectoryID: "dir", ClientCertificate: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}
		}, store.ErrInvalid},
		{"another tenant's domain in another case", func(s *pbxauth.TenantSettings) { s.Domain = "ACME.example.test" }, store.ErrConflict},
	} {
		s := globex()
		c.edit(&s)
		if _, err := e.auth.CreateTenant(ctx, s); !errors.Is(err, c.want) {
			t.Errorf("CreateTenant with %s: %v, want %v", c.name, err, c.want)
		}
		if r := e.c.Do("GET", "/info?domain=globex.example.test", nil); r.Status != 404 {
			t.Errorf("after CreateTenant with %s, GET /info: %d %s", c.name, r.Status, r.Body)
		}
	}
	if r := e.c.Do("GET", "/info?domain="+acmeDomain, nil); r.Status != 200 || r.String("name") != "Acme" {
		t.Errorf("acme after the refusals: %d %s", r.Status, r.Body)
	}
	if n := countKind(ev, pbxauth.EventTenantCreated); n != 0 {
		t.Errorf("refused CreateTenant calls reported %d tenant_created events", n)
	}

	s := globex()
	s.AvatarURL = "/avatars/globex.png"
	tn, err := e.auth.CreateTenant(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if tn.ID == "" || tn.ID == acmeID || tn.Domain != s.Domain || tn.Name != s.Name {
		t.Errorf("created %+v", tn)
	}
	r := e.c.Do("GET", "/info?domain=GLOBEX.example.test", nil)
	if r.Status != 200 || r.String("name") != s.Name || r.String("website") != s.Website || r.String("avatar_url") != s.AvatarURL ||
		r.JSON()["enable_ms365_integration"] != false {
		t.Errorf("GET /info of the created tenant: %d %s", r.Status, r.Body)
	}
	if n := countKind(ev, pbxauth.EventTenantCreated); n != 1 {
		t.Errorf("%d tenant_created events, want 1", n)
	}
	if _, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: s.Domain, Username: "hank", Password: "hank-pw-123", Role: pbxauth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "hank", "password": "hank-pw-123", "domain": s.Domain}); r.Status != 200 {
		t.Errorf("a user of the created tenant signs in: %d %s", r.Status, r.Body)
	}
}

func TestUpdateTenant(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	ctx := context.Background()
	moved := pbxauth.TenantSettings{Name: "Acme Inc", Domain: "acme-inc.example.test", EnableTwoFactor: true}
	for _, c := range []struct {
		name   string
		domain string
		s      pbxauth.TenantSettings
		want   error
	}{
		{"an unknown tenant", "nowhere.example.test", moved, store.ErrNotFound},
		{"a malformed domain", "a b", moved, store.ErrInvalid},
		{"no name", acmeDomain, pbxauth.TenantSettings{Domain: acmeDomain}, store.ErrInvalid},
		{"another tenant's domain", acmeDomain, pbxauth.TenantSettings{Name: "Acme", Domain: "Other.Example.Test"}, store.ErrConflict},
	} {
		if _, err := e.auth.UpdateTenant(ctx, c.domain, c.s); !errors.Is(err, c.want) {
			t.Errorf("UpdateTenant of %s: %v, want %v", c.name, err, c.want)
		}
	}
	if r := e.c.Do("GET", "/info?domain="+acmeDomain, nil); r.Status != 200 || r.String("name") != "Acme" || r.String("website") != "https://acme.example.test" {
		t.Errorf("acme after the refusals: %d %s", r.Status, r.Body)
	}
	if n := countKind(ev, pbxauth.EventTenantUpdated); n != 0 {
		t.Errorf("refused UpdateTenant calls reported %d tenant_updated events", n)
	}

	tn, err := e.auth.UpdateTenant(ctx, "ACME.EXAMPLE.TEST", moved)
	if err != nil {
		t.Fatal(err)
	}
	if tn.ID != acmeID || tn.Domain != moved.Domain || tn.Website != "" {
		t.Errorf("updated %+v", tn)
	}
	if n := countKind(ev, pbxauth.EventTenantUpdated); n != 1 {
		t.Errorf("%d tenant_updated events, want 1", n)
	}
	if r := e.c.Do("GET", "/info?domain="+acmeDomain, nil); r.Status != 404 {
		t.Errorf("GET /info of the domain given up: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("GET", "/info?domain="+moved.Domain, nil); r.Status != 200 || r.String("name") != "Acme Inc" {
		t.Errorf("GET /info of the new domain: %d %s", r.Status, r.Body)
	}
	// The users came along, and the tenant's second factor is on now.
	r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "alice", "password": alicePW, "domain": moved.Domain})
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true {
		t.Errorf("alice at the new domain: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 401 {
		t.Errorf("alice at the domain given up: %d %s", r.Status, r.Body)
	}
	if got, err := e.auth.Tenant(ctx, "Acme-Inc.example.test"); err != nil || got.ID != acmeID || got.Name != "Acme Inc" {
		t.Errorf("Tenant of the new domain in another case: %+v, %v", got, err)
	}
	if _, err := e.auth.Tenant(ctx, acmeDomain); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Tenant of the domain given up: %v", err)
	}
}

// names returns the key of each record.
func names[T any](list []T, key func(T) string) []string {
	var s []string
	for _, r := range list {
		s = append(s, key(r))
	}
	return s
}

func TestUsersAndTenantsPages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, n := range []string{"Zed", "a_b", "carol", "B-y", "b.x"} {
		if _, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: acmeDomain, Username: n, Password: "long-pw-" + n, Role: pbxauth.RoleStandardUser}); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{"a_b", "alice", "B-y", "b.x", "carol", "dave", "Zed"} // folded, byte by byte
	for _, limit := range []int{1, 3, 7, 0} {
		var got []string
		after, pages := "", 0
		for {
			page, next, err := e.auth.Users(ctx, "Acme.Example.Test", after, limit)
			if err != nil {
				t.Fatal(err)
			}
			pages++
			for _, u := range page {
				if u.PasswordHash != "" || u.TenantID != acmeID {
					t.Errorf("Users listed %+v", u)
				}
			}
			got = append(got, names(page, func(u store.User) string { return u.Username })...)
			if next == "" {
				break
			}
			if len(page) != limit || next != page[len(page)-1].Username {
				t.Fatalf("a page of %d with limit %d goes on after %q", len(page), limit, next)
			}
			after = next
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Users %d at a time: %q, want %q", limit, got, want)
		}
		if wantPages := (len(want) + max(limit, 1) - 1) / max(limit, 1); limit != 0 && pages != wantPages {
			t.Errorf("Users %d at a time took %d pages, want %d (the last page says it is the last)", limit, pages, wantPages)
		}
	}
	sys, next, err := e.auth.Users(ctx, "", "", 0)
	if got := names(sys, func(u store.User) string { return u.Username }); err != nil || next != "" || fmt.Sprint(got) != "[admin]" {
		t.Errorf("system users: %q %q %v", got, next, err)
	}
	for _, c := range []struct {
		domain string
		limit  int
		want   error
	}{
		{"nowhere.example.test", 0, store.ErrNotFound},
		{"a b", 0, store.ErrInvalid},
		{acmeDomain, 1001, store.ErrInvalid},
		{acmeDomain, -1, store.ErrInvalid},
	} {
		if _, _, err := e.auth.Users(ctx, c.domain, "", c.limit); !errors.Is(err, c.want) {
			t.Errorf("Users(%q, limit %d): %v, want %v", c.domain, c.limit, err, c.want)
		}
	}

	if _, err := e.auth.CreateTenant(ctx, globex()); err != nil {
		t.Fatal(err)
	}
	page, next, err := e.auth.Tenants(ctx, "", 2)
	if got := names(page, func(t store.Tenant) string { return t.Domain }); err != nil || fmt.Sprint(got) != "[acme.example.test globex.example.test]" || next != "globex.example.test" {
		t.Errorf("the first page of tenants: %q %q %v", got, next, err)
	}
	page, next, err = e.auth.Tenants(ctx, next, 2)
	if got := names(page, func(t store.Tenant) string { return t.Domain }); err != nil || fmt.Sprint(got) != "[other.example.test]" || next != "" {
		t.Errorf("the last page of tenants: %q %q %v", got, next, err)
	}

	// A store that cannot list says so.
	bare := newEnvWith(t, struct{ store.Store }{memstore.New()}, volatileMail)
	if _, _, err := bare.auth.Users(ctx, "", "", 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Users of a store without DirectoryLister: %v", err)
	}
	if _, _, err := bare.auth.Tenants(ctx, "", 0); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("Tenants of a store without DirectoryLister: %v", err)
	}
}
