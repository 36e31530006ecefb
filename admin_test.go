package pbxauth_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

func TestNewRefusesBadRoles(t *testing.T) {
	for _, roles := range [][]string{{""}, {"Admin"}, {"systemadmin"}, {"Ops", "Ops"}, {"has space"}, {strings.Repeat("r", 65)}} {
		if _, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), Roles: roles}); err == nil {
			t.Errorf("New with Roles %q succeeded", roles)
		}
	}
	if _, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), Roles: []string{"Operator", "Night-Shift"}}); err != nil {
		t.Errorf("New with good custom roles: %v", err)
	}
}

func TestCreateUserValidation(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) {
		c.Roles = []string{"Operator"}
		c.OnEvent = ev.add
		c.PasswordPolicy = func(_, pw string) error {
			if strings.Contains(pw, "password") {
				return errors.New("must not contain password")
			}
			return nil
		}
	})
	ctx := context.Background()
	carol := pbxauth.NewUser{Domain: acmeDomain, Username: "carol", Password: "carol-pw-123", Email: "carol@acme.example.test", Role: pbxauth.RoleStandardUser}
	for _, c := range []struct {
		name string
		edit func(*pbxauth.NewUser)
		want error
	}{
		{"an empty username", func(u *pbxauth.NewUser) { u.Username = "" }, store.ErrInvalid},
		{"a malformed username", func(u *pbxauth.NewUser) { u.Username = "bad name!" }, store.ErrInvalid},
		{"a username starting with a period", func(u *pbxauth.NewUser) { u.Username = ".carol" }, store.ErrInvalid},
		{"a 65-character username", func(u *pbxauth.NewUser) { u.Username = strings.Repeat("c", 65) }, store.ErrInvalid},
		{"a non-ASCII username", func(u *pbxauth.NewUser) { u.Username = "cärol" }, store.ErrInvalid},
		{"a reserved name in a tenant", func(u *pbxauth.NewUser) { u.Username = "Root" }, store.ErrInvalid},
		{"no role", func(u *pbxauth.NewUser) { u.Role = "" }, store.ErrInvalid},
		{"an unknown role", func(u *pbxauth.NewUser) { u.Role = "Typo" }, store.ErrInvalid},
		{"a role in the wrong case", func(u *pbxauth.NewUser) { u.Role = "standarduser" }, store.ErrInvalid},
		{"a system role in a tenant", func(u *pbxauth.NewUser) { u.Role = pbxauth.RoleSystemAdmin }, store.ErrInvalid},
		{"a tenant role for a system user", func(u *pbxauth.NewUser) { u.Domain, u.Role = "", pbxauth.RoleAdmin }, store.ErrInvalid},
		{"a custom role for a system user", func(u *pbxauth.NewUser) { u.Domain, u.Role = "", "Operator" }, store.ErrInvalid},
		{"an unknown domain", func(u *pbxauth.NewUser) { u.Domain = "nowhere.example.test" }, store.ErrInvalid},
		{"a malformed domain", func(u *pbxauth.NewUser) { u.Domain = "a b" }, store.ErrInvalid},
		{"a short password", func(u *pbxauth.NewUser) { u.Password = "short" }, store.ErrInvalid},
		{"the username as password", func(u *pbxauth.NewUser) { u.Username, u.Password = "carolcarol", "CarolCarol" }, store.ErrInvalid},
		{"a password the policy refuses", func(u *pbxauth.NewUser) { u.Password = "my-password-1" }, store.ErrInvalid},
		{"a password over 1024 bytes", func(u *pbxauth.NewUser) { u.Password = strings.Repeat("p", 1025) }, store.ErrInvalid},
		{"a malformed email", func(u *pbxauth.NewUser) { u.Email = "not-an-email" }, store.ErrInvalid},
		{"an email with a name", func(u *pbxauth.NewUser) { u.Email = "Carol <carol@acme.example.test>" }, store.ErrInvalid},
		{"a taken username", func(u *pbxauth.NewUser) { u.Username = "ALICE" }, store.ErrConflict},
	} {
		nu := carol
		c.edit(&nu)
		if _, err := e.auth.CreateUser(ctx, nu); !errors.Is(err, c.want) {
			t.Errorf("CreateUser with %s: %v, want %v", c.name, err, c.want)
		}
		if nu.Username != "ALICE" {
			if _, err := e.auth.FindUser(ctx, acmeDomain, nu.Username); !errors.Is(err, store.ErrNotFound) && !errors.Is(err, store.ErrInvalid) {
				t.Errorf("after CreateUser with %s, FindUser: %v", c.name, err)
			}
		}
	}
	if n := countKind(ev, pbxauth.EventUserCreated); n != 0 {
		t.Errorf("refused CreateUser calls reported %d user_created events", n)
	}

	u, err := e.auth.CreateUser(ctx, carol)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID == "" || u.TenantID != acmeID || u.Role != pbxauth.RoleStandardUser || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Errorf("created %+v", u)
	}
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "Carol", "password": carol.Password, "domain": acmeDomain}); r.Status != 200 {
		t.Errorf("the created user's sign-in: %d %s", r.Status, r.Body)
	}
	for _, nu := range []pbxauth.NewUser{
		{Domain: acmeDomain, Username: "olga", Password: "olga-pw-123", Role: "Operator"},
		{Username: "root", Password: "root-pw-1234", Role: pbxauth.RoleDealer},
		{Domain: acmeDomain, Username: "msonly", Role: pbxauth.RoleQueueManager}, // no password
	} {
		if _, err := e.auth.CreateUser(ctx, nu); err != nil {
			t.Errorf("CreateUser(%+v): %v", nu, err)
		}
	}
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "root", "password": "root-pw-1234"}); r.Status != 200 {
		t.Errorf("the created system user's sign-in: %d %s", r.Status, r.Body)
	}
	if n := countKind(ev, pbxauth.EventUserCreated); n != 4 {
		t.Errorf("%d user_created events, want 4", n)
	}
	if got, err := e.auth.FindUser(ctx, "ACME.example.test", "CAROL"); err != nil || got.ID != u.ID {
		t.Errorf("FindUser in other case: %+v, %v", got, err)
	}
	if _, err := e.auth.FindUser(ctx, "nowhere.example.test", "carol"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("FindUser in an unknown domain: %v", err)
	}
}

func TestSetPassword(t *testing.T) {
	ev := &events{}
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	ctx := context.Background()
	phone, web := e.signInAs(t, "Phone/1"), e.browser(t)
	for _, c := range []struct{ name, pw string }{
		{"a short password", "short"},
		{"a password over 1024 bytes", strings.Repeat("p", 1025)},
		{"an empty password", ""},
	} {
		if err := e.auth.SetPassword(ctx, aliceID, c.pw, false); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("SetPassword to %s: %v, want ErrInvalid", c.name, err)
		}
	}
	e.wantUsable(t, phone, true, "after refused SetPassword calls")
	if err := e.auth.SetPassword(ctx, "user-missing", "new-pw-4567", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SetPassword of an unknown user: %v", err)
	}

	if err := e.auth.SetPassword(ctx, aliceID, "new-pw-4567", true); err != nil {
		t.Fatal(err)
	}
	e.wantUsable(t, phone, false, "a sign-in after SetPassword")
	e.wantUsable(t, web, false, "a cookie session after SetPassword")
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 401 {
		t.Errorf("the old password after SetPassword: %d", r.Status)
	}
	r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "alice", "password": "new-pw-4567", "domain": acmeDomain})
	if r.Status != 200 {
		t.Fatalf("the new password: %d %s", r.Status, r.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...); u.JSON()["password_force_reset"] != true {
		t.Errorf("after SetPassword with forceReset: %s", u.Body)
	}
	if n, p := countKind(ev, pbxauth.EventSessionRevoked), countKind(ev, pbxauth.EventPasswordSet); n != 2 || p != 1 {
		t.Errorf("SetPassword reported %d session_revoked and %d password_set, want 2 and 1", n, p)
	}
	if err := e.auth.SetPassword(ctx, aliceID, "newer-pw-890", false); err != nil {
		t.Fatal(err)
	}
	if u, _ := e.store.User(ctx, aliceID); u.PasswordForceReset {
		t.Error("SetPassword without forceReset left PasswordForceReset set")
	}
}

func TestDisableEnableUser(t *testing.T) {
	ev := &events{}
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	ctx := context.Background()
	phone, web := e.signInAs(t, "Phone/1"), e.browser(t)
	if err := e.auth.DisableUser(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	e.wantUsable(t, phone, false, "a sign-in of a disabled user")
	e.wantUsable(t, web, false, "a cookie session of a disabled user")
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 401 {
		t.Errorf("a disabled user's sign-in: %d", r.Status)
	}
	if err := e.auth.EnableUser(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	e.wantUsable(t, phone, false, "a sign-in from before the user was disabled, once enabled")
	e.signInAs(t, "Phone/2")
	for name, f := range map[string]func(context.Context, string) error{"DisableUser": e.auth.DisableUser, "EnableUser": e.auth.EnableUser} {
		if err := f(ctx, "user-missing"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s of an unknown user: %v", name, err)
		}
	}
	if d, en, r := countKind(ev, pbxauth.EventUserDisabled), countKind(ev, pbxauth.EventUserEnabled), countKind(ev, pbxauth.EventSessionRevoked); d != 1 || en != 1 || r != 2 {
		t.Errorf("events: %d user_disabled, %d user_enabled, %d session_revoked; want 1, 1, 2", d, en, r)
	}
}

func TestGoSessionsRevokeSignOutEverywhere(t *testing.T) {
	e := newEnv(t, plainHTTP)
	ctx := context.Background()
	phone := e.signInAs(t, "Phone/1")
	e.clock.Advance(time.Second)
	desk := e.signInAs(t, "Desk/1")
	e.clock.Advance(time.Second)
	web := e.browser(t)
	fs, err := e.auth.Sessions(ctx, aliceID)
	if err != nil || len(fs) != 3 || fs[0].UserAgent != "Browser/1.0" || fs[2].UserAgent != "Phone/1" {
		t.Fatalf("Sessions: %+v, %v", fs, err)
	}
	if err := e.auth.RevokeSession(ctx, aliceID, fs[2].ID); err != nil {
		t.Fatal(err)
	}
	e.wantUsable(t, phone, false, "the revoked session")
	e.wantUsable(t, desk, true, "another session after RevokeSession")
	r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": adminPW})
	adminSessions, _ := e.auth.Sessions(ctx, adminID)
	for _, c := range []struct{ name, user, id string }{
		{"a revoked session", aliceID, fs[2].ID},
		{"another user's session", aliceID, adminSessions[0].ID},
		{"an unknown session", aliceID, "nope"},
		{"an unknown user", "user-missing", fs[1].ID},
	} {
		if err := e.auth.RevokeSession(ctx, c.user, c.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("RevokeSession of %s: %v", c.name, err)
		}
	}
	if _, err := e.auth.Sessions(ctx, "user-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Sessions of an unknown user: %v", err)
	}
	n, err := e.auth.SignOutEverywhere(ctx, aliceID)
	if err != nil || n != 2 {
		t.Fatalf("SignOutEverywhere: %d, %v; want 2", n, err)
	}
	e.wantUsable(t, desk, false, "a session after SignOutEverywhere")
	e.wantUsable(t, web, false, "a cookie session after SignOutEverywhere")
	e.wantUsable(t, device{access: r.String("access_token")}, true, "another user after SignOutEverywhere")
	if _, err := e.auth.SignOutEverywhere(ctx, "user-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("SignOutEverywhere of an unknown user: %v", err)
	}
}

func TestUnlock(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	ctx := context.Background()
	wrong := map[string]any{"username": "alice", "password": "wrong-pw-123", "domain": acmeDomain}
	for range 5 {
		e.c.Do("POST", "/auth/sign_in", wrong)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 429 {
		t.Fatalf("a locked account: %d", r.Status)
	}
	for _, c := range []struct{ name, domain, user string }{
		{"a malformed username", acmeDomain, "bad name!"},
		{"a reserved name in a tenant", acmeDomain, "admin"},
		{"a malformed domain", "a b", "alice"},
	} {
		if err := e.auth.Unlock(ctx, c.domain, c.user); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("Unlock of %s: %v", c.name, err)
		}
	}
	if err := e.auth.Unlock(ctx, "ACME.example.test", "Alice"); err != nil {
		t.Fatal(err)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 200 {
		t.Errorf("after Unlock: %d %s", r.Status, r.Body)
	}
	// A key no user has can be unlocked too: the lock counts submissions.
	if err := e.auth.Unlock(ctx, acmeDomain, "nobody"); err != nil {
		t.Errorf("Unlock of a name no user has: %v", err)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var got []string
	for _, x := range ev.list {
		if x.Kind == pbxauth.EventAccountUnlocked {
			got = append(got, x.UserID+"/"+x.Username)
		}
	}
	if strings.Join(got, " ") != aliceID+"/Alice /nobody" {
		t.Errorf("account_unlocked events: %q", got)
	}
}

func TestUnlinkIdentities(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	const iss = "https://login.example/dir/v2.0"
	for _, l := range []store.Identity{
		{TenantID: acmeID, Issuer: iss, Subject: "sub-alice", UserID: aliceID},
		{TenantID: otherID, Issuer: iss, Subject: "sub-alice", UserID: "user-alice-other"},
	} {
		if err := e.store.LinkIdentity(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.auth.UnlinkIdentities(ctx, aliceID); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.IdentityUser(ctx, acmeID, iss, "sub-alice"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the unlinked account: %v", err)
	}
	if id, err := e.store.IdentityUser(ctx, otherID, iss, "sub-alice"); err != nil || id != "user-alice-other" {
		t.Errorf("another user's link: %q, %v", id, err)
	}
	if err := e.auth.UnlinkIdentities(ctx, "user-missing"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UnlinkIdentities of an unknown user: %v", err)
	}
}
