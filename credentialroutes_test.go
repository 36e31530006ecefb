// The rules the credential routes of "More of PortSIP v22" share, each
// checked on every route it names: who may not call an admin route (a
// StandardUser, a Dealer, a Replicator: 403, and nothing changes), and
// that the routes acting on the caller ignore ?domain=.

package pbxauth_test

import (
	"context"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// TestCredentialAdminRoutesRefuseOthers: every admin route of the section
// answers 403 to a StandardUser, and to the system users that are no
// tenant's Admin (Dealer, Replicator), whatever the body; nothing changes.
func TestCredentialAdminRoutesRefuseOthers(t *testing.T) {
	e := newEnv(t)
	bob := e.addUser(t, acmeDomain, "bob", "StandardUser")
	dealer := e.addUser(t, "", "dealer", "Dealer")
	replicator := e.addUser(t, "", "replicator", "Replicator")
	routes := []struct {
		path string
		body map[string]any
	}{
		{"/admin/password", changeBody("pw-of-bob-7", "new-bob-pw-99")},
		{"/admin/username", map[string]any{"name": "chief"}},
		{"/users/" + aliceID + "/password", map[string]any{"password": "set-by-bob-123"}},
		{policyPath + "?domain=" + acmeDomain, map[string]any{"contains_numbers": true}},
	}
	for who, access := range map[string]string{"a StandardUser": bob, "a Dealer": dealer, "a Replicator": replicator} {
		for _, rt := range routes {
			if r := e.c.Do("POST", rt.path, rt.body, apitest.Bearer(access)...); r.Status != 403 || r.Code() != "FORBIDDEN" {
				t.Errorf("POST %s by %s: %d %s, want 403", rt.path, who, r.Status, r.Body)
			}
		}
	}
	e.wantSignIn(t, alicePW, 200)
	for _, name := range []string{"bob", "dealer", "replicator"} {
		domain := ""
		if name == "bob" {
			domain = acmeDomain
		}
		if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": name, "password": "pw-of-" + name + "-7", "domain": domain}); r.Status != 200 {
			t.Errorf("%s's old password after the refusals: %d", name, r.Status)
		}
	}
	if p, err := e.auth.PasswordPolicy(context.Background(), acmeDomain); err != nil || p.ContainsNumbers {
		t.Errorf("acme's policy after the refusals: %+v, %v", p, err)
	}
	if _, err := e.auth.FindUser(context.Background(), "", "admin"); err != nil {
		t.Errorf("the system admin's name after the refusals: %v", err)
	}
}

// TestCallerRoutesIgnoreDomain: /user/password and /admin/* act on the
// caller whatever ?domain= names — another tenant, an unknown domain, or a
// malformed one.
func TestCallerRoutesIgnoreDomain(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.c.Do("POST", "/user/password?domain=other.example.test", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(alice)...); r.Status != 200 {
		t.Fatalf("POST /user/password naming another tenant: %d %s", r.Status, r.Body)
	}
	e.wantSignIn(t, "new-alice-pw-9", 200)
	// The other tenant's alice keeps her password.
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "alice", "password": "other-pw-123", "domain": "other.example.test"}); r.Status != 200 {
		t.Errorf("the other tenant's alice: %d", r.Status)
	}
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	if r := e.c.Do("POST", "/admin/password?domain="+acmeDomain, changeBody(adminPW, "new-admin-pw-9"), apitest.Bearer(admin)...); r.Status != 200 {
		t.Fatalf("POST /admin/password naming a tenant: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("POST", "/admin/username?domain=nowhere.example.test", map[string]any{"name": "chief"}, apitest.Bearer(admin)...); r.Status != 200 {
		t.Fatalf("POST /admin/username naming an unknown domain: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "chief", "password": "new-admin-pw-9"}); r.Status != 200 {
		t.Errorf("the renamed admin with the new password: %d %s", r.Status, r.Body)
	}
	if _, err := e.auth.FindUser(context.Background(), acmeDomain, "chief"); err == nil {
		t.Error("the rename reached the tenant ?domain= named")
	}
}
