// Attacks on Microsoft sign-in, run over HTTP as an attacker would run them
// against the loopback IdP: accounts whose email is not verified, a second
// account claiming a linked user's email, racing links, a leaked flow token
// without its verifier, and what the PBX's own misconfiguration looks like.

package pbxauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// refusals returns the Reason of every refused Microsoft sign-in event.
func (ev *events) refusals() []string {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var r []string
	for _, e := range ev.list {
		if e.Kind == pbxauth.EventMicrosoftSignInBad {
			r = append(r, e.Reason)
		}
	}
	return r
}

// wantRefusedBecause checks that the last refusal event gives why.
func (e *msEnv) wantRefusedBecause(t *testing.T, why string) {
	t.Helper()
	r := e.events.refusals()
	if len(r) == 0 || !strings.Contains(r[len(r)-1], why) {
		t.Errorf("refusal reasons %q, want the last to say %q", r, why)
	}
}

// An account whose email is not verified never becomes the user with that
// email — here an Admin who has a second factor, which the sign-in would
// skip (the "nOAuth" class).
func TestMicrosoftUnverifiedEmailTakeover(t *testing.T) {
	for _, tc := range []struct {
		name           string
		verified, edov any
	}{
		{"no email_verified", nil, nil},
		{"email_verified false", false, nil},
		{"email_verified as a string", "true", nil},
		{"email_verified as a number", 1, nil},
		{"xms_edov false", nil, false},
		{"xms_edov as a string", nil, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			u, _ := e.store.User(context.Background(), aliceID)
			u.TwoFactorEnabled = true
			if err := e.store.UpdateUser(context.Background(), u); err != nil {
				t.Fatal(err)
			}
			attacker := &entraUser{oid: "oid-mallory", sub: "sub-mallory", email: "alice@acme.example.test",
				upn: "mallory@mallory.example", verified: tc.verified, edov: tc.edov}
			wantRefused(t, e.signInAs(t, attacker), "access_denied")
			e.wantUnlinked(t, attacker)
			e.wantRefusedBecause(t, "not verified")
			// With the claim as Entra sends it, the same address signs in.
			e.exchange(t, e.signInAs(t, alice()))
		})
	}
}

// A second account that claims a linked user's (verified) email is refused;
// the rightful account keeps signing in.
func TestMicrosoftSecondAccountClaimsLinkedUser(t *testing.T) {
	e := newMSEnv(t)
	e.exchange(t, e.signInAs(t, alice()))
	second := &entraUser{oid: "oid-second", sub: "sub-second", email: "alice@acme.example.test", verified: true}
	wantRefused(t, e.signInAs(t, second), "access_denied")
	e.wantRefusedBecause(t, "linked to another Microsoft account")
	e.wantUnlinked(t, second)
	access := e.exchange(t, e.signInAs(t, alice()))
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("role") != "Admin" {
		t.Errorf("alice after the refusal: %s", u.Body)
	}
}

// Accounts racing for the first link of one user: exactly one wins.
func TestMicrosoftRaceToLinkOneUser(t *testing.T) {
	e := newMSEnv(t)
	const n = 10
	idpURLs := make([]*url.URL, n)
	for i := range idpURLs {
		idpURLs[i] = e.start(t)
	}
	lands := make([]*url.URL, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e.idp.QueueUser(&entraUser{oid: "oid-racer-" + string(rune('a'+i)), sub: "s", tid: entraDirectory, email: "alice@acme.example.test", verified: true})
			r, err := e.c.HTTP.Get(idpURLs[i].String())
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			r, err = e.c.HTTP.Get(r.Header.Get("Location"))
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			lands[i], _ = url.Parse(r.Header.Get("Location"))
		})
	}
	wg.Wait()
	won := 0
	for _, land := range lands {
		if land != nil && land.Query().Has("token") {
			won++
			e.exchange(t, land)
		} else if land == nil || land.Query().Get("error") != "access_denied" {
			t.Errorf("landed on %v", land)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d accounts signed in as alice, want exactly 1", won, n)
	}
}

// One directory may serve several tenants: the same account is linked in
// each, to that tenant's user.
func TestMicrosoftLinksPerTenant(t *testing.T) {
	e := newMSEnv(t)
	e.enableMicrosoft(t, otherID)
	ctx := context.Background()
	u, _ := e.store.User(ctx, "user-alice-other")
	u.Email = "alice@acme.example.test"
	if err := e.store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	roleIn := func(domain string) string {
		land := location(t, e.get(t, e.authorize(t, e.startWith(t, map[string]any{"domain": domain, "callback_url": msCallbackURL}), alice()).String()))
		return e.c.Do("GET", "/auth/user", nil, apitest.Bearer(e.exchange(t, land))...).String("role")
	}
	for _, step := range []struct{ domain, role string }{
		{acmeDomain, "Admin"}, {"other.example.test", "StandardUser"}, {acmeDomain, "Admin"}, {"other.example.test", "StandardUser"},
	} {
		if got := roleIn(step.domain); got != step.role {
			t.Errorf("signed in to %s as %q, want %q", step.domain, got, step.role)
		}
	}
	for tenant, user := range map[string]string{acmeID: aliceID, otherID: "user-alice-other"} {
		if id, err := e.store.IdentityUser(ctx, tenant, e.idp.Issuer(), "oid:oid-alice"); err != nil || id != user {
			t.Errorf("link in %s = %q, %v; want %s", tenant, id, err, user)
		}
	}
}

// challengeOf is the S256 code_challenge of verifier.
func challengeOf(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// The exchange is bound to the client that started the sign-in: a flow
// token leaked from the landing URL is worth nothing without the verifier,
// and a client is never signed in to a flow it did not start.
func TestMicrosoftExchangeBinding(t *testing.T) {
	verifier := strings.Repeat("v3rifier-", 6)
	startBound := func(t *testing.T, e *msEnv) string {
		t.Helper()
		u := e.startWith(t, map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL, "code_challenge": challengeOf(verifier)})
		land := location(t, e.get(t, e.authorize(t, u, alice()).String()))
		return land.Query().Get("token")
	}
	trade := func(e *msEnv, body map[string]any) *apitest.Response {
		return e.c.Do("POST", "/auth/sign_in/microsoft/token", body)
	}
	t.Run("with its verifier", func(t *testing.T) {
		e := newMSEnv(t)
		tok := startBound(t, e)
		if r := trade(e, map[string]any{"token": tok, "code_verifier": verifier}); r.Status != 200 || r.String("access_token") == "" {
			t.Errorf("exchange with the verifier: %d %s", r.Status, r.Body)
		}
	})
	for _, tc := range []struct {
		name string
		body func(tok string) map[string]any
	}{
		{"leaked token without verifier", func(tok string) map[string]any { return map[string]any{"token": tok} }},
		{"wrong verifier", func(tok string) map[string]any {
			return map[string]any{"token": tok, "code_verifier": strings.Repeat("x", 43)}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			tok := startBound(t, e)
			if r := trade(e, tc.body(tok)); r.Status != 401 || r.Code() != "UNAUTHORIZED" {
				t.Errorf("exchange: %d %s, want 401", r.Status, r.Body)
			}
			// The try spent the flow: not even the rightful client gets it now.
			if r := trade(e, map[string]any{"token": tok, "code_verifier": verifier}); r.Status != 401 {
				t.Errorf("exchange after a failed try: %d %s, want 401", r.Status, r.Body)
			}
			e.wantRefusedBecause(t, "code_verifier")
		})
	}
	t.Run("someone else's flow", func(t *testing.T) {
		// A link started by another party without a challenge: a client
		// that sends its own verifier is not signed in to it.
		e := newMSEnv(t)
		tok := e.signInAs(t, alice()).Query().Get("token")
		if r := trade(e, map[string]any{"token": tok, "code_verifier": verifier}); r.Status != 401 {
			t.Errorf("exchange of a flow started without a challenge: %d %s, want 401", r.Status, r.Body)
		}
	})
	t.Run("malformed verifier changes nothing", func(t *testing.T) {
		e := newMSEnv(t)
		tok := startBound(t, e)
		for _, v := range []any{"short", strings.Repeat("a", 129), strings.Repeat("a", 42) + "/", 42} {
			if r := trade(e, map[string]any{"token": tok, "code_verifier": v}); r.Status != 400 || r.Code() != "INVALID_ARGUMENT" {
				t.Errorf("code_verifier %v: %d %s, want 400", v, r.Status, r.Body)
			}
		}
		if r := trade(e, map[string]any{"token": tok, "code_verifier": verifier}); r.Status != 200 {
			t.Errorf("exchange after malformed tries: %d %s", r.Status, r.Body)
		}
	})
	t.Run("malformed challenge", func(t *testing.T) {
		e := newMSEnv(t)
		good := challengeOf(verifier)
		for _, body := range []map[string]any{
			{"code_challenge": good[:42]},
			{"code_challenge": good + "A"},
			{"code_challenge": strings.Repeat("+", 43)},
			{"code_challenge": verifier}, // a verifier is not a challenge
			{"code_challenge": good, "code_challenge_method": "plain"},
			{"code_challenge": 7},
		} {
			body["domain"], body["callback_url"] = acmeDomain, msCallbackURL
			if r := e.c.Do("POST", "/auth/sign_in/microsoft", body); r.Status != 400 || r.Code() != "INVALID_ARGUMENT" {
				t.Errorf("%v: %d %s, want 400", body, r.Status, r.Body)
			}
		}
	})
	t.Run("required", func(t *testing.T) {
		e := newMSEnv(t, func(c *pbxauth.Config) { c.RequireExchangeChallenge = true })
		if r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}); r.Status != 400 {
			t.Errorf("sign-in without a challenge: %d %s, want 400", r.Status, r.Body)
		}
		tok := startBound(t, e)
		if r := trade(e, map[string]any{"token": tok, "code_verifier": verifier}); r.Status != 200 {
			t.Errorf("bound exchange: %d %s", r.Status, r.Body)
		}
	})
}

// The IdP refusing the PBX itself (an expired or wrong secret) is the
// operator's problem: server_error, logged at ERROR, not access_denied.
func TestMicrosoftPBXCredentialsRefused(t *testing.T) {
	e := newMSEnv(t)
	ctx := context.Background()
	tn, _ := e.store.Tenant(ctx, acmeID)
	tn.MS365.ClientSecret = "expired-secret"
	if err := e.store.UpdateTenant(ctx, tn); err != nil {
		t.Fatal(err)
	}
	wantRefused(t, e.signInAs(t, alice()), "server_error")
	if !strings.Contains(e.logs.String(), "level=ERROR") || !strings.Contains(e.logs.String(), "invalid_client") {
		t.Errorf("no ERROR log naming invalid_client:\n%s", e.logs.String())
	}
	if strings.Contains(e.logs.String(), "expired-secret") {
		t.Error("the secret is in the log")
	}
	for idpCode, want := range map[string]string{"unauthorized_client": "server_error", "access_denied": "access_denied"} {
		state := e.start(t).Query().Get("state")
		r := e.c.Do("GET", "/auth/sign_in/microsoft/callback?"+url.Values{"error": {idpCode}, "state": {state}}.Encode(), nil)
		wantRefused(t, location(t, r), want)
	}
}

// The secret goes in the Authorization header (client_secret_basic) when
// discovery lists it, as mockoidc's does.
func TestMicrosoftClientSecretBasic(t *testing.T) {
	e := newMSEnv(t)
	e.exchange(t, e.signInAs(t, alice()))
	if b, p := e.auths.basic.Load(), e.auths.post.Load(); b != 1 || p != 0 {
		t.Errorf("token requests: %d with client_secret_basic, %d with client_secret_post; want 1 and 0", b, p)
	}
}

// A provider that keeps the email out of the ID token gives it at UserInfo
// (OIDC Core §5.4); UserInfo must speak of the same subject, and its own
// email_verified decides.
func TestMicrosoftUserInfoEmail(t *testing.T) {
	for _, tc := range []struct {
		name     string
		userInfo map[string]any
		ok       bool
	}{
		{"verified", map[string]any{"sub": "sub-ui", "email": "alice@acme.example.test", "email_verified": true}, true},
		{"not verified", map[string]any{"sub": "sub-ui", "email": "alice@acme.example.test", "email_verified": false}, false},
		{"no email_verified", map[string]any{"sub": "sub-ui", "email": "alice@acme.example.test"}, false},
		{"xms_edov does not count at UserInfo", map[string]any{"sub": "sub-ui", "email": "alice@acme.example.test", "xms_edov": true}, false},
		{"another subject", map[string]any{"sub": "sub-other", "email": "alice@acme.example.test", "email_verified": true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			acct := &entraUser{oid: "oid-ui", sub: "sub-ui", userInfo: tc.userInfo}
			land := e.signInAs(t, acct)
			if !tc.ok {
				wantRefused(t, land, "access_denied")
				e.wantUnlinked(t, acct)
				return
			}
			e.exchange(t, land)
		})
	}
}

// preferred_username (the UPN, mutable at Microsoft) matches only where the
// tenant opts in, and only for members of the directory (acct 0).
func TestMicrosoftPreferredUsername(t *testing.T) {
	optIn := func(t *testing.T, e *msEnv) {
		t.Helper()
		tn, _ := e.store.Tenant(context.Background(), acmeID)
		tn.MS365.MatchPreferredUsername = true
		if err := e.store.UpdateTenant(context.Background(), tn); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name  string
		optIn bool
		acct  any
		ok    bool
	}{
		{"member, opted in", true, 0, true},
		{"guest, opted in", true, 1, false},
		{"acct missing, opted in", true, nil, false},
		{"acct as a string, opted in", true, "0", false},
		{"member, not opted in", false, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			if tc.optIn {
				optIn(t, e)
			}
			land := e.signInAs(t, &entraUser{oid: "oid-upn", sub: "sub-upn", upn: "ALICE@acme.example.test", acct: tc.acct})
			if !tc.ok {
				wantRefused(t, land, "access_denied")
				return
			}
			e.exchange(t, land)
		})
	}
	t.Run("email and preferred_username name two users", func(t *testing.T) {
		e := newMappingEnv(t)
		optIn(t, e)
		wantRefused(t, e.signInAs(t, &entraUser{oid: "o7", sub: "s7", email: "alice@acme.example.test", verified: true,
			upn: "shared@acme.example.test", acct: 0}), "access_denied")
	})
}

// A host keeps an Entra registration made for PortSIP: the callback served
// where its redirect URI points.
func TestMicrosoftRedirectURL(t *testing.T) { eachStateMode(t, testMicrosoftRedirectURL) }

func testMicrosoftRedirectURL(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode, func(c *pbxauth.Config) {
		c.MicrosoftRedirectURL = strings.TrimSuffix(c.PublicURL, apitest.Prefix) + "/ms365/callback"
	})
	mux := http.NewServeMux()
	mux.Handle("GET /ms365/callback", e.auth.MicrosoftCallback())
	e.host.h.Store(http.HandlerFunc(mux.ServeHTTP)) // the type the env stored first
	u := e.start(t)
	if got := u.Query().Get("redirect_uri"); got != e.redirectURI {
		t.Fatalf("redirect_uri = %q, want %q", got, e.redirectURI)
	}
	e.exchange(t, location(t, e.get(t, e.authorize(t, u, alice()).String())))
	if _, err := pbxauth.New(pbxauth.Config{Store: e.store, MicrosoftRedirectURL: "/ms365/callback"}); err == nil {
		t.Error("New accepted a relative MicrosoftRedirectURL")
	}
}

// callback_origins entries with a path allow that path only, and no
// callback_url with an ambiguous path is accepted, whatever the list.
func TestMicrosoftCallbackPathExact(t *testing.T) {
	e := newMSEnv(t, func(c *pbxauth.Config) {
		c.CallbackOrigins = []string{appOrigin + "/signed-in", "http://open.test"}
		c.Limits.FlowStarts = 1000 // every case starts two flows from one address
	})
	for raw, status := range map[string]int{
		appOrigin + "/signed-in":             200,
		appOrigin + "/signed-in?from=pbx":    200,
		appOrigin + "/signed-in/":            400,
		appOrigin + "/signed-in/x":           400,
		appOrigin + "/other":                 400,
		appOrigin + "/x/../signed-in":        400,
		appOrigin + "/%2e%2e/signed-in":      400,
		appOrigin + "/x%2F..%2Fsigned-in":    400,
		appOrigin + "/signed-in#x":           400,
		"http://open.test/any/path":          200,
		"http://open.test/a//b":              400,
		"http://open.test/a/./b":             400,
		"http://open.test/a%5cb":             400,
		"http://open.test/a\\b":              400,
		"http://open.test/" + "a?x=../../ok": 200, // the query is the client's own
	} {
		r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": raw})
		if r.Status != status {
			t.Errorf("callback_url %q: %d %s, want %d", raw, r.Status, r.Body, status)
		}
		r = e.c.Do("POST", "/auth/forget_password", map[string]any{"username": "alice", "domain": acmeDomain, "callback_url": raw})
		if r.Status != status {
			t.Errorf("forget_password callback_url %q: %d %s, want %d", raw, r.Status, r.Body, status)
		}
	}
}
