// The tests of Auth.ChangePassword, a host's change of a user's own
// password from Go: the refusals (unknown user, the rules and the tenant's
// policy by name, a wrong old password, charged to no limit), the change
// itself (no sign-in kept: an existing bearer is 401 over HTTP after it,
// every known device forgotten, the flag cleared, the user mailed, the
// events), and a change whose user's epoch moved while it ran.

package pbxauth_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/store"
)

func TestGoChangePasswordRefusals(t *testing.T) {
	e := newEnv(t)
	yes := true
	if _, err := e.auth.SetPasswordPolicy(t.Context(), acmeDomain, pbxauth.PasswordPolicyChange{ContainsSpecialLetters: &yes}); err != nil {
		t.Fatal(err)
	}
	access, _ := e.signIn(t, aliceCreds())
	for _, c := range []struct {
		what, userID, old, new string
		want                   error
		says                   string // in the error's text
	}{
		{"an unknown user", "user-none", alicePW, "new-alice-pw-9!", pbxauth.ErrNotFound, ""},
		{"a short new password", aliceID, alicePW, "short", pbxauth.ErrInvalid, "newPassword must be 8-256 characters"},
		{"a new password the tenant's policy refuses", aliceID, alicePW, "newalicepw93", pbxauth.ErrInvalid, "contains_special_letters"},
		{"no old password", aliceID, "", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is required"},
		{"an old password too long to hash", aliceID, strings.Repeat("x", 1025), "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is too long"},
		// Six wrong ones: more than a sign-in lock allows, and not charged to it.
		{"a wrong old password", aliceID, "guess-pw-1", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is wrong"},
		{"a wrong old password", aliceID, "guess-pw-2", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is wrong"},
		{"a wrong old password", aliceID, "guess-pw-3", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is wrong"},
		{"a wrong old password", aliceID, "guess-pw-4", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is wrong"},
		{"a wrong old password", aliceID, "guess-pw-5", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is wrong"},
		{"a wrong old password", aliceID, "guess-pw-6", "new-alice-pw-9!", pbxauth.ErrInvalid, "oldPassword is wrong"},
	} {
		err := e.auth.ChangePassword(t.Context(), c.userID, c.old, c.new)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.says) {
			t.Errorf("%s: %v, want %v saying %q", c.what, err, c.want, c.says)
		}
	}
	// Nothing changed, and the account is not locked.
	e.wantBearer(t, "alice's sign-in after the refusals", access, 200)
	e.wantSignIn(t, alicePW, 200)
	e.wantSignIn(t, "new-alice-pw-9!", 401)
}

func TestGoChangePasswordEndsEverySignIn(t *testing.T) {
	ev := &events{}
	e := newMailEnv(t, plainHTTP, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	if err := e.store.SetPasswordForceReset(t.Context(), aliceID, true); err != nil {
		t.Fatal(err)
	}
	access, refresh := e.signIn(t, aliceCreds())
	_, dev := deviceSignIn(t, e.env, "", aliceCreds())
	if err := e.auth.ChangePassword(t.Context(), aliceID, alicePW, "new-alice-pw-9"); err != nil {
		t.Fatalf("ChangePassword: %v", err)
	}
	// From Go there is no caller's sign-in to keep: the bearer stops working.
	e.wantBearer(t, "a bearer of alice from before the change", access, 401)
	e.wantChanged(t, "a refresh token of alice from before the change", refresh, 401)
	creds := aliceCreds()
	creds["password"] = "new-alice-pw-9"
	lockWith(t, e.env, creds)
	wantDeviceKnown(t, e.env, "alice's device after ChangePassword", dev, creds, false)
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "password was changed") || m.To[0] != aliceEmail {
		t.Errorf("change notice: %+v", m)
	}
	ev.mu.Lock()
	defer ev.mu.Unlock()
	revoked := 0
	for _, x := range ev.list {
		if x.Kind == pbxauth.EventSessionRevoked && x.UserID == aliceID {
			revoked++
		}
	}
	changed := slices.IndexFunc(ev.list, func(x pbxauth.Event) bool { return x.Kind == pbxauth.EventPasswordChanged })
	if revoked != 2 || changed < 0 || ev.list[changed].UserID != aliceID || ev.list[changed].SessionID != "" {
		t.Errorf("events %v: want both sign-ins revoked and password_changed of alice without a sign-in", ev.list)
	}
}

// TestGoChangePasswordStale: a change whose user's password was set while
// it ran (after its check of the old password) changes nothing.
func TestGoChangePasswordStale(t *testing.T) {
	st, e := newChangeHold(t)
	done := make(chan error, 1)
	go func() { done <- e.auth.ChangePassword(t.Context(), aliceID, alicePW, "new-alice-pw-9") }()
	<-st.arrived
	if err := e.auth.SetPassword(t.Context(), aliceID, "set-meanwhile-1", false); err != nil {
		t.Fatal(err)
	}
	close(st.release)
	if err := <-done; !errors.Is(err, store.ErrStale) {
		t.Fatalf("a change overtaken by SetPassword: %v, want ErrStale", err)
	}
	e.wantSignIn(t, "new-alice-pw-9", 401)
	e.wantSignIn(t, "set-meanwhile-1", 200)
}
