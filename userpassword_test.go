// The attacker's tests of POST /users/{id}/password: who may set whose
// password (a StandardUser, a Dealer: 403; an Admin of another tenant, on
// a system user, on an unknown id: 404; on its own id: 403), a recent
// sign-in, and what the set ends.

package pbxauth_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// addBob creates bob, a StandardUser of acme, and a Dealer (a system
// user), and returns bob's ID.
func (e *env) addBob(t *testing.T) string {
	t.Helper()
	bob, err := e.auth.CreateUser(t.Context(), pbxauth.NewUser{Domain: acmeDomain, Username: "bob", Password: "bob-pw-1234", Role: pbxauth.RoleStandardUser})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.auth.CreateUser(t.Context(), pbxauth.NewUser{Username: "dealer", Password: "dealer-pw-1234", Role: pbxauth.RoleDealer}); err != nil {
		t.Fatal(err)
	}
	return bob.ID
}

func bobCreds(password string) map[string]any {
	return map[string]any{"username": "bob", "password": password, "domain": acmeDomain}
}

// setPassword sets id's password as the holder of access.
func (e *env) setPassword(access, id, password string) *apitest.Response {
	return e.c.Do("POST", "/users/"+id+"/password", map[string]any{"password": password}, apitest.Bearer(access)...)
}

func TestSetUserPasswordWhoMay(t *testing.T) {
	e := newEnv(t)
	bobID := e.addBob(t)
	alice, _ := e.signIn(t, aliceCreds())
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	bob, _ := e.signIn(t, bobCreds("bob-pw-1234"))
	dealer, _ := e.signIn(t, map[string]any{"username": "dealer", "password": "dealer-pw-1234"})
	for _, c := range []struct {
		what, access, id string
		status           int
	}{
		{"a StandardUser", bob, aliceID, 403},
		{"a Dealer", dealer, bobID, 403},
		{"an Admin on a user of another tenant", alice, "user-alice-other", 404},
		{"an Admin on a system user", alice, adminID, 404},
		{"an Admin on an unknown id", alice, "user-nobody", 404},
		{"an Admin on its own id", alice, aliceID, 403},
		{"a SystemAdmin on its own id", admin, adminID, 403},
	} {
		if r := e.setPassword(c.access, c.id, "set-by-someone-1"); r.Status != c.status {
			t.Errorf("%s: %d %s, want %d", c.what, r.Status, r.Body, c.status)
		}
	}
	e.wantSignIn(t, alicePW, 200)
	if r := e.c.Do("POST", "/auth/sign_in", bobCreds("bob-pw-1234")); r.Status != 200 {
		t.Errorf("bob after the refusals: %d", r.Status)
	}
	if r := e.setPassword(admin, "user-alice-other", "set-by-admin-1"); r.Status != 200 {
		t.Errorf("a SystemAdmin on a user of any tenant: %d %s", r.Status, r.Body)
	}
	if r := e.setPassword(admin, "user-nobody", "set-by-admin-1"); r.Status != 404 {
		t.Errorf("a SystemAdmin on an unknown id: %d", r.Status)
	}
}

func TestSetUserPasswordEndsSignIns(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	bobID := e.addBob(t)
	alice, _ := e.signIn(t, aliceCreds())
	bob1, _ := e.signIn(t, bobCreds("bob-pw-1234"))
	bob2, _ := e.signIn(t, bobCreds("bob-pw-1234"))
	if r := e.setPassword(alice, bobID, "short"); r.Status != 400 {
		t.Errorf("a short password: %d", r.Status)
	}
	e.wantBearer(t, "bob before the set", bob1, 200)
	if r := e.setPassword(alice, bobID, "set-by-alice-1"); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("an Admin on a user of its tenant: %d %s", r.Status, r.Body)
	}
	e.wantBearer(t, "bob's first sign-in", bob1, 401)
	e.wantBearer(t, "bob's second sign-in", bob2, 401)
	e.wantBearer(t, "the Admin's own sign-in", alice, 200)
	if r := e.c.Do("POST", "/auth/sign_in", bobCreds("bob-pw-1234")); r.Status != 401 {
		t.Errorf("bob's old password: %d", r.Status)
	}
	u, err := e.store.User(t.Context(), bobID)
	if err != nil || !u.PasswordForceReset {
		t.Errorf("password_force_reset after an admin's set: %v (%v), want true", u.PasswordForceReset, err)
	}
	if r := e.c.Do("POST", "/auth/sign_in", bobCreds("set-by-alice-1")); r.Status != 200 {
		t.Errorf("bob's new password: %d", r.Status)
	}
	if k := ev.kinds(); !slices.Contains(k, pbxauth.EventPasswordSet) {
		t.Errorf("events %v, want password_set", k)
	}
}

func TestSetUserPasswordNeedsRecentSignIn(t *testing.T) {
	e := newEnv(t)
	bobID := e.addBob(t)
	alice, _ := e.signIn(t, aliceCreds())
	e.clock.Advance(11 * time.Minute)
	r := e.setPassword(alice, bobID, "set-by-alice-1")
	if r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Fatalf("an old sign-in: %d %s, want 403 insufficient_scope", r.Status, r.Body)
	}
	if r := e.c.Do("POST", "/auth/sign_in", bobCreds("bob-pw-1234")); r.Status != 200 {
		t.Errorf("bob after the refusal: %d", r.Status)
	}
}

// TestSetUserPasswordRefusalNamesItsField: the admin route's field is
// "password", and its refusals say so (the caller's own route says
// "new_password"), whichever rule the password breaks.
func TestSetUserPasswordRefusalNamesItsField(t *testing.T) {
	e := newEnv(t)
	bobID := e.addBob(t)
	alice, _ := e.signIn(t, aliceCreds())
	for _, pw := range []string{"short", "bob"} {
		r := e.setPassword(alice, bobID, pw)
		msg := string(r.Body)
		if r.Status != 400 || !strings.Contains(msg, `"password `) || strings.Contains(msg, "new_password") {
			t.Errorf("password %q: %d %s, want a 400 naming password", pw, r.Status, msg)
		}
	}
}
