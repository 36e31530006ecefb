// Tests of Microsoft Entra ID sign-in against a real OIDC provider on
// loopback (github.com/oauth2-proxy/mockoidc): discovery, JWKS, the code
// exchange with PKCE and signed ID tokens, every redirect followed for real.

package pbxauth_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/fakeclock"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// The client application that receives callback_url redirects.
const (
	appOrigin     = "http://app.test:8080"
	msCallbackURL = appOrigin + "/signed-in?from=pbx"
)

// entraUser is an account at the test IdP. It adds Entra ID's claims (oid,
// xms_edov, acct), and bend may change the ID token the IdP signs (another
// nonce, audience...).
type entraUser struct {
	oid, sub, email, upn string
	// tid is the directory that issued the token (entraDirectory for an
	// account of the tenant's own directory), azp the authorized party;
	// "" leaves the claim out.
	tid, azp string
	// verified, edov and acct are the email_verified, xms_edov and acct
	// claims as JSON values; nil leaves a claim out.
	verified, edov, acct any
	// userInfo, when set, is the UserInfo answer, and the ID token then
	// carries no email.
	userInfo map[string]any
	bend     func(*mockoidc.IDTokenClaims)
}

type entraClaims struct {
	*mockoidc.IDTokenClaims
	OID               string `json:"oid,omitempty"`
	TID               string `json:"tid,omitempty"`
	AZP               string `json:"azp,omitempty"`
	Email             string `json:"email,omitempty"`
	EmailVerified     any    `json:"email_verified,omitempty"`
	EdOV              any    `json:"xms_edov,omitempty"`
	Acct              any    `json:"acct,omitempty"`
	PreferredUsername string `json:"preferred_username,omitempty"`
}

func (u *entraUser) ID() string { return u.sub }

func (u *entraUser) Userinfo([]string) ([]byte, error) {
	if u.userInfo != nil {
		return json.Marshal(u.userInfo)
	}
	ui := map[string]any{"sub": u.sub}
	if u.email != "" {
		ui["email"] = u.email
	}
	if u.verified != nil {
		ui["email_verified"] = u.verified
	}
	return json.Marshal(ui)
}

func (u *entraUser) Claims(_ []string, base *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	if u.bend != nil {
		u.bend(base)
	}
	c := &entraClaims{IDTokenClaims: base, OID: u.oid, TID: u.tid, AZP: u.azp, Email: u.email, EmailVerified: u.verified, EdOV: u.edov, Acct: u.acct, PreferredUsername: u.upn}
	if u.userInfo != nil {
		c.Email, c.EmailVerified, c.EdOV = "", nil, nil
	}
	return c, nil
}

// entraDirectory is the directory_id of the tenants' Microsoft settings.
const entraDirectory = "dir-test"

// alice is alice's Microsoft account in the tenant's directory, with a
// verified email.
func alice() *entraUser {
	return &entraUser{oid: "oid-alice", sub: "sub-alice", tid: entraDirectory, email: "alice@acme.example.test", upn: "alice@acme.example.test", verified: true}
}

// basicAuth completes mockoidc's client_secret_basic, which its discovery
// lists but its token endpoint does not read: the Authorization header's
// credentials (RFC 6749 §2.3.1, form-encoded) become the form fields it
// checks. It counts the requests that authenticated each way. mockoidc's
// own stores are not safe for concurrent use, so it also serves its
// requests one at a time (pbxauth's side of a race stays concurrent).
type basicAuth struct {
	basic, post atomic.Int32
	serial      sync.Mutex
}

func (b *basicAuth) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.serial.Lock()
		defer b.serial.Unlock()
		if r.URL.Path != mockoidc.TokenEndpoint {
			next.ServeHTTP(w, r)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		id, secret, ok := r.BasicAuth()
		switch {
		case ok && r.PostForm.Has("client_secret"):
			http.Error(w, `{"error":"invalid_request","error_description":"two client authentication methods"}`, http.StatusBadRequest)
			return
		case ok:
			b.basic.Add(1)
			id, _ = url.QueryUnescape(id)
			secret, _ = url.QueryUnescape(secret)
			r.Form.Set("client_id", id)
			r.Form.Set("client_secret", secret)
		case r.PostForm.Has("client_secret"):
			b.post.Add(1)
		}
		next.ServeHTTP(w, r)
	})
}

// events records what Config.OnEvent reports.
type events struct {
	mu   sync.Mutex
	list []pbxauth.Event
}

func (ev *events) add(_ context.Context, e pbxauth.Event) {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	ev.list = append(ev.list, e)
}

func (ev *events) kinds() []pbxauth.EventKind {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var k []pbxauth.EventKind
	for _, e := range ev.list {
		k = append(k, e.Kind)
	}
	return k
}

// lateHandler lets the test server start before the Auth exists, so that
// Config.PublicURL can name the server's real address.
type lateHandler struct{ h atomic.Value }

func (l *lateHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	l.h.Load().(http.Handler).ServeHTTP(w, r)
}

// msEnv is an Auth whose tenant acme signs in at a loopback IdP.
type msEnv struct {
	*env
	idp    *mockoidc.MockOIDC
	auths  *basicAuth
	events *events
	logs   *syncBuffer
	// host serves what the test server has outside the API's mount;
	// redirectURI is where the IdP sends the browser back.
	host        *lateHandler
	redirectURI string
	// api serves the Auth, made with cfg; restart replaces it.
	api *lateHandler
	cfg pbxauth.Config
}

func newMSEnv(t *testing.T, configure ...func(*pbxauth.Config)) *msEnv {
	t.Helper()
	idp, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	auths := &basicAuth{}
	if err := idp.AddMiddleware(auths.middleware); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := idp.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idp.Shutdown() })
	e := newMSBase(t, configure...)
	e.idp, e.auths = idp, auths
	e.enableMicrosoft(t, acmeID)
	return e
}

// newMSBase serves an Auth for Microsoft sign-in tests, before any IdP is
// set up: the caller points a tenant at one.
func newMSBase(t *testing.T, configure ...func(*pbxauth.Config)) *msEnv {
	t.Helper()
	st := memstore.New()
	seed(t, st)
	var h, host lateHandler
	host.h.Store(http.NotFoundHandler())
	c := apitest.Serve(t, &h, &host)
	// The IdPs sign with the real time, so the Auth's clock starts there.
	clk := fakeclock.At(time.Now().UTC())
	ev := &events{}
	logs := &syncBuffer{}
	cfg := pbxauth.Config{Store: st, Now: clk.Now, Argon2: cheap, PublicURL: c.URL + apitest.Prefix,
		CallbackOrigins: []string{appOrigin}, OnEvent: ev.add, Logger: slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), logs), nil)),
		InsecureCookies: true} // the test server is plain HTTP
	for _, f := range configure {
		f(&cfg)
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.h.Store(a.Handler())
	e := &msEnv{env: &env{auth: a, store: st, clock: clk, c: c}, events: ev, logs: logs,
		host: &host, redirectURI: cfg.MicrosoftRedirectURL, api: &h, cfg: cfg}
	if e.redirectURI == "" {
		e.redirectURI = cfg.PublicURL + "/auth/sign_in/microsoft/callback"
	}
	return e
}

// setMicrosoft sets a tenant's Microsoft settings.
func (e *msEnv) setMicrosoft(t *testing.T, tenantID string, m *store.MS365) {
	t.Helper()
	ctx := context.Background()
	tn, err := e.store.Tenant(ctx, tenantID)
	if err != nil {
		t.Fatal(err)
	}
	tn.MS365 = m
	if err := e.store.UpdateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
}

// enableMicrosoft points a tenant's Microsoft settings at the test IdP.
func (e *msEnv) enableMicrosoft(t *testing.T, tenantID string) {
	t.Helper()
	e.setMicrosoft(t, tenantID, &store.MS365{ApplicationID: e.idp.ClientID, ClientSecret: e.idp.ClientSecret,
		DirectoryID: entraDirectory, NationalCloud: "GLOBAL", Issuer: e.idp.Issuer()})
}

func (e *msEnv) addUser(t *testing.T, u store.User) {
	t.Helper()
	if u.Role == "" {
		u.Role = "StandardUser"
	}
	if err := e.store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
}

// start asks for the IdP URL of a token-mode sign-in.
func (e *msEnv) start(t *testing.T) *url.URL {
	t.Helper()
	return e.startWith(t, map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL})
}

// startWith asks for the IdP URL of a token-mode sign-in with body.
func (e *msEnv) startWith(t *testing.T, body map[string]any) *url.URL {
	t.Helper()
	r := e.c.Do("POST", "/auth/sign_in/microsoft", body)
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("sign_in/microsoft: %d %v %s", r.Status, r.Header, r.Body)
	}
	u, err := url.Parse(r.String("url"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// get sends a GET to an absolute URL with the test client (cookies kept,
// redirects not followed).
func (e *msEnv) get(t *testing.T, raw string) *apitest.Response {
	t.Helper()
	req, err := http.NewRequest("GET", raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return e.c.Send(req)
}

// location insists on a 302 of ours, which is never cached, and returns
// where it goes.
func location(t *testing.T, r *apitest.Response) *url.URL {
	t.Helper()
	if cc := r.Header.Get("Cache-Control"); r.Status == http.StatusFound && cc != "no-store" {
		t.Errorf("302 with Cache-Control %q", cc)
	}
	return idpLocation(t, r)
}

// idpLocation returns where a 302 (of the IdP) goes.
func idpLocation(t *testing.T, r *apitest.Response) *url.URL {
	t.Helper()
	if r.Status != http.StatusFound {
		t.Fatalf("want 302, got %d %s", r.Status, r.Body)
	}
	u, err := url.Parse(r.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// authorize follows the IdP URL as the account and returns the IdP's
// redirect to the callback, not yet followed.
func (e *msEnv) authorize(t *testing.T, idpURL *url.URL, account *entraUser) *url.URL {
	t.Helper()
	e.idp.QueueUser(account)
	cb := idpLocation(t, e.get(t, idpURL.String()))
	if cb.Scheme+"://"+cb.Host+cb.Path != e.redirectURI {
		t.Fatalf("IdP redirected to %s, want %s", cb, e.redirectURI)
	}
	return cb
}

// signInAs runs a token-mode sign-in to its end and returns where the
// browser lands (callback_url with token= or error=).
func (e *msEnv) signInAs(t *testing.T, account *entraUser) *url.URL {
	t.Helper()
	return location(t, e.get(t, e.authorize(t, e.start(t), account).String()))
}

// exchange trades the landing's flow token for a token pair and returns the
// access token.
func (e *msEnv) exchange(t *testing.T, land *url.URL) string {
	t.Helper()
	tok := land.Query().Get("token")
	if tok == "" {
		t.Fatalf("landed on %s without a token", land)
	}
	r := e.c.Do("POST", "/auth/sign_in/microsoft/token", map[string]any{"token": tok})
	if r.Status != 200 || r.String("token_type") != "Bearer" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("token exchange: %d %s", r.Status, r.Body)
	}
	return r.String("access_token")
}

// wantRefused checks a landing on callback_url with the error and no token.
func wantRefused(t *testing.T, land *url.URL, code string) {
	t.Helper()
	q := land.Query()
	if land.Scheme+"://"+land.Host != appOrigin || land.Path != "/signed-in" || q.Get("from") != "pbx" {
		t.Errorf("landed on %s, want %s", land, msCallbackURL)
	}
	if q.Get("error") != code || q.Has("token") {
		t.Errorf("landed on %s, want error=%s and no token", land, code)
	}
}

func TestMicrosoftTokenFlow(t *testing.T) { eachStateMode(t, testMicrosoftTokenFlow) }

func testMicrosoftTokenFlow(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	land := e.signInAs(t, alice())
	if land.Scheme+"://"+land.Host+land.Path != appOrigin+"/signed-in" || land.Query().Get("from") != "pbx" || land.Query().Has("error") {
		t.Fatalf("landed on %s", land)
	}
	access := e.exchange(t, land)
	u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...)
	if u.Status != 200 || u.String("role") != "Admin" || u.JSON()["password_verified"] != false {
		t.Fatalf("/auth/user: %d %s", u.Status, u.Body)
	}
	if id, err := e.store.IdentityUser(context.Background(), acmeID, e.idp.Issuer(), "oid:oid-alice"); err != nil || id != aliceID {
		t.Errorf("link: %q %v", id, err)
	}
	if k := e.events.kinds(); len(k) != 1 || k[0] != pbxauth.EventMicrosoftSignIn {
		t.Errorf("events %v", k)
	}
}

func TestMicrosoftPasswordNotVerifiedSurvivesRefresh(t *testing.T) {
	e := newMSEnv(t)
	land := e.signInAs(t, alice())
	r := e.c.Do("POST", "/auth/sign_in/microsoft/token", map[string]any{"token": land.Query().Get("token")})
	n := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": r.String("refresh_token")})
	if n.Status != 200 {
		t.Fatalf("refresh: %d %s", n.Status, n.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(n.String("access_token"))...); u.JSON()["password_verified"] != false {
		t.Errorf("/auth/user after refresh: %s", u.Body)
	}
}

func TestMicrosoftAuthorizeURL(t *testing.T) {
	e := newMSEnv(t)
	u := e.start(t)
	if got := u.Scheme + "://" + u.Host + u.Path; got != e.idp.AuthorizationEndpoint() {
		t.Errorf("authorize at %s, want the discovered %s", got, e.idp.AuthorizationEndpoint())
	}
	q := u.Query()
	for k, want := range map[string]string{
		"code_challenge_method": "S256",
		"redirect_uri":          e.c.URL + apitest.Prefix + "/auth/sign_in/microsoft/callback",
		"client_id":             e.idp.ClientID,
		"response_type":         "code",
		"scope":                 "openid profile email",
	} {
		if q.Get(k) != want {
			t.Errorf("%s = %q, want %q", k, q.Get(k), want)
		}
	}
	for _, k := range []string{"code_challenge", "state", "nonce"} {
		if len(q.Get(k)) < 43 {
			t.Errorf("%s = %q, want at least 256 bits", k, q.Get(k))
		}
	}
	if strings.Contains(u.RawQuery, "client_secret") || strings.Contains(u.RawQuery, e.idp.ClientSecret) {
		t.Error("the client secret is in the URL")
	}
	v := e.start(t).Query()
	for _, k := range []string{"code_challenge", "state", "nonce"} {
		if v.Get(k) == q.Get(k) {
			t.Errorf("two sign-ins share the %s", k)
		}
	}
}

func TestMicrosoftInfo(t *testing.T) {
	e := newMSEnv(t)
	r := e.c.Do("GET", "/info?domain="+acmeDomain, nil)
	if r.JSON()["enable_ms365_integration"] != true || r.String("ms365_authorization_endpoint") != e.idp.AuthorizationEndpoint() {
		t.Errorf("/info acme: %s", r.Body)
	}
	r = e.c.Do("GET", "/info?domain=other.example.test", nil)
	if r.JSON()["enable_ms365_integration"] != false || r.JSON()["ms365_authorization_endpoint"] != nil {
		t.Errorf("/info other: %s", r.Body)
	}
}

func TestMicrosoftStartRefused(t *testing.T) {
	e := newMSEnv(t)
	for _, tc := range []struct {
		name, provider string
		body           map[string]any
		status         int
		code           string
	}{
		{"other provider", "google", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}, 404, "NOT_FOUND"},
		{"provider in another case", "Microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}, 404, "NOT_FOUND"},
		{"tenant without Microsoft", "microsoft", map[string]any{"domain": "other.example.test", "callback_url": msCallbackURL}, 400, "INVALID_ARGUMENT"},
		{"unknown domain", "microsoft", map[string]any{"domain": "nowhere.example.test", "callback_url": msCallbackURL}, 404, "NOT_FOUND"},
		{"callback off the allowlist", "microsoft", map[string]any{"domain": acmeDomain, "callback_url": "https://evil.example/cb"}, 400, "INVALID_ARGUMENT"},
		{"callback on another port", "microsoft", map[string]any{"domain": acmeDomain, "callback_url": "http://app.test:8081/cb"}, 400, "INVALID_ARGUMENT"},
		{"no callback", "microsoft", map[string]any{"domain": acmeDomain}, 400, "INVALID_ARGUMENT"},
		{"no domain", "microsoft", map[string]any{"callback_url": msCallbackURL}, 400, "INVALID_ARGUMENT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.c.Do("POST", "/auth/sign_in/"+tc.provider, tc.body)
			if r.Status != tc.status || r.Code() != tc.code {
				t.Errorf("%d %s, want %d %s", r.Status, r.Body, tc.status, tc.code)
			}
		})
	}
}

func TestMicrosoftStateRefused(t *testing.T) { eachStateMode(t, testMicrosoftStateRefused) }

func testMicrosoftStateRefused(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	cbPath := "/auth/sign_in/microsoft/callback"
	wantBadState := func(t *testing.T, r *apitest.Response) {
		t.Helper()
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || r.Header.Get("Location") != "" {
			t.Errorf("want a JSON 400, got %d %v %s", r.Status, r.Header, r.Body)
		}
	}
	t.Run("replayed", func(t *testing.T) {
		cb := e.authorize(t, e.start(t), alice())
		e.exchange(t, location(t, e.get(t, cb.String())))
		wantBadState(t, e.get(t, cb.String()))
	})
	t.Run("wrong", func(t *testing.T) {
		cb := e.authorize(t, e.start(t), alice())
		q := cb.Query()
		q.Set("state", q.Get("state")+"x")
		cb.RawQuery = q.Encode()
		wantBadState(t, e.get(t, cb.String()))
	})
	t.Run("missing", func(t *testing.T) {
		wantBadState(t, e.c.Do("GET", cbPath+"?code=abc", nil))
		wantBadState(t, e.c.Do("GET", cbPath, nil))
	})
	t.Run("expired", func(t *testing.T) {
		cb := e.authorize(t, e.start(t), alice())
		e.clock.Advance(10*time.Minute + time.Second)
		wantBadState(t, e.get(t, cb.String()))
	})
}

func TestMicrosoftStateRace(t *testing.T) { eachStateMode(t, testMicrosoftStateRace) }

func testMicrosoftStateRace(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	cb := e.authorize(t, e.start(t), alice()).String()
	const n = 8
	var wg sync.WaitGroup
	statuses := make(chan int, n)
	for range n {
		wg.Go(func() {
			resp, err := e.c.HTTP.Get(cb)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusFound && !strings.Contains(resp.Header.Get("Location"), "token=") {
				t.Errorf("a racer was refused by redirect: %s", resp.Header.Get("Location"))
			}
			statuses <- resp.StatusCode
		})
	}
	wg.Wait()
	close(statuses)
	count := map[int]int{}
	for s := range statuses {
		count[s]++
	}
	if count[http.StatusFound] != 1 || count[http.StatusBadRequest] != n-1 {
		t.Errorf("statuses %v, want one 302 and %d 400", count, n-1)
	}
}

func TestMicrosoftIDTokenRefused(t *testing.T) {
	e := newMSEnv(t)
	for _, tc := range []struct {
		name string
		bend func(*mockoidc.IDTokenClaims)
	}{
		{"another nonce", func(c *mockoidc.IDTokenClaims) { c.Nonce = "a-nonce-of-another-sign-in" }},
		{"another aud", func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings{"another-application"} }},
		{"another iss", func(c *mockoidc.IDTokenClaims) {
			c.Issuer = "https://login.microsoftonline.com/another-directory/v2.0"
		}},
		{"expired", func(c *mockoidc.IDTokenClaims) {
			past := time.Now().Add(-time.Hour)
			c.IssuedAt, c.NotBefore = jwt.NewNumericDate(past), jwt.NewNumericDate(past)
			c.ExpiresAt = jwt.NewNumericDate(past.Add(10 * time.Minute))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			acct := alice()
			acct.bend = tc.bend
			wantRefused(t, e.signInAs(t, acct), "access_denied")
		})
	}
	e.wantUnlinked(t, alice())
	for _, k := range e.events.kinds() {
		if k != pbxauth.EventMicrosoftSignInBad {
			t.Errorf("event %s", k)
		}
	}
}

// A code redeemed without the verifier that matches its challenge is refused
// by the IdP: PKCE is really in force end to end.
func TestMicrosoftPKCEBound(t *testing.T) {
	e := newMSEnv(t)
	u := e.start(t)
	q := u.Query()
	q.Set("code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM") // a challenge of another verifier
	u.RawQuery = q.Encode()
	wantRefused(t, location(t, e.get(t, e.authorize(t, u, alice()).String())), "access_denied")
}

func TestMicrosoftIdPError(t *testing.T) { eachStateMode(t, testMicrosoftIdPError) }

func testMicrosoftIdPError(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	for idpCode, want := range map[string]string{
		"consent_required": "consent_required",
		"<script>":         "access_denied",
	} {
		state := e.start(t).Query().Get("state")
		r := e.c.Do("GET", "/auth/sign_in/microsoft/callback?"+url.Values{
			"error": {idpCode}, "error_description": {"AADSTS65001: no consent"}, "state": {state},
		}.Encode(), nil)
		wantRefused(t, location(t, r), want)
	}
}

// newMappingEnv is an msEnv with more users: two sharing an address, and
// one in another tenant.
func newMappingEnv(t *testing.T, configure ...func(*pbxauth.Config)) *msEnv {
	t.Helper()
	e := newMSEnv(t, configure...)
	e.addUser(t, store.User{ID: "user-s1", TenantID: acmeID, Username: "s1", Email: "shared@acme.example.test"})
	e.addUser(t, store.User{ID: "user-s2", TenantID: acmeID, Username: "s2", Email: "Shared@acme.example.test"})
	e.addUser(t, store.User{ID: "user-carol", TenantID: otherID, Username: "carol", Email: "carol@other.example.test"})
	// Links are per tenant; a link of acme's to another tenant's user can
	// only come from a store gone wrong, and is refused all the same.
	if err := e.store.LinkIdentity(context.Background(), store.Identity{TenantID: acmeID, Issuer: e.idp.Issuer(), Subject: "oid:oid-linked-elsewhere", UserID: "user-alice-other"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestMicrosoftAccountMapping(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		account *entraUser
		user    string // the user signed in, "" for access_denied
	}{
		{"email in another case", &entraUser{oid: "o1", sub: "s1", email: "ALICE@Acme.Example.Test", verified: true}, aliceID},
		{"verified by xms_edov", &entraUser{oid: "o2", sub: "s2", tid: entraDirectory, email: "alice@acme.example.test", edov: true}, aliceID},
		{"sub when there is no oid", &entraUser{sub: "s3", email: "alice@acme.example.test", verified: true}, aliceID},
		{"no matching user", &entraUser{oid: "o4", sub: "s4", email: "nobody@acme.example.test", upn: "nobody@acme.example.test", verified: true}, ""},
		{"no address at all", &entraUser{oid: "o5", sub: "s5"}, ""},
		{"two matching users", &entraUser{oid: "o6", sub: "s6", email: "shared@acme.example.test", verified: true}, ""},
		{"disabled user", &entraUser{oid: "o8", sub: "s8", email: "dave@acme.example.test", verified: true}, ""},
		{"user of another tenant", &entraUser{oid: "o9", sub: "s9", email: "carol@other.example.test", verified: true}, ""},
		{"linked to a user of another tenant", &entraUser{oid: "oid-linked-elsewhere", sub: "s10", tid: entraDirectory, email: "alice@acme.example.test", verified: true}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMappingEnv(t)
			land := e.signInAs(t, tc.account)
			linked, _ := e.store.IdentityUser(ctx, acmeID, e.idp.Issuer(), tc.account.linkKey())
			if tc.user == "" {
				wantRefused(t, land, "access_denied")
				if linked != "" && linked != "user-alice-other" {
					t.Errorf("refused account linked to %s", linked)
				}
				return
			}
			access := e.exchange(t, land)
			if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 200 || u.String("role") != "Admin" {
				t.Errorf("/auth/user: %d %s", u.Status, u.Body)
			}
			if linked != tc.user {
				t.Errorf("linked to %q, want %q", linked, tc.user)
			}
		})
	}
}

// After the first sign-in the account is known by its oid: a new mailbox at
// Microsoft, even one that another user's email matches, still signs in the
// same user.
func TestMicrosoftEmailChangeKeepsUser(t *testing.T) {
	e := newMSEnv(t)
	e.addUser(t, store.User{ID: "user-bob", TenantID: acmeID, Username: "bob", Email: "alice.new@acme.example.test"})
	e.exchange(t, e.signInAs(t, alice()))

	moved := alice()
	moved.email, moved.upn = "alice.new@acme.example.test", "alice.new@acme.example.test"
	access := e.exchange(t, e.signInAs(t, moved))
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("role") != "Admin" {
		t.Errorf("signed in as %s, want alice (Admin)", u.Body)
	}
	if id, _ := e.store.IdentityUser(context.Background(), acmeID, e.idp.Issuer(), "oid:oid-alice"); id != aliceID {
		t.Errorf("link now %q", id)
	}
}

func TestMicrosoftExchangeToken(t *testing.T) {
	exchange := func(e *msEnv, tok string) *apitest.Response {
		return e.c.Do("POST", "/auth/sign_in/microsoft/token", map[string]any{"token": tok})
	}
	t.Run("used twice", func(t *testing.T) {
		e := newMSEnv(t)
		land := e.signInAs(t, alice())
		e.exchange(t, land)
		if r := exchange(e, land.Query().Get("token")); r.Status != 401 || r.Code() != "UNAUTHORIZED" {
			t.Errorf("second use: %d %s", r.Status, r.Body)
		}
	})
	t.Run("expired", func(t *testing.T) {
		e := newMSEnv(t)
		land := e.signInAs(t, alice())
		e.clock.Advance(10*time.Minute + time.Second)
		if r := exchange(e, land.Query().Get("token")); r.Status != 401 {
			t.Errorf("expired: %d %s", r.Status, r.Body)
		}
	})
	t.Run("not a bearer token", func(t *testing.T) {
		e := newMSEnv(t)
		land := e.signInAs(t, alice())
		if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(land.Query().Get("token"))...); r.Status != 401 {
			t.Errorf("flow token as bearer: %d", r.Status)
		}
		e.exchange(t, land) // and it still works once
	})
	t.Run("user disabled meanwhile", func(t *testing.T) {
		e := newMSEnv(t)
		land := e.signInAs(t, alice())
		u, _ := e.store.User(context.Background(), aliceID)
		u.Disabled = true
		if err := e.store.UpdateUser(context.Background(), u); err != nil {
			t.Fatal(err)
		}
		if r := exchange(e, land.Query().Get("token")); r.Status != 401 {
			t.Errorf("disabled: %d %s", r.Status, r.Body)
		}
	})
	t.Run("malformed", func(t *testing.T) {
		e := newMSEnv(t)
		if r := exchange(e, ""); r.Status != 400 {
			t.Errorf("empty token: %d", r.Status)
		}
		if r := e.c.Do("POST", "/auth/sign_in/microsoft/token", "token=x", "Content-Type", "application/x-www-form-urlencoded"); r.Status != 415 {
			t.Errorf("form body: %d", r.Status)
		}
	})
}

func TestLoginByMicrosoftForm(t *testing.T) { eachStateMode(t, testLoginByMicrosoftForm) }

func testLoginByMicrosoftForm(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	form := func(body string, ct ...string) *apitest.Response {
		h := []string{"Content-Type", "application/x-www-form-urlencoded"}
		if len(ct) > 0 {
			h = ct
		}
		return e.c.Do("POST", "/login/by_microsoft", body, h...)
	}
	r := form("domain=" + acmeDomain)
	u := location(t, r)
	if u.Scheme+"://"+u.Host+u.Path != e.idp.AuthorizationEndpoint() || u.Query().Get("code_challenge_method") != "S256" {
		t.Errorf("redirected to %s", u)
	}
	if c := stateCookie(t, r); c == nil || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.Secure || c.MaxAge != 600 {
		t.Errorf("state cookie %+v", c)
	}
	secure := newMSEnv(t, mode, func(c *pbxauth.Config) { c.InsecureCookies = false })
	r = secure.c.Do("POST", "/login/by_microsoft", "domain="+acmeDomain, "Content-Type", "application/x-www-form-urlencoded")
	if c := stateCookie(t, r); c == nil || !c.Secure || !strings.HasPrefix(c.Name, "__Host-") || c.Path != "/" {
		t.Errorf("state cookie without InsecureCookies %+v", c)
	}
	for _, tc := range []struct {
		name, body, ct string
		status         int
	}{
		{"JSON", `{"domain":"` + acmeDomain + `"}`, "application/json", 415},
		{"no Content-Type", "domain=" + acmeDomain, "", 415},
		{"too large", "domain=" + strings.Repeat("a", 70<<10), "application/x-www-form-urlencoded", 413},
		{"no domain", "x=1", "application/x-www-form-urlencoded", 400},
		{"domain twice", "domain=" + acmeDomain + "&domain=other.example.test", "application/x-www-form-urlencoded", 400},
		{"unknown domain", "domain=nowhere.example.test", "application/x-www-form-urlencoded", 404},
		{"tenant without Microsoft", "domain=other.example.test", "application/x-www-form-urlencoded", 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := form(tc.body, "Content-Type", tc.ct); r.Status != tc.status {
				t.Errorf("%d %s, want %d", r.Status, r.Body, tc.status)
			}
		})
	}
	t.Run("cross-origin", func(t *testing.T) {
		r := form("domain="+acmeDomain, "Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "cross-site")
		if r.Status != 403 || r.Code() != "FORBIDDEN" || stateCookie(t, r) != nil {
			t.Errorf("cross-site form: %d %s", r.Status, r.Body)
		}
	})
}

// stateCookie returns the cookie that binds a cookie-mode state, or nil.
func stateCookie(t *testing.T, r *apitest.Response) *http.Cookie {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if strings.HasSuffix(c.Name, "pbxauth_ms") {
			return c
		}
	}
	return nil
}

// loginByMicrosoft posts the sign-in page's form and follows the IdP as the
// account; it returns where the browser lands and the callback's answer.
func (e *msEnv) loginByMicrosoft(t *testing.T, account *entraUser) (*url.URL, *apitest.Response) {
	t.Helper()
	r := e.c.Do("POST", "/login/by_microsoft", "domain="+acmeDomain, "Content-Type", "application/x-www-form-urlencoded")
	cb := e.get(t, e.authorize(t, location(t, r), account).String())
	return location(t, cb), cb
}

func TestMicrosoftCookieFlow(t *testing.T) { eachStateMode(t, testMicrosoftCookieFlow) }

func testMicrosoftCookieFlow(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode, func(c *pbxauth.Config) { c.LoginRedirect = "/app/?lang=en" })
	land, cb := e.loginByMicrosoft(t, alice())
	if land.String() != "/app/?lang=en" {
		t.Fatalf("landed on %s", land)
	}
	if sessionCookie(t, cb) == nil {
		t.Fatal("the callback set no session cookie")
	}
	if c := stateCookie(t, cb); c == nil || c.MaxAge >= 0 {
		t.Errorf("the state cookie was not deleted: %+v", c)
	}
	s := e.c.Do("GET", "/login", nil)
	if s.Status != 200 || s.String("role") != "Admin" || s.String("access_token") == "" {
		t.Fatalf("GET /login: %d %s", s.Status, s.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(s.String("access_token"))...); u.Status != 200 || u.JSON()["password_verified"] != false {
		t.Errorf("/auth/user: %d %s", u.Status, u.Body)
	}
	if k := e.events.kinds(); len(k) != 1 || k[0] != pbxauth.EventMicrosoftSignIn {
		t.Errorf("events %v", k)
	}
	if r := e.c.Do("POST", "/logout", nil); r.Status != 204 {
		t.Fatalf("logout: %d", r.Status)
	}
	if r := e.c.Do("GET", "/login", nil); r.Status != 401 {
		t.Errorf("GET /login after logout: %d", r.Status)
	}
}

func TestMicrosoftCookieFlowRefused(t *testing.T) { eachStateMode(t, testMicrosoftCookieFlowRefused) }

func testMicrosoftCookieFlowRefused(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	land, cb := e.loginByMicrosoft(t, &entraUser{oid: "o-nobody", sub: "s-nobody", email: "nobody@acme.example.test", verified: true})
	if land.String() != "/?error=access_denied" || sessionCookie(t, cb) != nil {
		t.Errorf("landed on %s, session cookie %v", land, sessionCookie(t, cb))
	}
	if r := e.c.Do("GET", "/login", nil); r.Status != 401 {
		t.Errorf("GET /login: %d %s", r.Status, r.Body)
	}
}

// A cookie-mode callback link opened in another browser (login CSRF: the
// attacker's own sign-in, sent to a victim) does not sign that browser in:
// without the state cookie, the callback is a JSON 400.
func TestMicrosoftCookieModeBoundToBrowser(t *testing.T) {
	eachStateMode(t, testMicrosoftCookieModeBoundToBrowser)
}

func testMicrosoftCookieModeBoundToBrowser(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	r := e.c.Do("POST", "/login/by_microsoft", "domain="+acmeDomain, "Content-Type", "application/x-www-form-urlencoded")
	cb := e.authorize(t, location(t, r), alice())
	victim := apitest.NewClient(t, e.c.URL)
	req, _ := http.NewRequest("GET", cb.String(), nil)
	if r := victim.Send(req); r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || sessionCookie(t, r) != nil {
		t.Errorf("victim's callback: %d %s", r.Status, r.Body)
	}
}

// countingTransport counts discovery fetches and can make the IdP unreachable.
type countingTransport struct {
	discoveries atomic.Int32
	down        atomic.Bool
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if c.down.Load() {
		return nil, errors.New("network unreachable")
	}
	if strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
		c.discoveries.Add(1)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func TestMicrosoftProviderCache(t *testing.T) {
	tr := &countingTransport{}
	e := newMSEnv(t, func(c *pbxauth.Config) { c.HTTPClient = &http.Client{Transport: tr} })
	endpoint := func() string {
		return e.c.Do("GET", "/info?domain="+acmeDomain, nil).String("ms365_authorization_endpoint")
	}

	tr.down.Store(true)
	if ep := endpoint(); ep != "" {
		t.Errorf("endpoint %q while the IdP is down", ep)
	}
	if r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}); r.Status != 503 || r.Code() != "UNAVAILABLE" {
		t.Errorf("sign-in while the IdP is down: %d %s", r.Status, r.Body)
	}
	tr.down.Store(false)
	if ep := endpoint(); ep != "" {
		t.Errorf("endpoint %q at once: a failed discovery is remembered for 30 seconds", ep)
	}
	e.clock.Advance(30 * time.Second)
	for range 2 {
		if endpoint() == "" {
			t.Fatal("no endpoint 30 seconds after the IdP is back")
		}
	}
	e.exchange(t, e.signInAs(t, alice())) // the injected client serves the whole flow
	if n := tr.discoveries.Load(); n != 1 {
		t.Errorf("%d discoveries, want 1", n)
	}
	e.clock.Advance(time.Hour)
	endpoint()
	if n := tr.discoveries.Load(); n != 2 {
		t.Errorf("%d discoveries after an hour, want 2", n)
	}
}

// brokenLookups fails the store calls named in broken, as a database that
// went away would.
type brokenLookups struct {
	store.Store
	broken sync.Map // method name -> true
}

var errDatabaseGone = errors.New("connection refused: secret-dsn-detail")

func (b *brokenLookups) ConsumeFlow(ctx context.Context, h store.Hash, p store.FlowPurpose, now time.Time) (store.Flow, error) {
	if _, ok := b.broken.Load("ConsumeFlow"); ok {
		return store.Flow{}, errDatabaseGone
	}
	return b.Store.ConsumeFlow(ctx, h, p, now)
}

func (b *brokenLookups) UseOnce(ctx context.Context, purpose string, id [16]byte, expiresAt time.Time) error {
	if _, ok := b.broken.Load("UseOnce"); ok {
		return errDatabaseGone
	}
	return b.Store.UseOnce(ctx, purpose, id, expiresAt)
}

func (b *brokenLookups) UsersByEmail(ctx context.Context, tenantID, email string) ([]store.User, error) {
	if _, ok := b.broken.Load("UsersByEmail"); ok {
		return nil, errDatabaseGone
	}
	return b.Store.UsersByEmail(ctx, tenantID, email)
}

func TestMicrosoftBackendFailure(t *testing.T) {
	t.Run("sealed", func(t *testing.T) { testMicrosoftBackendFailure(t, withKeys, "UseOnce") })
	t.Run("stored", func(t *testing.T) { testMicrosoftBackendFailure(t, noKeys, "ConsumeFlow") })
}

// testMicrosoftBackendFailure: spend names the Store call that spends a
// state in mode.
func testMicrosoftBackendFailure(t *testing.T, mode func(*pbxauth.Config), spend string) {
	var st *brokenLookups
	e := newMSEnv(t, mode, func(c *pbxauth.Config) { st = &brokenLookups{Store: c.Store}; c.Store = st; c.VolatileMail = true })

	// After a live state the browser still has somewhere to go.
	st.broken.Store("UsersByEmail", true)
	wantRefused(t, e.signInAs(t, alice()), "server_error")
	st.broken.Delete("UsersByEmail")

	// Before it, there is only the JSON error, without details.
	cb := e.authorize(t, e.start(t), alice())
	st.broken.Store(spend, true)
	r := e.get(t, cb.String())
	if r.Status != 500 || r.Code() != "INTERNAL" || strings.Contains(string(r.Body), "secret") {
		t.Errorf("callback with the store down: %d %s", r.Status, r.Body)
	}
	st.broken.Delete(spend)
	e.exchange(t, location(t, e.get(t, cb.String()))) // the state survived the outage
}
