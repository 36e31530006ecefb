// The table of DESIGN.md "Tokens" of what each change of credentials does
// to a user's sign-ins and known devices, row by row, over HTTP: a
// password sign-in through a known device and a Microsoft sign-in are
// made, the change is applied, and each must be ended or kept as the row
// says.

package pbxauth_test

import (
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// change is a row of the table: how to apply it, and what it must do.
type change struct {
	name string
	// apply applies the change to alice; access is the password
	// sign-in's token, for the routes that act as the user.
	apply func(t *testing.T, e *mailEnv, access string)
	// passwordEnds: the password sign-in ends (else it is carried over);
	// a Microsoft sign-in ends with every change of the table.
	passwordEnds bool
	// devicesDeleted: the known devices are deleted (else kept).
	devicesDeleted bool
	// password is alice's password after the change.
	password string
}

var changes = []change{
	{"reset_password", func(t *testing.T, e *mailEnv, _ string) {
		e.forget(t, "alice")
		if r := e.reset(t, e.resetToken(t, aliceEmail), "victims-new-pw-1"); r.Status != 200 {
			t.Fatalf("reset_password: %d %s", r.Status, r.Body)
		}
	}, true, true, "victims-new-pw-1"},
	{"SetPassword", func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.SetPassword(t.Context(), aliceID, "victims-new-pw-1", false); err != nil {
			t.Fatal(err)
		}
	}, true, true, "victims-new-pw-1"},
	{"DisableUser", func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.DisableUser(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
		if err := e.auth.EnableUser(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}, true, true, alicePW},
	{"sign_out?scope=global", func(t *testing.T, e *mailEnv, access string) {
		if r := e.c.Do("POST", "/auth/sign_out?scope=global", nil, apitest.Bearer(access)...); r.Status != 200 {
			t.Fatalf("sign_out global: %d %s", r.Status, r.Body)
		}
	}, true, true, alicePW},
	{"SignOutEverywhere", func(t *testing.T, e *mailEnv, _ string) {
		if _, err := e.auth.SignOutEverywhere(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}, true, true, alicePW},
	{"ResetTOTP", func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.ResetTOTP(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}, true, false, alicePW},
	{"UnlinkIdentities", func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.UnlinkIdentities(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}, false, false, alicePW},
}

// microsoftSignIn stores a live sign-in of alice made through Microsoft
// and returns its access token.
func microsoftSignIn(t *testing.T, e *mailEnv) string {
	t.Helper()
	ctx, now := t.Context(), e.clock.Now()
	u, err := e.store.User(ctx, aliceID)
	if err != nil {
		t.Fatal(err)
	}
	const access = "a-microsoft-sign-in-s-access-token-of-alice"
	f := store.Family{ID: "ms-sign-in", UserID: aliceID, Method: "microsoft", CreatedAt: now, LastUsedAt: now,
		ExpiresAt: now.Add(time.Hour), Epoch: u.Epoch}
	tok := store.Token{Hash: store.HashToken(access), Kind: store.AccessToken, FamilyID: f.ID, ExpiresAt: now.Add(time.Hour)}
	if _, err := e.store.CreateFamily(ctx, f, 0, tok); err != nil {
		t.Fatal(err)
	}
	return access
}

// TestWhatEachChangeEnds: each row of the table.
func TestWhatEachChangeEnds(t *testing.T) {
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			e := newMailEnv(t, plainHTTP)
			r := withDevice(t, e.env, "", aliceCreds())
			if r.Status != 200 {
				t.Fatalf("alice's sign-in: %d %s", r.Status, r.Body)
			}
			access, device := r.String("access_token"), deviceCookie(r).Value
			ms := microsoftSignIn(t, e)

			c.apply(t, e, access)

			want := map[bool]int{true: 401, false: 200}
			if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != want[c.passwordEnds] {
				t.Errorf("the password sign-in after %s: %d, want %d", c.name, r.Status, want[c.passwordEnds])
			}
			if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(ms)...); r.Status != 401 {
				t.Errorf("the Microsoft sign-in after %s: %d, want 401", c.name, r.Status)
			}
			// The account is locked by others' failures: only a device
			// still known passes.
			for range 5 {
				withDevice(t, e.env, "", wrongAlice())
			}
			creds := aliceCreds()
			creds["password"] = c.password
			want = map[bool]int{true: 429, false: 200}
			if r := withDevice(t, e.env, device, creds); r.Status != want[c.devicesDeleted] {
				t.Errorf("the known device after %s, during the account's lock: %d, want %d (deleted: %v)", c.name, r.Status, want[c.devicesDeleted], c.devicesDeleted)
			}
		})
	}
}

// TestRecentSignInThroughMicrosoft: a sign-in whose last factor was a
// Microsoft account is recent for 10 minutes, as one that proved the
// password (DESIGN.md "Recent sign-in"): it may start an authenticator
// app's enrolment, and after 10 minutes is refused 403 with reason
// insufficient_scope.
func TestRecentSignInThroughMicrosoft(t *testing.T) {
	e := newMailEnv(t, withKeys)
	ms := microsoftSignIn(t, e)
	if r := e.c.Do("POST", "/auth/totp", nil, apitest.Bearer(ms)...); r.Status != 200 {
		t.Errorf("enrolment from a fresh Microsoft sign-in: %d %s, want 200", r.Status, r.Body)
	}
	e.clock.Advance(10 * time.Minute)
	r := e.c.Do("POST", "/auth/totp", nil, apitest.Bearer(ms)...)
	if r.Status != 403 || r.Reason() != "insufficient_scope" {
		t.Errorf("enrolment from a Microsoft sign-in 10 minutes old: %d %s, want 403 with reason insufficient_scope", r.Status, r.Body)
	}
}
