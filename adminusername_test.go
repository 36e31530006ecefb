// The tests of POST /admin/username: only a SystemAdmin renames itself,
// with a recent sign-in; 409 only for another system user's name in any
// case; its sign-ins survive.

package pbxauth_test

import (
	"errors"
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

func TestSetUsernameFromGo(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	access, _ := e.signIn(t, aliceCreds())
	for _, c := range []struct {
		name string
		want error
	}{
		{"admin", pbxauth.ErrInvalid},
		{".bad", pbxauth.ErrInvalid},
		{"ALICE", nil},
		{"alicia", nil},
	} {
		if err := e.auth.SetUsername(ctx, aliceID, c.name); !errors.Is(err, c.want) {
			t.Errorf("SetUsername(%q): %v, want %v", c.name, err, c.want)
		}
	}
	if _, err := e.auth.CreateUser(ctx, pbxauth.NewUser{Domain: acmeDomain, Username: "bob", Password: "bob-pw-1234", Role: pbxauth.RoleStandardUser}); err != nil {
		t.Fatal(err)
	}
	if err := e.auth.SetUsername(ctx, aliceID, "BOB"); !errors.Is(err, pbxauth.ErrConflict) {
		t.Errorf("SetUsername to another user's name: %v, want ErrConflict", err)
	}
	if err := e.auth.SetUsername(ctx, "user-nobody", "nobody"); !errors.Is(err, pbxauth.ErrNotFound) {
		t.Errorf("SetUsername of an unknown user: %v, want ErrNotFound", err)
	}
	if err := e.auth.SetUsername(ctx, adminID, "root"); err != nil {
		t.Errorf("SetUsername of a system user to a reserved name: %v", err)
	}
	e.wantBearer(t, "the renamed user's sign-in", access, 200)
	creds := aliceCreds()
	creds["username"] = "Alicia"
	if r := e.c.Do("POST", "/auth/sign_in", creds); r.Status != 200 {
		t.Errorf("sign-in under the new name: %d", r.Status)
	}
}
