package oidctest_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"math/big"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/internal/oidctest"
)

const (
	redirectURI   = "https://pbx.example.com/callback"
	assertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
)

// certKey is a client's self-signed certificate and its key, as a tenant would
// upload them for private_key_jwt.
type certKey struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

func newCertKey(t *testing.T) certKey {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "pbxauth test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return certKey{key: key, cert: cert}
}

// assertion builds a client assertion the way Entra ID expects it (RFC 7523):
// PS256, x5t#S256 and x5t, no kid, iss = sub = client ID, a fresh jti.
func (ck certKey) assertion(t *testing.T, clientID, aud string) string {
	t.Helper()
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodPS256, jwt.MapClaims{
		"iss": clientID,
		"sub": clientID,
		"aud": aud,
		"jti": rand.Text(),
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(5 * time.Minute).Unix(),
	})
	s1 := sha1.Sum(ck.cert.Raw)
	s256 := sha256.Sum256(ck.cert.Raw)
	tok.Header["x5t"] = base64.RawURLEncoding.EncodeToString(s1[:])
	tok.Header["x5t#S256"] = base64.RawURLEncoding.EncodeToString(s256[:])
	signed, err := tok.SignedString(ck.key)
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// flow is one relying party of the provider.
type flow struct {
	p        *oidctest.Provider
	provider *oidc.Provider
	config   oauth2.Config
}

func newFlow(t *testing.T, p *oidctest.Provider, c oidctest.Client, style oauth2.AuthStyle) *flow {
	t.Helper()
	provider, err := oidc.NewProvider(t.Context(), p.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	endpoint := provider.Endpoint()
	endpoint.AuthStyle = style
	return &flow{p: p, provider: provider, config: oauth2.Config{
		ClientID:     c.ID,
		ClientSecret: c.Secret,
		Endpoint:     endpoint,
		RedirectURL:  redirectURI,
		Scopes:       []string{oidc.ScopeOpenID, "profile", "email"},
	}}
}

// authorize walks authorize → login → callback without following the last
// redirect and returns the code, the PKCE verifier and the nonce it used.
func (f *flow) authorize(t *testing.T) (code, verifier, nonce string) {
	t.Helper()
	cb, verifier, nonce := f.authorizationResponse(t)
	return cb.Get("code"), verifier, nonce
}

// authorizationResponse walks authorize → login → callback without following
// the last redirect and returns the callback's query, the PKCE verifier and
// the nonce it used.
func (f *flow) authorizationResponse(t *testing.T) (cb url.Values, verifier, nonce string) {
	t.Helper()
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	next := f.config.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier))
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	for range 5 {
		resp, err := client.Get(next)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusFound {
			t.Fatalf("GET %s: %s", next, resp.Status)
		}
		next = resp.Header.Get("Location")
		if !strings.HasPrefix(next, redirectURI+"?") {
			continue
		}
		u, err := url.Parse(next)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("state") != state || q.Get("code") == "" {
			t.Fatalf("callback %s: want state %q and a code", next, state)
		}
		return q, verifier, nonce
	}
	t.Fatalf("no callback after 5 redirects, last %s", next)
	return nil, "", ""
}

func (f *flow) exchange(t *testing.T, code, verifier string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	t.Helper()
	return f.config.Exchange(t.Context(), code, append(opts, oauth2.VerifierOption(verifier))...)
}

func withAssertion(a string) []oauth2.AuthCodeOption {
	return []oauth2.AuthCodeOption{
		oauth2.SetAuthURLParam("client_assertion_type", assertionType),
		oauth2.SetAuthURLParam("client_assertion", a),
	}
}

func lastTokenRequest(t *testing.T, p *oidctest.Provider) oidctest.TokenRequest {
	t.Helper()
	reqs := p.TokenRequests()
	if len(reqs) == 0 {
		t.Fatal("no token request recorded")
	}
	return reqs[len(reqs)-1]
}

func ptr[T any](v T) *T { return &v }

var testUser = oidctest.User{
	Subject:           "sub-alice",
	Email:             "alice@example.com",
	EmailVerified:     ptr(true),
	PreferredUsername: "alice@contoso.example",
	IDTokenClaims:     map[string]any{"oid": "oid-alice", "acct": 0},
}

// TestCodeFlow signs in with each client authentication method and checks the
// ID token with go-oidc and the email at UserInfo.
func TestCodeFlow(t *testing.T) {
	ck := newCertKey(t)
	cases := []struct {
		name   string
		client oidctest.Client
		style  oauth2.AuthStyle
		jwt    bool
	}{
		{"basic", oidctest.Client{ID: "app-basic", Secret: "s3cret", AuthMethod: "client_secret_basic"}, oauth2.AuthStyleInHeader, false},
		{"post", oidctest.Client{ID: "app-post", Secret: "s3cret", AuthMethod: "client_secret_post"}, oauth2.AuthStyleInParams, false},
		{"private_key_jwt", oidctest.Client{ID: "app-jwt", AuthMethod: "private_key_jwt", PublicKey: ck.key.Public()}, oauth2.AuthStyleInParams, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.client.RedirectURIs = []string{redirectURI}
			p := oidctest.Start(t, oidctest.Options{}, tc.client)
			p.SetUser(testUser)
			f := newFlow(t, p, tc.client, tc.style)

			code, verifier, nonce := f.authorize(t)
			var opts []oauth2.AuthCodeOption
			if tc.jwt {
				opts = withAssertion(ck.assertion(t, tc.client.ID, p.TokenEndpoint()))
			}
			tok, err := f.exchange(t, code, verifier, opts...)
			if err != nil {
				t.Fatal(err)
			}

			rec := lastTokenRequest(t, p)
			if rec.Status != http.StatusOK || rec.Error != "" || !rec.CodeVerifier {
				t.Errorf("recorded %+v, want 200 with a code_verifier", rec)
			}
			if rec.BasicAuth != (tc.style == oauth2.AuthStyleInHeader) || rec.FormSecret != (tc.style == oauth2.AuthStyleInParams && !tc.jwt) {
				t.Errorf("recorded basic=%v form secret=%v for %s", rec.BasicAuth, rec.FormSecret, tc.name)
			}
			if tc.jwt && (rec.AssertionType != assertionType || rec.AssertionHeader["alg"] != "PS256" ||
				rec.AssertionHeader["x5t#S256"] == nil || rec.AssertionClaims["aud"] != p.TokenEndpoint()) {
				t.Errorf("recorded assertion %q %v %v", rec.AssertionType, rec.AssertionHeader, rec.AssertionClaims)
			}

			raw, _ := tok.Extra("id_token").(string)
			idToken, err := f.provider.Verifier(&oidc.Config{ClientID: tc.client.ID}).Verify(t.Context(), raw)
			if err != nil {
				t.Fatal(err)
			}
			var claims map[string]any
			if err := idToken.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if idToken.Subject != testUser.Subject || idToken.Nonce != nonce || claims["oid"] != "oid-alice" || claims["acct"] != 0.0 {
				t.Errorf("ID token sub %q nonce %q claims %v", idToken.Subject, idToken.Nonce, claims)
			}
			if _, ok := claims["email"]; ok {
				t.Errorf("ID token has email %v although EmailInIDToken is false", claims["email"])
			}

			info, err := f.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
			if err != nil {
				t.Fatal(err)
			}
			if info.Subject != testUser.Subject || info.Email != testUser.Email || !info.EmailVerified {
				t.Errorf("UserInfo %+v", info)
			}
		})
	}
}

// TestUserClaims checks what EmailInIDToken, a false email_verified and
// UserInfoSubject put where.
func TestUserClaims(t *testing.T) {
	c := oidctest.Client{ID: "app", Secret: "s3cret", AuthMethod: "client_secret_basic", RedirectURIs: []string{redirectURI}}
	p := oidctest.Start(t, oidctest.Options{}, c)
	u := testUser
	u.EmailInIDToken = true
	u.EmailVerified = ptr(false)
	u.UserInfoSubject = "someone-else"
	p.SetUser(u)
	f := newFlow(t, p, c, oauth2.AuthStyleInHeader)

	code, verifier, _ := f.authorize(t)
	tok, err := f.exchange(t, code, verifier)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idToken, err := f.provider.Verifier(&oidc.Config{ClientID: c.ID}).Verify(t.Context(), raw)
	if err != nil {
		t.Fatal(err)
	}
	var claims map[string]any
	if err := idToken.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if claims["email"] != u.Email || claims["email_verified"] != false || claims["preferred_username"] != u.PreferredUsername {
		t.Errorf("ID token claims %v, want email, email_verified false and preferred_username", claims)
	}
	info, err := f.provider.UserInfo(t.Context(), oauth2.StaticTokenSource(tok))
	if err != nil {
		t.Fatal(err)
	}
	if info.Subject != "someone-else" || idToken.Subject != u.Subject {
		t.Errorf("UserInfo sub %q, ID token sub %q", info.Subject, idToken.Subject)
	}
}

// TestClientAuthRefused shows the provider's checks are real: each request
// below is refused by zitadel, and the recorder sees the refusal.
func TestClientAuthRefused(t *testing.T) {
	ck, other := newCertKey(t), newCertKey(t)
	basic := oidctest.Client{ID: "app-basic", Secret: "s3cret", AuthMethod: "client_secret_basic", RedirectURIs: []string{redirectURI}}
	post := oidctest.Client{ID: "app-post", Secret: "s3cret", AuthMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}
	jwtc := oidctest.Client{ID: "app-jwt", AuthMethod: "private_key_jwt", PublicKey: ck.key.Public(), RedirectURIs: []string{redirectURI}}
	p := oidctest.Start(t, oidctest.Options{}, basic, post, jwtc)
	p.SetUser(testUser)

	cases := []struct {
		name     string
		client   oidctest.Client
		style    oauth2.AuthStyle
		opts     func() []oauth2.AuthCodeOption
		verifier string // replaces the flow's PKCE verifier when set
		want     string
	}{
		{name: "basic client sends post", client: basic, style: oauth2.AuthStyleInParams, want: "invalid_client"},
		{name: "post client sends basic", client: post, style: oauth2.AuthStyleInHeader, want: "invalid_client"},
		{name: "wrong secret", client: oidctest.Client{ID: basic.ID, Secret: "wrong"}, style: oauth2.AuthStyleInHeader, want: "invalid_client"},
		{name: "secret for a private_key_jwt client", client: oidctest.Client{ID: jwtc.ID, Secret: "s3cret"}, style: oauth2.AuthStyleInParams, want: "invalid_client"},
		{name: "assertion for a secret client", client: oidctest.Client{ID: post.ID}, style: oauth2.AuthStyleInParams,
			opts: func() []oauth2.AuthCodeOption { return withAssertion(ck.assertion(t, post.ID, p.TokenEndpoint())) }, want: "invalid_client"},
		// zitadel answers a failed assertion check with invalid_grant.
		{name: "assertion with the issuer as audience", client: jwtc, style: oauth2.AuthStyleInParams,
			opts: func() []oauth2.AuthCodeOption { return withAssertion(ck.assertion(t, jwtc.ID, p.Issuer)) }, want: "invalid_grant"},
		{name: "assertion signed by another key", client: jwtc, style: oauth2.AuthStyleInParams,
			opts: func() []oauth2.AuthCodeOption { return withAssertion(other.assertion(t, jwtc.ID, p.TokenEndpoint())) }, want: "invalid_grant"},
		{name: "wrong PKCE verifier", client: basic, style: oauth2.AuthStyleInHeader, verifier: oauth2.GenerateVerifier(), want: "invalid_grant"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFlow(t, p, tc.client, tc.style)
			code, verifier, _ := f.authorize(t)
			if tc.verifier != "" {
				verifier = tc.verifier
			}
			var opts []oauth2.AuthCodeOption
			if tc.opts != nil {
				opts = tc.opts()
			}
			_, err := f.exchange(t, code, verifier, opts...)
			var re *oauth2.RetrieveError
			if !errors.As(err, &re) || re.ErrorCode != tc.want {
				t.Fatalf("exchange: %v, want %s", err, tc.want)
			}
			if rec := lastTokenRequest(t, p); rec.Error != tc.want || rec.Status == http.StatusOK {
				t.Errorf("recorded status %d error %q, want %s", rec.Status, rec.Error, tc.want)
			}
		})
	}
}

// TestAddClientKey: a secret client refuses an assertion as invalid_client
// until its key is added (a certificate uploaded); then both the
// assertion and the secret work, the code surviving a refused client.
func TestAddClientKey(t *testing.T) {
	ck := newCertKey(t)
	basic := oidctest.Client{ID: "app-basic", Secret: "s3cret", AuthMethod: "client_secret_basic", RedirectURIs: []string{redirectURI}}
	p := oidctest.Start(t, oidctest.Options{}, basic)
	p.SetUser(testUser)
	jwtFlow := newFlow(t, p, oidctest.Client{ID: basic.ID}, oauth2.AuthStyleInParams)
	secretFlow := newFlow(t, p, basic, oauth2.AuthStyleInHeader)

	code, verifier, _ := jwtFlow.authorize(t)
	_, err := jwtFlow.exchange(t, code, verifier, withAssertion(ck.assertion(t, basic.ID, p.TokenEndpoint()))...)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" {
		t.Fatalf("assertion before the key was added: %v, want invalid_client", err)
	}
	if _, err := secretFlow.exchange(t, code, verifier); err != nil {
		t.Fatalf("the secret, with the code a refused client sent: %v", err)
	}

	if err := p.AddClientKey(basic.ID, ck.key.Public()); err != nil {
		t.Fatal(err)
	}
	code, verifier, _ = jwtFlow.authorize(t)
	if _, err := jwtFlow.exchange(t, code, verifier, withAssertion(ck.assertion(t, basic.ID, p.TokenEndpoint()))...); err != nil {
		t.Fatalf("assertion after the key was added: %v", err)
	}
	code, verifier, _ = secretFlow.authorize(t)
	if _, err := secretFlow.exchange(t, code, verifier); err != nil {
		t.Fatalf("the secret after the key was added: %v", err)
	}
	if err := p.AddClientKey("app-nowhere", ck.key.Public()); err == nil {
		t.Error("AddClientKey of an unknown client succeeded")
	}
}

// TestConcurrentFlows runs sign-ins in parallel on one provider (run with -race).
func TestConcurrentFlows(t *testing.T) {
	c := oidctest.Client{ID: "app", Secret: "s3cret", AuthMethod: "client_secret_post", RedirectURIs: []string{redirectURI}}
	p := oidctest.Start(t, oidctest.Options{}, c)
	p.SetUser(testUser)
	f := newFlow(t, p, c, oauth2.AuthStyleInParams)

	const n = 10
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			code, verifier, _ := f.authorize(t)
			if _, err := f.exchange(t, code, verifier); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := len(p.TokenRequests()); got != n {
		t.Errorf("%d token requests recorded, want %d", got, n)
	}
}

// TestDiscoveryOptions checks the edits Options make to the discovery document.
func TestDiscoveryOptions(t *testing.T) {
	allMethods := []any{"none", "client_secret_basic", "client_secret_post", "private_key_jwt"}
	cases := []struct {
		name         string
		opts         oidctest.Options
		wantMethods  []any // nil: field absent
		wantUserInfo bool
		wantIss      any // authorization_response_iss_parameter_supported
	}{
		{"default", oidctest.Options{}, allMethods, true, nil},
		{"post only, no userinfo", oidctest.Options{DiscoveryAuthMethods: []string{"client_secret_post"}, NoUserInfo: true}, []any{"client_secret_post"}, false, nil},
		{"no methods", oidctest.Options{DiscoveryAuthMethods: []string{}}, nil, true, nil},
		{"iss parameter", oidctest.Options{IssParameterSupported: true}, allMethods, true, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := oidctest.Start(t, tc.opts)
			provider, err := oidc.NewProvider(t.Context(), p.Issuer)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := provider.Claims(&doc); err != nil {
				t.Fatal(err)
			}
			methods, _ := doc["token_endpoint_auth_methods_supported"].([]any)
			if !slices.Equal(methods, tc.wantMethods) {
				t.Errorf("token_endpoint_auth_methods_supported %v, want %v", methods, tc.wantMethods)
			}
			if _, ok := doc["userinfo_endpoint"]; ok != tc.wantUserInfo {
				t.Errorf("userinfo_endpoint present %v, want %v", ok, tc.wantUserInfo)
			}
			if doc["token_endpoint"] != p.TokenEndpoint() {
				t.Errorf("token_endpoint %v, want %s", doc["token_endpoint"], p.TokenEndpoint())
			}
			if got := doc["authorization_response_iss_parameter_supported"]; got != tc.wantIss {
				t.Errorf("authorization_response_iss_parameter_supported %v, want %v", got, tc.wantIss)
			}
		})
	}
}

// TestIssParameter checks the iss parameter of authorization responses: none
// by default, then whatever SetIssParameter says, and the code still works.
func TestIssParameter(t *testing.T) {
	c := oidctest.Client{ID: "app", Secret: "s3cret", AuthMethod: "client_secret_basic", RedirectURIs: []string{redirectURI}}
	p := oidctest.Start(t, oidctest.Options{IssParameterSupported: true}, c)
	p.SetUser(testUser)
	f := newFlow(t, p, c, oauth2.AuthStyleInHeader)
	for _, iss := range []string{"", p.Issuer, "https://forged.example", ""} {
		p.SetIssParameter(iss)
		cb, verifier, _ := f.authorizationResponse(t)
		if got, ok := cb["iss"]; iss == "" && ok || iss != "" && (len(got) != 1 || got[0] != iss) {
			t.Errorf("SetIssParameter(%q): callback iss %v", iss, got)
		}
		if _, err := f.exchange(t, cb.Get("code"), verifier); err != nil {
			t.Errorf("SetIssParameter(%q): exchange: %v", iss, err)
		}
	}
}
