// The tenant's Microsoft certificate over HTTP: who may generate and
// download it, what is answered and what is kept (the key sealed, never
// answered or logged), two generations racing, and the certificate at a
// certified provider (zitadel): the secret it replaces covers sign-ins
// until the certificate is uploaded, the first accepted call confirms it,
// and an overlap that ends unconfirmed drops the stand-in.

package pbxauth_test

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/oidctest"
	"github.com/pbxauth/pbxauth/store"
)

const certPath = "/ms365/certificate"

// parseCertificate checks a certificate answer's headers and returns the
// certificate it carries.
func parseCertificate(t *testing.T, r *apitest.Response, domain string) *x509.Certificate {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("certificate: %d %s", r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q, want application/octet-stream", ct)
	}
	if cd := r.Header.Get("Content-Disposition"); cd != `attachment; filename="`+domain+`.cer"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if strings.Contains(string(r.Body), "PRIVATE KEY") {
		t.Fatal("the answer carries a private key")
	}
	block, rest := pem.Decode(r.Body)
	if block == nil || block.Type != "CERTIFICATE" || len(strings.TrimSpace(string(rest))) > 0 {
		t.Fatalf("the answer is not one PEM certificate: %q", r.Body)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// storedCredentials are the tenant's credentials as the Store keeps them.
func storedCredentials(t *testing.T, st store.Store, tenantID string) store.MS365Credentials {
	t.Helper()
	c, err := st.(store.MS365CredentialStore).MS365Credentials(context.Background(), tenantID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestMicrosoftCertificateWhoMay(t *testing.T) {
	logs := &syncBuffer{}
	e := newEnv(t, withKeys, func(c *pbxauth.Config) { c.Logger = slog.New(slog.NewTextHandler(logs, nil)) })
	alice, bob, admin, dealer := e.policyCallers(t)
	olga := e.addUser(t, "other.example.test", "olga", "Admin")

	if r := e.c.Do("GET", certPath, nil, apitest.Bearer(alice)...); r.Status != 404 {
		t.Errorf("GET before any certificate: %d %s, want 404", r.Status, r.Body)
	}
	for _, c := range []struct {
		who, access, query string
		status             int
	}{
		{"a StandardUser", bob, "", 403},
		{"a StandardUser naming its tenant", bob, "?domain=" + acmeDomain, 403},
		{"an Admin of another tenant naming acme", olga, "?domain=" + acmeDomain, 404},
		{"an Admin naming an unknown domain", alice, "?domain=nowhere.example.test", 404},
		{"a SystemAdmin without domain", admin, "", 400},
		{"a SystemAdmin naming an unknown domain", admin, "?domain=nowhere.example.test", 404},
		{"a Dealer", dealer, "?domain=" + acmeDomain, 403},
		{"no bearer", "", "", 401},
	} {
		for _, method := range []string{"POST", "GET"} {
			if r := e.c.Do(method, certPath+c.query, nil, apitest.Bearer(c.access)...); r.Status != c.status {
				t.Errorf("%s by %s: %d %s, want %d", method, c.who, r.Status, r.Body, c.status)
			}
		}
	}
	if _, err := e.store.(store.MS365CredentialStore).MS365Credentials(context.Background(), acmeID); err == nil {
		t.Fatal("a refused POST stored a certificate")
	}

	start := e.clock.Now()
	r := e.c.Do("POST", certPath, nil, apitest.Bearer(alice)...)
	cert := parseCertificate(t, r, acmeDomain)
	key, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || key.N.BitLen() != 3072 {
		t.Errorf("the certificate's key is %T of %d bits, want RSA 3072", cert.PublicKey, key.N.BitLen())
	}
	selfSigned := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature)
	if cert.Subject.CommonName != acmeDomain || cert.Issuer.String() != cert.Subject.String() || selfSigned != nil {
		t.Errorf("subject %q, issuer %q, self-signed: %v", cert.Subject, cert.Issuer, selfSigned)
	}
	if want := start.AddDate(2, 0, 0); !cert.NotAfter.Equal(want) || cert.NotBefore.After(start) {
		t.Errorf("valid %s to %s, want from before %s to %s", cert.NotBefore, cert.NotAfter, start, want)
	}
	if got := e.c.Do("GET", certPath, nil, apitest.Bearer(alice)...); string(got.Body) != string(r.Body) {
		t.Errorf("GET answers another certificate than the POST made: %s", got.Body)
	}
	if got := e.c.Do("GET", certPath+"?domain="+acmeDomain, nil, apitest.Bearer(admin)...); string(got.Body) != string(r.Body) {
		t.Errorf("a SystemAdmin's GET: %d %s", got.Status, got.Body)
	}
	if got := e.c.Do("GET", certPath, nil, apitest.Bearer(olga)...); got.Status != 404 {
		t.Errorf("the other tenant's GET: %d %s, want 404", got.Status, got.Body)
	}

	stored := storedCredentials(t, e.store, acmeID)
	if !strings.HasPrefix(stored.Current.ClientPrivateKey, store.SealedPrefix) || strings.Contains(stored.Current.ClientPrivateKey, "PRIVATE KEY") {
		t.Errorf("the private key is kept unsealed: %.40q", stored.Current.ClientPrivateKey)
	}
	if stored.Confirmed || stored.Version != 1 {
		t.Errorf("stored %+v, want version 1 unconfirmed", stored)
	}
	if strings.Contains(logs.String(), "PRIVATE KEY") || strings.Contains(logs.String(), stored.Current.ClientPrivateKey) {
		t.Error("the private key was logged")
	}

	// A SystemAdmin generates again for the tenant: the current one is replaced.
	again := parseCertificate(t, e.c.Do("POST", certPath+"?domain="+acmeDomain, nil, apitest.Bearer(admin)...), acmeDomain)
	if again.Equal(cert) || storedCredentials(t, e.store, acmeID).Version != 2 {
		t.Error("a second generation did not replace the certificate")
	}
	got, err := e.auth.MicrosoftCertificate(context.Background(), acmeDomain)
	if err != nil || !strings.Contains(got.PEM, "CERTIFICATE") || got.Confirmed || !got.Generated.Equal(start) {
		t.Errorf("MicrosoftCertificate: %+v, %v", got, err)
	}

	// A sign-in older than Limits.RecentAuth may not generate one.
	e.clock.Advance(11 * time.Minute)
	if r := e.c.Do("POST", certPath, nil, apitest.Bearer(alice)...); r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Errorf("POST by a sign-in not recent: %d %s, want 403 insufficient_scope", r.Status, r.Body)
	}
	if r := e.c.Do("GET", certPath, nil, apitest.Bearer(alice)...); r.Status != 200 {
		t.Errorf("GET by a sign-in not recent: %d %s, want 200", r.Status, r.Body)
	}
}

// Without Config.EncryptionKeys there is nothing to seal the key with.
func TestMicrosoftCertificateNeedsKeys(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.c.Do("POST", certPath, nil, apitest.Bearer(alice)...); r.Status != 404 {
		t.Errorf("POST without keys: %d %s, want 404", r.Status, r.Body)
	}
	if _, err := e.auth.GenerateMicrosoftCertificate(context.Background(), acmeDomain); err == nil {
		t.Error("GenerateMicrosoftCertificate without keys succeeded")
	}
	if r := e.c.Do("GET", certPath, nil, apitest.Bearer(alice)...); r.Status != 404 {
		t.Errorf("GET without keys: %d %s, want 404", r.Status, r.Body)
	}
}

// MS365Credentials holds reads of the tenant's credentials while armed
// ("MS365Credentials"), found or not: two generations then surely both
// read one version before either stores.
func (s *barrierStore) MS365Credentials(ctx context.Context, tenantID string) (store.MS365Credentials, error) {
	c, err := s.Store.MS365Credentials(ctx, tenantID)
	s.pass("MS365Credentials")
	return c, err
}

func TestMicrosoftCertificateConcurrentGenerations(t *testing.T) {
	for _, existing := range []bool{false, true} {
		st := newBarrierStore(t, "MS365Credentials")
		e := newEnvWith(t, st, withKeys)
		alice, _ := e.signIn(t, aliceCreds())
		if existing {
			if _, err := e.auth.GenerateMicrosoftCertificate(context.Background(), acmeDomain); err != nil {
				t.Fatal(err)
			}
		}
		st.arm(2)
		statuses := apitest.Race(2, func(int) *apitest.Response {
			return e.c.Do("POST", certPath, nil, apitest.Bearer(alice)...)
		})
		if statuses[200] != 1 || statuses[409] != 1 {
			t.Fatalf("two concurrent generations (earlier one: %v): %v, want one 200 and one 409", existing, statuses)
		}
		if v := storedCredentials(t, st, acmeID).Version; v != map[bool]int64{false: 1, true: 2}[existing] {
			t.Errorf("version %d after the race (earlier one: %v)", v, existing)
		}
	}
}

// zCertEnv is a zitadel env whose tenant signs in with a client secret and
// has keys to seal a certificate's private key with; alice's bearer is a
// recent password sign-in.
func newZCertEnv(t *testing.T) (*zEnv, string) {
	t.Helper()
	e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic", withKeys)
	alice, _ := e.signIn(t, aliceCreds())
	return e, alice
}

// generate makes acme's certificate over HTTP as alice.
func (e *zEnv) generate(t *testing.T, alice string) *x509.Certificate {
	t.Helper()
	return parseCertificate(t, e.c.Do("POST", certPath, nil, apitest.Bearer(alice)...), acmeDomain)
}

// signsIn checks that alice's Microsoft sign-in succeeds and returns the
// token requests it made.
func (e *zEnv) signsIn(t *testing.T) []oidctest.TokenRequest {
	t.Helper()
	before := len(e.p.TokenRequests())
	e.exchange(t, e.signInAs(t, aliceAt()))
	return e.p.TokenRequests()[before:]
}

func TestMicrosoftCertificateAtProvider(t *testing.T) {
	e, alice := newZCertEnv(t)
	cert := e.generate(t, alice)
	if !slices.Contains(e.events.kinds(), pbxauth.EventMicrosoftCertificateGenerated) {
		t.Errorf("events %v, want %s", e.events.kinds(), pbxauth.EventMicrosoftCertificateGenerated)
	}

	// Not uploaded yet: the provider refuses the certificate, the secret
	// it replaces signs in.
	for range 2 {
		reqs := e.signsIn(t)
		if len(reqs) != 2 || reqs[0].Error != "invalid_client" || reqs[0].AssertionType == "" || reqs[0].BasicAuth ||
			reqs[1].Status != 200 || !reqs[1].BasicAuth || reqs[1].AssertionType != "" {
			t.Fatalf("token requests before the upload %+v, want the assertion refused, then the secret", reqs)
		}
	}
	if c := storedCredentials(t, e.store, acmeID); c.Confirmed || c.KnownGood.ClientSecret == "" {
		t.Fatalf("before the upload: %+v, want unconfirmed with the secret known good", c)
	}

	// Uploaded: the certificate signs in, and is confirmed.
	if err := e.p.AddClientKey(zitadelClientID, cert.PublicKey); err != nil {
		t.Fatal(err)
	}
	e.cert = cert
	for range 2 {
		reqs := e.signsIn(t)
		if len(reqs) != 1 || reqs[0].Status != 200 || reqs[0].BasicAuth || reqs[0].FormSecret {
			t.Fatalf("token requests after the upload %+v, want one with the assertion", reqs)
		}
		e.checkAssertions(t, reqs)
	}
	c := storedCredentials(t, e.store, acmeID)
	if !c.Confirmed || c.KnownGood != c.Current {
		t.Errorf("after the upload: confirmed %v, known good is current: %v", c.Confirmed, c.KnownGood == c.Current)
	}
	if got, _ := e.auth.MicrosoftCertificate(context.Background(), acmeDomain); !got.Confirmed {
		t.Errorf("MicrosoftCertificate after the upload: %+v", got)
	}
}

func TestMicrosoftCertificateOverlapEnds(t *testing.T) {
	e, alice := newZCertEnv(t)
	e.generate(t, alice)
	e.signsIn(t) // covered by the secret

	overlap := 24 * time.Hour // Limits.CertificateOverlap's default
	e.clock.Advance(overlap - time.Second)
	if got, _ := e.auth.MicrosoftCertificate(context.Background(), acmeDomain); !got.Fallback {
		t.Fatalf("within the overlap: %+v, want the secret standing in", got)
	}
	e.clock.Advance(time.Second)
	got, err := e.auth.MicrosoftCertificate(context.Background(), acmeDomain)
	if err != nil || got.Fallback || got.Confirmed || got.PEM == "" {
		t.Fatalf("after the overlap: %+v, %v; want the certificate kept, unconfirmed, nothing standing in", got, err)
	}
	if n := strings.Count(strings.Join(kindsOf(e.events.kinds()), " "), string(pbxauth.EventMicrosoftCertificateUnconfirmed)); n != 1 {
		t.Errorf("%d %s events, want 1", n, pbxauth.EventMicrosoftCertificateUnconfirmed)
	}
	if !strings.Contains(e.logs.String(), "level=ERROR") || !strings.Contains(e.logs.String(), "unconfirmed") {
		t.Errorf("no ERROR log of the unconfirmed certificate:\n%s", e.logs)
	}
	if c := storedCredentials(t, e.store, acmeID); !c.KnownGood.IsZero() || c.Current.ClientCertificate == "" {
		t.Errorf("stored after the overlap: %+v", c)
	}

	// The provider signs with the real time: the test's clock goes back
	// to it. The certificate alone is tried, and refused.
	e.clock.Advance(-overlap)
	before := len(e.p.TokenRequests())
	wantRefused(t, e.signInAs(t, aliceAt()), "server_error")
	if reqs := e.p.TokenRequests()[before:]; len(reqs) != 1 || reqs[0].Error != "invalid_client" || reqs[0].AssertionType == "" {
		t.Errorf("token requests after the overlap %+v, want the assertion alone, refused", reqs)
	}
}

// kindsOf is kinds as strings.
func kindsOf(kinds []pbxauth.EventKind) []string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = string(k)
	}
	return s
}

// A host setting the tenant's credential with UpdateTenant replaces a
// generated certificate; writing the settings back as read keeps it.
func TestMicrosoftCertificateReplacedBySettings(t *testing.T) {
	e := newEnv(t, withKeys)
	ctx := context.Background()
	update := func(change func(*pbxauth.TenantSettings)) {
		t.Helper()
		tn, err := e.auth.Tenant(ctx, acmeDomain)
		if err != nil {
			t.Fatal(err)
		}
		s := pbxauth.SettingsOf(tn)
		change(&s)
		if _, err := e.auth.UpdateTenant(ctx, acmeDomain, s); err != nil {
			t.Fatal(err)
		}
	}
	update(func(s *pbxauth.TenantSettings) {
		s.MS365 = &store.MS365{ApplicationID: "app", DirectoryID: "dir", ClientSecret: "secret-one"}
	})
	if _, err := e.auth.GenerateMicrosoftCertificate(ctx, acmeDomain); err != nil {
		t.Fatal(err)
	}
	update(func(s *pbxauth.TenantSettings) { s.Name = "Acme Renamed" })
	if c := storedCredentials(t, e.store, acmeID); c.KnownGood.ClientSecret == "" || c.Version != 1 {
		t.Fatalf("after settings written back: %+v", c)
	}
	update(func(s *pbxauth.TenantSettings) { s.MS365.ClientSecret = "secret-two" })
	if _, err := e.auth.MicrosoftCertificate(ctx, acmeDomain); !errors.Is(err, pbxauth.ErrNotFound) {
		t.Errorf("MicrosoftCertificate after a new secret: %v, want ErrNotFound", err)
	}

	// A certificate of the settings is the one answered.
	certPEM, keyPEM, _, _ := newClientCertificate(t)
	update(func(s *pbxauth.TenantSettings) {
		s.MS365.ClientSecret, s.MS365.ClientCertificate, s.MS365.ClientPrivateKey = "", certPEM, keyPEM
	})
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.c.Do("GET", certPath, nil, apitest.Bearer(alice)...); string(r.Body) != certPEM {
		t.Errorf("GET of the settings' certificate: %d %s", r.Status, r.Body)
	}
}
