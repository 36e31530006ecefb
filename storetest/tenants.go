// This file checks the settings records: the system settings and tenants,
// with the case-insensitive uniqueness of tenant domains.

package storetest

import (
	"github.com/pbxauth/pbxauth/store"
)

var systemChecks = []check{
	{name: "EmptyIsZero", fn: func(t tb, s store.Store) {
		got, err := s.System(t.Context())
		wantErr(t, err, nil, "System of an empty store")
		equal(t, "System of an empty store", got, store.System{})
	}},
	{name: "PutReplaces", fn: func(t tb, s store.Store) {
		for _, want := range []store.System{
			{
				WebDomain:          "pbx.example",
				PrivateIPv4:        "10.0.0.2",
				PublicIPv4:         "203.0.113.7",
				EnableIPv6:         true,
				PrivateIPv6:        "fd00::2",
				PublicIPv6:         "2001:db8::7",
				PrimaryDNSServer:   "192.0.2.53",
				SecondaryDNSServer: "198.51.100.53",
				EnableTwoFactor:    true,
			},
			{WebDomain: "other.example", PublicIPv4: "203.0.113.8"},
		} {
			must(t, s.PutSystem(t.Context(), want), "PutSystem")
			got, err := s.System(t.Context())
			wantErr(t, err, nil, "System")
			equal(t, "System", got, want)
		}
	}},
}

// acme returns a tenant with every field set, Microsoft sign-in included.
func acme() store.Tenant {
	return store.Tenant{
		ID:              "t-acme",
		Name:            "Acme Corp",
		Domain:          "Acme.Example",
		Website:         "https://acme.example",
		AvatarURL:       "https://acme.example/logo.png",
		EnableTwoFactor: true,
		// passkey_satisfies_two_factor false
		PasskeyNotTwoFactor: true,
		MS365: &store.MS365{
			ApplicationID: "app-id",
			DirectoryID:   "dir-id",
			ClientSecret:  "s3cret",
			NationalCloud: "CHINA",
			Issuer:        "https://login.example/dir-id/v2.0",
		},
	}
}

// globex returns a tenant without Microsoft sign-in.
func globex() store.Tenant {
	return store.Tenant{ID: "t-globex", Name: "Globex", Domain: "globex.example"}
}

// wantTenant checks that the tenant is found by its ID and, in any case, by
// its domain.
func wantTenant(t tb, s store.Store, want store.Tenant) {
	t.Helper()
	got, err := s.Tenant(t.Context(), want.ID)
	wantErr(t, err, nil, "Tenant "+want.ID)
	equal(t, "Tenant "+want.ID, got, want)
	for _, domain := range caseVariants(want.Domain) {
		got, err := s.TenantByDomain(t.Context(), domain)
		wantErr(t, err, nil, "TenantByDomain "+domain)
		equal(t, "TenantByDomain "+domain, got, want)
	}
}

var tenantChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		for _, tn := range []store.Tenant{acme(), globex()} {
			must(t, s.CreateTenant(t.Context(), tn), "CreateTenant "+tn.ID)
		}
		wantTenant(t, s, acme())
		wantTenant(t, s, globex())
	}},
	{name: "Missing", fn: func(t tb, s store.Store) {
		must(t, s.CreateTenant(t.Context(), acme()), "CreateTenant")
		_, err := s.Tenant(t.Context(), "t-missing")
		wantErr(t, err, store.ErrNotFound, "Tenant of a missing ID")
		_, err = s.TenantByDomain(t.Context(), "missing.example")
		wantErr(t, err, store.ErrNotFound, "TenantByDomain of a missing domain")
		missing := globex()
		err = s.UpdateTenant(t.Context(), missing)
		wantErr(t, err, store.ErrNotFound, "UpdateTenant of a missing tenant")
		_, err = s.TenantByDomain(t.Context(), missing.Domain)
		wantErr(t, err, store.ErrNotFound, "TenantByDomain after a failed UpdateTenant")
	}},
	{name: "CreateConflicts", fn: func(t tb, s store.Store) {
		must(t, s.CreateTenant(t.Context(), acme()), "CreateTenant")
		sameID := globex()
		sameID.ID = acme().ID
		sameDomain := globex()
		sameDomain.Domain = "aCME.eXAMPLE"
		for _, c := range []struct {
			name string
			tn   store.Tenant
		}{{"same ID", sameID}, {"same domain in another case", sameDomain}} {
			err := s.CreateTenant(t.Context(), c.tn)
			wantErr(t, err, store.ErrConflict, "CreateTenant with the "+c.name)
		}
		wantTenant(t, s, acme())
		_, err := s.Tenant(t.Context(), sameDomain.ID)
		wantErr(t, err, store.ErrNotFound, "Tenant refused for its domain")
		_, err = s.TenantByDomain(t.Context(), sameID.Domain)
		wantErr(t, err, store.ErrNotFound, "TenantByDomain of the tenant refused for its ID")
	}},
	{name: "Update", fn: func(t tb, s store.Store) {
		must(t, s.CreateTenant(t.Context(), acme()), "CreateTenant acme")
		must(t, s.CreateTenant(t.Context(), globex()), "CreateTenant globex")

		moved := acme()
		moved.Name = "Acme Inc"
		moved.Domain = "acme-inc.example"
		moved.Website = ""
		moved.EnableTwoFactor = false
		moved.MS365 = nil
		must(t, s.UpdateTenant(t.Context(), moved), "UpdateTenant to a new domain")
		wantTenant(t, s, moved)
		_, err := s.TenantByDomain(t.Context(), acme().Domain)
		wantErr(t, err, store.ErrNotFound, "TenantByDomain of the domain given up")

		recased := moved
		recased.Domain = "ACME-Inc.example"
		recased.MS365 = acme().MS365
		must(t, s.UpdateTenant(t.Context(), recased), "UpdateTenant to its own domain in another case")
		wantTenant(t, s, recased)

		taken := recased
		taken.Domain = "GLOBEX.example"
		err = s.UpdateTenant(t.Context(), taken)
		wantErr(t, err, store.ErrConflict, "UpdateTenant to another tenant's domain")
		wantTenant(t, s, recased)
		wantTenant(t, s, globex())

		// The domain given up is free again.
		reuse := globex()
		reuse.ID = "t-new"
		reuse.Domain = acme().Domain
		must(t, s.CreateTenant(t.Context(), reuse), "CreateTenant with a domain given up")
		wantTenant(t, s, reuse)
	}},
}
