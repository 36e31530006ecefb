// The tests of what a password change or set does to known devices
// (DESIGN.md "Tokens", the table of changes): POST /user/password and POST
// /admin/password keep the device the caller signed in through and delete
// the user's others; POST /users/{id}/password and SetPassword delete them
// all; a sign-in completed with the second factor records its device too.
// A device that survives still passes the account's lock; a deleted one
// does not.

package pbxauth_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// deviceSignIn signs in with creds from a fresh client presenting the
// device cookie dev (none when ""), and returns the access token and the
// device cookie the answer set.
func deviceSignIn(t *testing.T, e *env, dev string, creds map[string]any) (access, cookie string) {
	t.Helper()
	r := withDevice(t, e, dev, creds)
	c := deviceCookie(r)
	if r.Status != 200 || c == nil {
		t.Fatalf("sign-in through device %q: %d %s", dev, r.Status, r.Body)
	}
	return r.String("access_token"), c.Value
}

// lockWith locks the account of creds (another password) with five wrong
// passwords from clients without a device.
func lockWith(t *testing.T, e *env, creds map[string]any) {
	t.Helper()
	wrong := map[string]any{}
	for k, v := range creds {
		wrong[k] = v
	}
	wrong["password"] = "wrong-password-1"
	for range 5 {
		withDevice(t, e, "", wrong)
	}
	if r := withDevice(t, e, "", creds); r.Status != 429 {
		t.Fatalf("the account is not locked: %d %s", r.Status, r.Body)
	}
}

// wantDeviceKnown checks whether dev still passes the account's lock.
func wantDeviceKnown(t *testing.T, e *env, what, dev string, creds map[string]any, known bool) {
	t.Helper()
	want := 429
	if known {
		want = 200
	}
	if r := withDevice(t, e, dev, creds); r.Status != want {
		t.Errorf("%s during the account's lock: %d %s, want %d", what, r.Status, r.Body, want)
	}
}

// TestChangePasswordKeepsCallersDevice: a change of one's own password
// deletes every known device of the user but the one the caller's sign-in
// was made through, for a user (/user/password) as for the system admin
// (/admin/password); another user's devices stay.
func TestChangePasswordKeepsCallersDevice(t *testing.T) {
	for _, c := range []struct {
		path   string
		creds  map[string]any
		old    string
		others map[string]any // another user's credentials
	}{
		{"/user/password", aliceCreds(), alicePW, map[string]any{"username": "admin", "password": adminPW}},
		{"/admin/password", map[string]any{"username": "admin", "password": adminPW}, adminPW, aliceCreds()},
	} {
		t.Run(c.path, func(t *testing.T) {
			e := newEnv(t, plainHTTP)
			caller, callerDev := deviceSignIn(t, e, "", c.creds)
			_, otherDev := deviceSignIn(t, e, "", c.creds)
			_, strangerDev := deviceSignIn(t, e, "", c.others)
			if r := e.c.Do("POST", c.path, changeBody(c.old, "changed-pw-987"), apitest.Bearer(caller)...); r.Status != 200 {
				t.Fatalf("POST %s: %d %s", c.path, r.Status, r.Body)
			}
			creds := map[string]any{}
			for k, v := range c.creds {
				creds[k] = v
			}
			creds["password"] = "changed-pw-987"
			lockWith(t, e, creds)
			wantDeviceKnown(t, e, "the caller's device", callerDev, creds, true)
			wantDeviceKnown(t, e, "the user's other device", otherDev, creds, false)
			lockWith(t, e, c.others)
			wantDeviceKnown(t, e, "another user's device", strangerDev, c.others, true)
		})
	}
}

// TestSetPasswordForgetsEveryDevice: an administrator's set (POST
// /users/{id}/password) and SetPassword delete every known device of the
// user.
func TestSetPasswordForgetsEveryDevice(t *testing.T) {
	e := newEnv(t, plainHTTP)
	bobID := e.addBob(t)
	bob := bobCreds("bob-pw-1234")
	_, bobDev := deviceSignIn(t, e, "", bob)
	_, bobDev2 := deviceSignIn(t, e, "", bob)
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.setPassword(alice, bobID, "set-by-alice-1"); r.Status != 200 {
		t.Fatalf("POST /users/{id}/password: %d %s", r.Status, r.Body)
	}
	bob = bobCreds("set-by-alice-1")
	lockWith(t, e, bob)
	wantDeviceKnown(t, e, "bob's device after an admin's set", bobDev, bob, false)
	wantDeviceKnown(t, e, "bob's second device after an admin's set", bobDev2, bob, false)

	// The Go API does the same.
	_, aliceDev := deviceSignIn(t, e, "", aliceCreds())
	if err := e.auth.SetPassword(t.Context(), aliceID, "set-from-go-1", false); err != nil {
		t.Fatal(err)
	}
	creds := aliceCreds()
	creds["password"] = "set-from-go-1"
	lockWith(t, e, creds)
	wantDeviceKnown(t, e, "alice's device after SetPassword", aliceDev, creds, false)
}

// noFlagWrites counts separate writes of PasswordForceReset.
type noFlagWrites struct {
	*memstore.Store
	flagWrites atomic.Int32
}

func (s *noFlagWrites) SetPasswordForceReset(ctx context.Context, userID string, force bool) error {
	s.flagWrites.Add(1)
	return s.Store.SetPasswordForceReset(ctx, userID, force)
}

// TestSetPasswordForceResetAtomic: the admin route stores the password and
// password_force_reset in one Store step, never the password first and the
// flag after.
func TestSetPasswordForceResetAtomic(t *testing.T) {
	st := &noFlagWrites{Store: memstore.New()}
	seed(t, st)
	e := newEnvWith(t, st)
	bobID := e.addBob(t)
	alice, _ := e.signIn(t, aliceCreds())
	if r := e.setPassword(alice, bobID, "set-by-alice-1"); r.Status != 200 {
		t.Fatalf("POST /users/{id}/password: %d %s", r.Status, r.Body)
	}
	if u, err := st.User(t.Context(), bobID); err != nil || !u.PasswordForceReset {
		t.Errorf("password_force_reset: %v (%v), want true", u.PasswordForceReset, err)
	}
	if n := st.flagWrites.Load(); n != 0 {
		t.Errorf("%d separate writes of the flag, want none", n)
	}
}

// TestChangePasswordKeepsSecondFactorDevice: a sign-in completed with the
// second factor records the device its code came through too, so a change
// made through it keeps that device.
func TestChangePasswordKeepsSecondFactorDevice(t *testing.T) {
	e := newMailEnv(t, plainHTTP)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	signInWithCode := func() (access, dev string) {
		c := apitest.NewClient(t, e.c.URL)
		r := c.Do("POST", "/auth/sign_in", aliceCreds())
		flow := r.String("token")
		code := e.sendCode(t, flow, aliceEmail)
		r = c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
		if r.Status != 200 || deviceCookie(r) == nil {
			t.Fatalf("verify_otp: %d %s", r.Status, r.Body)
		}
		return r.String("access_token"), deviceCookie(r).Value
	}
	caller, callerDev := signInWithCode()
	_, otherDev := signInWithCode()
	if r := e.c.Do("POST", "/user/password", changeBody(alicePW, "changed-pw-987"), apitest.Bearer(caller)...); r.Status != 200 {
		t.Fatalf("POST /user/password: %d %s", r.Status, r.Body)
	}
	creds := aliceCreds()
	creds["password"] = "changed-pw-987"
	lockWith(t, e.env, creds)
	// Through a known device the password is checked despite the lock,
	// and the second factor is asked: 200 with a flow token.
	wantDeviceKnown(t, e.env, "the caller's device", callerDev, creds, true)
	wantDeviceKnown(t, e.env, "the user's other device", otherDev, creds, false)
}
