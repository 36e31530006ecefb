// This file checks UserFlagStore: each flag set alone, whatever else changed.

package storetest

import (
	"github.com/pbxauth/pbxauth/store"
)

var userFlagChecks = []check{
	{name: "SetFlags", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		alice, bob := user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob")
		addUser(t, s, alice, bob)
		// A password reset after the operator read the user is kept.
		must(t, s.ResetPassword(ctx, alice.ID, "$argon2id$new", false), "ResetPassword")
		alice.PasswordHash = "$argon2id$new"
		must(t, s.SetUserDisabled(ctx, alice.ID, true), "SetUserDisabled true")
		alice.Disabled = true
		wantUser(t, s, alice)
		must(t, s.SetPasswordForceReset(ctx, alice.ID, true), "SetPasswordForceReset true")
		alice.PasswordForceReset = true
		wantUser(t, s, alice)
		must(t, s.SetUserDisabled(ctx, alice.ID, false), "SetUserDisabled false")
		must(t, s.SetPasswordForceReset(ctx, alice.ID, false), "SetPasswordForceReset false")
		alice.Disabled, alice.PasswordForceReset = false, false
		wantUser(t, s, alice)
		wantUser(t, s, bob)
		wantErr(t, s.SetUserDisabled(ctx, "u-missing", true), store.ErrNotFound, "SetUserDisabled of a missing user")
		wantErr(t, s.SetPasswordForceReset(ctx, "u-missing", true), store.ErrNotFound, "SetPasswordForceReset of a missing user")
	}},
	{name: "DisabledUserNotGranted", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		must(t, s.SetUserDisabled(t.Context(), "u-1", true), "SetUserDisabled")
		ss.wantRevoked(t, s, "of a user disabled by SetUserDisabled")
		must(t, s.SetUserDisabled(t.Context(), "u-1", false), "SetUserDisabled false")
		ss.wantLive(t, s, "of a user enabled again")
	}},
}
