// The tests of POST /admin/username: only a SystemAdmin renames itself,
// with a recent sign-in; 409 only for another system user's name in any
// case; its sign-ins survive.

package pbxauth_test

import (
	"slices"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// rename renames the holder of access.
func (e *env) rename(access, name string) *apitest.Response {
	return e.c.Do("POST", "/admin/username", map[string]any{"name": name}, apitest.Bearer(access)...)
}

func TestRenameSystemAdmin(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	e.addBob(t) // and a Dealer, "dealer", another system user
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	other, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	alice, _ := e.signIn(t, aliceCreds())
	dealer, _ := e.signIn(t, map[string]any{"username": "dealer", "password": "dealer-pw-1234"})
	for who, access := range map[string]string{"an Admin": alice, "a Dealer": dealer} {
		if r := e.rename(access, "chief"); r.Status != 403 {
			t.Errorf("%s: %d %s, want 403", who, r.Status, r.Body)
		}
	}
	for _, c := range []struct {
		name   string
		status int
		code   string
	}{
		{"DEALER", 409, pbxauth.CodeConflict},
		{"dealer", 409, pbxauth.CodeConflict},
		{".bad", 400, pbxauth.CodeInvalidArgument},
		{"", 400, pbxauth.CodeInvalidArgument},
	} {
		if r := e.rename(admin, c.name); r.Status != c.status || r.Code() != c.code {
			t.Errorf("rename to %q: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
		}
	}
	for _, name := range []string{"ADMIN", "alice", "root"} { // case alone; a tenant user's name; a reserved name
		if r := e.rename(admin, name); r.Status != 200 || len(r.Body) != 0 {
			t.Errorf("rename to %q: %d %s, want 200", name, r.Status, r.Body)
		}
	}
	e.wantBearer(t, "the renamed admin's sign-in", admin, 200)
	e.wantBearer(t, "its other sign-in", other, 200)
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(admin)...); r.String("username") != "root" {
		t.Errorf("GET /auth/user names %q, want root", r.String("username"))
	}
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": adminPW}); r.Status != 401 {
		t.Errorf("sign-in with the old name: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "Root", "password": adminPW}); r.Status != 200 {
		t.Errorf("sign-in with the new name: %d", r.Status)
	}
	if k := ev.kinds(); !slices.Contains(k, pbxauth.EventUsernameChanged) {
		t.Errorf("events %v, want username_changed", k)
	}
	e.clock.Advance(11 * time.Minute)
	if r := e.rename(admin, "chief"); r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Errorf("an old sign-in: %d %s, want 403 insufficient_scope", r.Status, r.Body)
	}
}
