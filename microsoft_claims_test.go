// ID tokens a hostile identity provider forges, signed with its real key so
// that go-oidc's own checks pass: no sub, an azp or an audience of another
// application, xms_edov from outside the tenant's directory. Each must end
// in access_denied, with no link and no sign-in.

package pbxauth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// wantUnlinked checks that the account has no link in acme under any key
// it could have been given, old or new.
func (e *msEnv) wantUnlinked(t *testing.T, u *entraUser) {
	t.Helper()
	for _, k := range []string{u.oid, u.sub, "oid:" + u.oid, "sub:" + u.sub} {
		if id, err := e.store.IdentityUser(context.Background(), acmeID, e.idp.Issuer(), k); !errors.Is(err, pbxauth.ErrNotFound) {
			t.Errorf("refused account linked under %q to %q (%v)", k, id, err)
		}
	}
}

// wantNoSignIn checks that no Microsoft sign-in succeeded.
func (e *msEnv) wantNoSignIn(t *testing.T) {
	t.Helper()
	for _, k := range e.events.kinds() {
		if k == pbxauth.EventMicrosoftSignIn {
			t.Errorf("events %v: a sign-in succeeded", e.events.kinds())
		}
	}
}

func TestMicrosoftIDTokenSubjectAndAudience(t *testing.T) {
	const other = "another-application"
	audience := func(aud ...string) func(*mockoidc.IDTokenClaims) {
		return func(c *mockoidc.IDTokenClaims) { c.Audience = jwt.ClaimStrings(aud) }
	}
	noSub := func(c *mockoidc.IDTokenClaims) { c.Subject = "" }
	for _, tc := range []struct {
		name   string
		forge  func(u *entraUser, app string)
		signIn bool
	}{
		{"no sub", func(u *entraUser, _ string) { u.bend = noSub }, false},
		{"neither sub nor oid", func(u *entraUser, _ string) { u.oid, u.tid, u.bend = "", "", noSub }, false},
		{"another application among the audiences, named by azp", func(u *entraUser, app string) { u.bend, u.azp = audience(other, app), other }, false},
		{"two audiences and no azp", func(u *entraUser, app string) { u.bend = audience(app, other) }, false},
		{"azp of another application", func(u *entraUser, _ string) { u.azp = other }, false},
		{"two audiences, azp the application", func(u *entraUser, app string) { u.bend, u.azp = audience(other, app), app }, true},
		{"azp the application", func(u *entraUser, app string) { u.azp = app }, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			acct := alice()
			tc.forge(acct, e.idp.ClientID)
			land := e.signInAs(t, acct)
			if tc.signIn {
				access := e.exchange(t, land)
				if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.String("role") != "Admin" {
					t.Errorf("/auth/user: %d %s", u.Status, u.Body)
				}
				return
			}
			wantRefused(t, land, "access_denied")
			e.wantUnlinked(t, acct)
			e.wantNoSignIn(t)
		})
	}
}

// xms_edov is Entra's word on an email, and only a token of the tenant's own
// directory (tid = directory_id) speaks for Entra.
func TestMicrosoftEdovOnlyFromTheDirectory(t *testing.T) {
	for _, tc := range []struct {
		name, tid string
		signIn    bool
	}{
		{"the tenant's directory", entraDirectory, true},
		{"no tid", "", false},
		{"another directory", "dir-other", false},
		{"the directory in another case", "DIR-TEST", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newMSEnv(t)
			acct := &entraUser{oid: "oid-edov", sub: "sub-edov", tid: tc.tid, email: "alice@acme.example.test", edov: true}
			land := e.signInAs(t, acct)
			if tc.signIn {
				e.exchange(t, land)
				return
			}
			wantRefused(t, land, "access_denied")
			e.wantRefusedBecause(t, "not verified")
			e.wantUnlinked(t, acct)
		})
	}
}
