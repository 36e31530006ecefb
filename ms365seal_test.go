// Tests of a tenant's Microsoft credentials at rest: with
// Config.EncryptionKeys the client secret and the private key are stored
// sealed, bound to the tenant, opened only for the token endpoint, never
// returned to a host; a credential whose key is gone lands as server_error
// with an ERROR log; plain credentials of earlier versions are sealed by
// SealTenantSecrets.

package pbxauth_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/oidctest"
	"github.com/pbxauth/pbxauth/store"
)

// credential is what a tenant authenticates to the token endpoint with.
func credential(m *store.MS365) string {
	if m.UsesCertificate() {
		return m.ClientPrivateKey
	}
	return m.ClientSecret
}

// wantSealedAtRest checks that the store holds the tenant's credential only
// sealed, and that the Go API hands it to no one.
func (e *zEnv) wantSealedAtRest(t *testing.T, plain string) {
	t.Helper()
	ctx := context.Background()
	raw, err := e.store.Tenant(ctx, acmeID)
	if err != nil {
		t.Fatal(err)
	}
	rec := []byte(raw.MS365.ClientSecret + raw.MS365.ClientPrivateKey + raw.MS365.ClientCertificate + raw.Name)
	if where := apitest.FindSecret(rec, plain); where != "" || !strings.HasPrefix(credential(raw.MS365), store.SealedPrefix) {
		t.Errorf("the stored tenant holds its credential as %q (found: %s)", credential(raw.MS365), where)
	}
	got, err := e.auth.Tenant(ctx, acmeDomain)
	if err != nil {
		t.Fatal(err)
	}
	list, _, err := e.auth.Tenants(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, tn := range append(list, got) {
		if m := tn.MS365; m != nil && (m.ClientSecret != "" || m.ClientPrivateKey != "") {
			t.Errorf("the Go API returned tenant %s with its credentials: %+v", tn.Domain, m)
		}
	}
}

func TestMicrosoftCredentialsSealedAtRest(t *testing.T) {
	for _, method := range []string{"client_secret_basic", "private_key_jwt"} {
		t.Run(method, func(t *testing.T) {
			ctx := context.Background()
			e := newZitadelEnv(t, oidctest.Options{}, method, withKeys)
			raw, err := e.store.Tenant(ctx, acmeID)
			if err != nil {
				t.Fatal(err)
			}
			plain := *raw.MS365 // as the test put it in the store
			s := pbxauth.SettingsOf(raw)
			s.MS365 = &plain
			if _, err := e.auth.UpdateTenant(ctx, acmeDomain, s); err != nil {
				t.Fatal(err)
			}
			e.wantSealedAtRest(t, credential(&plain))
			e.exchange(t, e.signInAs(t, aliceAt()))

			// Settings read back, without the credential, written back
			// with a change keep it.
			got, err := e.auth.Tenant(ctx, acmeDomain)
			if err != nil {
				t.Fatal(err)
			}
			s = pbxauth.SettingsOf(got)
			s.Website = "https://acme.example.test/new"
			if _, err := e.auth.UpdateTenant(ctx, acmeDomain, s); err != nil {
				t.Fatal(err)
			}
			e.wantSealedAtRest(t, credential(&plain))
			e.exchange(t, e.signInAs(t, aliceAt()))

			// A sealed value is no input: it is bound to its tenant.
			sealedRaw, _ := e.store.Tenant(ctx, acmeID)
			s = pbxauth.SettingsOf(sealedRaw)
			if _, err := e.auth.CreateTenant(ctx, pbxauth.TenantSettings{Name: "Copy", Domain: "copy.example.test", MS365: s.MS365}); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("CreateTenant with a sealed credential: %v, want ErrInvalid", err)
			}

			// A deployment that lacks the key cannot open it: the
			// sign-in lands as server_error, logged at ERROR, without
			// a token.
			for _, keys := range [][][]byte{{bytes.Repeat([]byte{0x77}, 32)}, nil} {
				e.restart(t, func(c *pbxauth.Config) { c.EncryptionKeys = keys })
				before := e.logs.count("level=ERROR")
				wantRefused(t, e.signInAs(t, aliceAt()), "server_error")
				if e.logs.count("level=ERROR") != before+1 || !strings.Contains(e.logs.String(), "Microsoft credential") {
					t.Errorf("with keys %d, a credential that does not open was not logged at ERROR:\n%s", len(keys), e.logs)
				}
			}
		})
	}
}

func TestSealTenantSecrets(t *testing.T) {
	ctx := context.Background()
	e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic") // no keys; the secret put in the store as given
	raw, err := e.store.Tenant(ctx, acmeID)
	if err != nil {
		t.Fatal(err)
	}
	secret := raw.MS365.ClientSecret

	// Without keys a secret is kept as given, and SealTenantSecrets says so.
	s := pbxauth.SettingsOf(raw)
	s.Domain, s.Name = "globex.example.test", "Globex"
	if _, err := e.auth.CreateTenant(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n, err := e.auth.SealTenantSecrets(ctx); n != 0 || err != nil {
		t.Errorf("SealTenantSecrets without keys: %d, %v", n, err)
	}
	if !strings.Contains(e.logs.String(), "level=WARN") || !strings.Contains(e.logs.String(), "tenants=2") {
		t.Errorf("without keys, plain secrets were not warned of:\n%s", e.logs)
	}
	if got, _ := e.store.TenantByDomain(ctx, "globex.example.test"); got.MS365.ClientSecret != secret {
		t.Errorf("without keys the stored secret is %q, want it as given", got.MS365.ClientSecret)
	}

	// With keys, the next start seals both, once.
	e.restart(t, withKeys)
	if n, err := e.auth.SealTenantSecrets(ctx); n != 2 || err != nil {
		t.Errorf("SealTenantSecrets with keys: %d, %v; want 2", n, err)
	}
	e.wantSealedAtRest(t, secret)
	if n, err := e.auth.SealTenantSecrets(ctx); n != 0 || err != nil {
		t.Errorf("SealTenantSecrets again: %d, %v; want 0", n, err)
	}
	e.exchange(t, e.signInAs(t, aliceAt()))
}
