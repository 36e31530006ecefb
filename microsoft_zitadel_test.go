// Microsoft sign-in against a certified OpenID provider built from
// zitadel's op package (internal/oidctest): discovery's client
// authentication methods, client_secret_basic and client_secret_post,
// private_key_jwt with a certificate, email at UserInfo and its
// verification, and the takeover cases, all checked by code this project
// did not write.

package pbxauth_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/oidctest"
	"github.com/pbxauth/pbxauth/store"
)

const zitadelClientID = "pbx-app"

// zEnv is an Auth whose tenant acme signs in at a zitadel provider.
type zEnv struct {
	*msEnv
	p    *oidctest.Provider
	cert *x509.Certificate // of a private_key_jwt client
}

// newZitadelEnv registers acme's application at a new provider with the
// given client authentication method; private_key_jwt makes a certificate
// the tenant authenticates with instead of a secret.
func newZitadelEnv(t *testing.T, opts oidctest.Options, method string, configure ...func(*pbxauth.Config)) *zEnv {
	t.Helper()
	e := &zEnv{msEnv: newMSBase(t, configure...)}
	client := oidctest.Client{ID: zitadelClientID, Secret: "s3cret-of-the-pbx", AuthMethod: method, RedirectURIs: []string{e.redirectURI}}
	ms := &store.MS365{ApplicationID: zitadelClientID, ClientSecret: client.Secret}
	if method == "private_key_jwt" {
		certPEM, keyPEM, cert, pub := newClientCertificate(t)
		client.Secret, client.PublicKey, e.cert = "", pub, cert
		ms.ClientSecret, ms.ClientCertificate, ms.ClientPrivateKey = "", certPEM, keyPEM
	}
	e.p = oidctest.Start(t, opts, client)
	ms.Issuer = e.p.Issuer
	e.setMicrosoft(t, acmeID, ms)
	return e
}

// newClientCertificate makes a self-signed certificate and its key in PEM.
func newClientCertificate(t *testing.T) (certPEM, keyPEM string, cert *x509.Certificate, pub *rsa.PublicKey) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "pbx"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	pk, _ := x509.MarshalPKCS8PrivateKey(key)
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk})), cert, &key.PublicKey
}

// signInAs runs a token-mode sign-in as u to its end and returns where the
// browser lands: every redirect within the provider is followed, then ours.
func (e *zEnv) signInAs(t *testing.T, u oidctest.User) *url.URL {
	t.Helper()
	return location(t, e.get(t, e.authorize(t, u).String()))
}

// authorize starts a token-mode sign-in as u, follows every redirect within
// the provider and returns its authorization response, not yet followed.
func (e *zEnv) authorize(t *testing.T, u oidctest.User) *url.URL {
	t.Helper()
	e.p.SetUser(u)
	next := e.start(t)
	issuer, _ := url.Parse(e.p.Issuer)
	for range 6 {
		if next.Host != issuer.Host {
			break
		}
		next = idpLocation(t, e.get(t, next.String()))
	}
	if next.Scheme+"://"+next.Host+next.Path != e.redirectURI {
		t.Fatalf("the provider sent the browser to %s, want %s", next, e.redirectURI)
	}
	return next
}

// aliceAt is alice's account at the provider: the email verified, at
// UserInfo only, as zitadel answers the code flow.
func aliceAt() oidctest.User {
	return oidctest.User{Subject: "sub-alice", Email: "alice@acme.example.test", EmailVerified: new(true),
		PreferredUsername: "alice@acme.example.test", IDTokenClaims: map[string]any{"oid": "oid-alice"}}
}

func TestZitadelClientAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name      string
		method    string
		discovery []string // nil: the provider's own list
	}{
		{"basic when discovery lists it", "client_secret_basic", nil},
		{"basic when discovery lists no method", "client_secret_basic", []string{}},
		{"post when discovery lists only post", "client_secret_post", []string{"client_secret_post"}},
		{"private_key_jwt with a certificate", "private_key_jwt", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newZitadelEnv(t, oidctest.Options{DiscoveryAuthMethods: tc.discovery}, tc.method)
			for range 2 {
				access := e.exchange(t, e.signInAs(t, aliceAt()))
				if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("role") != "Admin" {
					t.Fatalf("/auth/user: %d %s", u.Status, u.Body)
				}
			}
			reqs := e.p.TokenRequests()
			if len(reqs) != 2 {
				t.Fatalf("%d token requests, want 2", len(reqs))
			}
			for _, r := range reqs {
				if r.Status != 200 || !r.CodeVerifier {
					t.Errorf("token request %+v: want 200 with a PKCE verifier", r)
				}
				if r.BasicAuth != (tc.method == "client_secret_basic") || r.FormSecret != (tc.method == "client_secret_post") {
					t.Errorf("token request authenticated with basic=%v form=%v, want %s", r.BasicAuth, r.FormSecret, tc.method)
				}
			}
			if tc.method == "private_key_jwt" {
				e.checkAssertions(t, reqs)
			}
		})
	}
}

// checkAssertions checks the client assertions as Entra ID wants them.
func (e *zEnv) checkAssertions(t *testing.T, reqs []oidctest.TokenRequest) {
	t.Helper()
	s1, s256 := sha1.Sum(e.cert.Raw), sha256.Sum256(e.cert.Raw)
	enc := base64.RawURLEncoding
	jtis := map[any]bool{}
	for _, r := range reqs {
		h, c := r.AssertionHeader, r.AssertionClaims
		if r.AssertionType != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || h["alg"] != "PS256" ||
			h["x5t"] != enc.EncodeToString(s1[:]) || h["x5t#S256"] != enc.EncodeToString(s256[:]) || h["kid"] != nil {
			t.Errorf("assertion type %q header %v", r.AssertionType, h)
		}
		if c["iss"] != zitadelClientID || c["sub"] != zitadelClientID || c["aud"] != e.p.TokenEndpoint() {
			t.Errorf("assertion claims %v, want iss = sub = %s and aud = %s", c, zitadelClientID, e.p.TokenEndpoint())
		}
		exp, _ := c["exp"].(float64)
		iat, _ := c["iat"].(float64)
		if exp-iat <= 0 || exp-iat > 300 {
			t.Errorf("assertion lives %v s, want at most 300", exp-iat)
		}
		if c["jti"] == nil || jtis[c["jti"]] {
			t.Errorf("jti %v missing or reused", c["jti"])
		}
		jtis[c["jti"]] = true
	}
}

// The provider refusing the PBX's own credentials is server_error and an
// ERROR log, whether the secret is wrong or discovery promised a method the
// client may not use.
func TestZitadelPBXCredentialsRefused(t *testing.T) {
	t.Run("wrong secret", func(t *testing.T) {
		e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic")
		tn, _ := e.store.Tenant(t.Context(), acmeID)
		tn.MS365.ClientSecret = "expired"
		e.setMicrosoft(t, acmeID, tn.MS365)
		wantRefused(t, e.signInAs(t, aliceAt()), "server_error")
		if r := e.p.TokenRequests(); len(r) != 1 || r[0].Error != "invalid_client" {
			t.Errorf("token requests %+v, want one refused with invalid_client", r)
		}
		if !strings.Contains(e.logs.String(), "level=ERROR") {
			t.Errorf("no ERROR log:\n%s", e.logs)
		}
	})
	t.Run("method the client may not use", func(t *testing.T) {
		e := newZitadelEnv(t, oidctest.Options{DiscoveryAuthMethods: []string{"client_secret_post"}}, "client_secret_basic")
		wantRefused(t, e.signInAs(t, aliceAt()), "server_error")
	})
}

func TestZitadelAccountMapping(t *testing.T) {
	for _, tc := range []struct {
		name string
		user func(u *oidctest.User)
		ok   bool
	}{
		{"verified email at UserInfo", func(*oidctest.User) {}, true},
		{"verified email in the ID token", func(u *oidctest.User) { u.EmailInIDToken = true }, true},
		{"email_verified false", func(u *oidctest.User) { u.EmailVerified = new(false) }, false},
		{"no email_verified", func(u *oidctest.User) { u.EmailVerified = nil }, false},
		{"UserInfo of another subject", func(u *oidctest.User) { u.UserInfoSubject = "sub-mallory" }, false},
		{"preferred_username alone", func(u *oidctest.User) { u.Email, u.EmailVerified = "", nil }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic")
			u := aliceAt()
			tc.user(&u)
			land := e.signInAs(t, u)
			if !tc.ok {
				wantRefused(t, land, "access_denied")
				return
			}
			e.exchange(t, land)
		})
	}
	t.Run("no UserInfo endpoint", func(t *testing.T) {
		e := newZitadelEnv(t, oidctest.Options{NoUserInfo: true}, "client_secret_basic")
		wantRefused(t, e.signInAs(t, aliceAt()), "access_denied")
		e.wantRefusedBecause(t, "no verified email")
	})
}

// A second account claiming a linked user's email, and a leaked flow token,
// at a standard provider.
func TestZitadelTakeover(t *testing.T) {
	e := newZitadelEnv(t, oidctest.Options{}, "client_secret_basic", func(c *pbxauth.Config) { c.RequireExchangeChallenge = true })
	verifier := strings.Repeat("z", 50)
	signIn := func(u oidctest.User) *url.URL {
		e.p.SetUser(u)
		next := e.startWith(t, map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL, "code_challenge": challengeOf(verifier)})
		issuer, _ := url.Parse(e.p.Issuer)
		for next.Host == issuer.Host {
			next = idpLocation(t, e.get(t, next.String()))
		}
		return location(t, e.get(t, next.String()))
	}
	land := signIn(aliceAt())
	if r := e.c.Do("POST", "/auth/sign_in/microsoft/token", map[string]any{"token": land.Query().Get("token")}); r.Status != 401 {
		t.Errorf("leaked token without its verifier: %d %s", r.Status, r.Body)
	}
	land = signIn(aliceAt())
	if r := e.c.Do("POST", "/auth/sign_in/microsoft/token", map[string]any{"token": land.Query().Get("token"), "code_verifier": verifier}); r.Status != 200 {
		t.Fatalf("exchange with the verifier: %d %s", r.Status, r.Body)
	}
	mallory := aliceAt()
	mallory.Subject, mallory.IDTokenClaims = "sub-mallory", map[string]any{"oid": "oid-mallory"}
	wantRefused(t, signIn(mallory), "access_denied")
	e.wantRefusedBecause(t, "linked to another Microsoft account")
}
