// This file checks ChangePassword, a user's change of their own password
// through one of their sign-ins: the new hash, the new epoch, the end of
// every other sign-in and the carry-over of the caller's, the deletion of
// every known device of the user but the caller's sign-in's, in one step,
// refused with ErrStale when the epoch moved or the caller's sign-in
// ended, and of two concurrent changes under one epoch exactly one stored
// — in this process or another; with no sign-in to keep, the end of every
// sign-in and device under the same epoch guard; and SetUsername, a rename that changes
// nothing else.

package storetest

import (
	"fmt"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// changeSetup stores user u-1 (force reset set) with sign-ins f-keep
// (made through device d-keep), f-other (through d-other) and f-later
// (through none), and an expired one, the devices d-keep, d-other and
// d-spare of u-1 and d-bob of u-2, and returns f-keep and the user's
// epoch.
func changeSetup(t tb, s store.Store) (session, int64) {
	t.Helper()
	u := user("u-1", "t-acme", "alice")
	u.PasswordForceReset = true
	addUser(t, s, u, user("u-2", "t-acme", "bob"))
	for _, d := range changeDevices() {
		addDevice(t, s, d, 10, base)
	}
	keep := signInOn(t, s, "u-1", "f-keep", "d-keep")
	signInOn(t, s, "u-1", "f-other", "d-other")
	signIn(t, s, "u-1", "f-later")
	signInAt(t, s, "u-1", "f-expired", at(-2*time.Hour), at(-time.Hour))
	signIn(t, s, "u-2", "f-bob")
	return keep, epochOf(t, s, "u-1")
}

// changeDevices are the devices changeSetup stores.
func changeDevices() []store.Device {
	return []store.Device{device("keep", "u-1", 0), device("other", "u-1", 0), device("spare", "u-1", 0), device("bob", "u-2", 0)}
}

// wantDevices checks which of changeDevices are still stored: those named
// in kept, and no other.
func wantDevices(t tb, s store.Store, what string, kept ...string) {
	t.Helper()
	for _, d := range changeDevices() {
		want := store.Device{}
		if slices.Contains(kept, d.ID) {
			want = d
		}
		wantDevice(t, s, d.Hash, want, base, d.ID+" "+what)
	}
}

// wantUnchanged checks that the user's hash, epoch, sign-ins and devices
// are those changeSetup stored.
func wantUnchanged(t tb, s store.Store, epoch int64, what string) {
	t.Helper()
	u, err := s.User(t.Context(), "u-1")
	must(t, err, "User")
	if u.PasswordHash != user("u-1", "", "").PasswordHash || !u.PasswordForceReset || u.Epoch != epoch {
		t.Errorf("%s: user changed: hash %q, force reset %v, epoch %d (was %d)", what, u.PasswordHash, u.PasswordForceReset, u.Epoch, epoch)
	}
	fs, err := s.Families(t.Context(), "u-1", base)
	must(t, err, "Families")
	if len(fs) != 3 {
		t.Errorf("%s: %d live sign-ins, want 3", what, len(fs))
	}
	wantDevices(t, s, what, "d-keep", "d-other", "d-spare", "d-bob")
}

var passwordChecks = []check{
	{name: "ChangePassword", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		keep, epoch := changeSetup(t, s)
		ids, err := s.ChangePassword(ctx, "u-1", epoch, "f-keep", "$argon2id$changed", base)
		must(t, err, "ChangePassword")
		slices.Sort(ids)
		equal(t, "revoked IDs", ids, []string{"f-later", "f-other"})
		u, err := s.User(ctx, "u-1")
		must(t, err, "User")
		if u.PasswordHash != "$argon2id$changed" || u.PasswordForceReset || u.Epoch != epoch+1 {
			t.Errorf("after ChangePassword: hash %q, force reset %v, epoch %d; want the new hash, false, %d",
				u.PasswordHash, u.PasswordForceReset, u.Epoch, epoch+1)
		}
		fs, err := s.Families(ctx, "u-1", base)
		must(t, err, "Families")
		if len(fs) != 1 || fs[0].ID != "f-keep" || fs[0].Epoch != epoch+1 {
			t.Errorf("after ChangePassword: live sign-ins %+v, want f-keep alone, carried to epoch %d", fs, epoch+1)
		}
		keep.wantLive(t, s, "after the change made through it")
		// The caller's device stays; the user's others go, another user's stay.
		wantDevices(t, s, "after ChangePassword through d-keep", "d-keep", "d-bob")
		signIn(t, s, "u-2", "f-bob-2") // another user's sign-ins are not touched
		if bob, _ := s.Families(ctx, "u-2", base); len(bob) != 2 {
			t.Errorf("another user's sign-ins: %d live, want 2", len(bob))
		}
		f := familyAt("u-1", "f-old-epoch", epoch, base)
		wantErr(t, createFamily(ctx, s, f, token("f-old-epoch/a", store.AccessToken, "f-old-epoch", at(time.Hour))),
			store.ErrStale, "CreateFamily under the epoch before the change")
	}},
	{name: "ChangePasswordWithoutDevice", fn: func(t tb, s store.Store) {
		// A sign-in made through no known device spares none.
		_, epoch := changeSetup(t, s)
		_, err := s.ChangePassword(t.Context(), "u-1", epoch, "f-later", "$argon2id$changed", base)
		must(t, err, "ChangePassword through f-later")
		wantDevices(t, s, "after ChangePassword through a sign-in without a device", "d-bob")
	}},
	{name: "ChangePasswordWithoutSignIn", fn: func(t tb, s store.Store) {
		// keep "" (a host's change from Go) carries nothing over: every
		// sign-in ends, every device of the user goes, the epoch still
		// guards the step.
		ctx := t.Context()
		keep, epoch := changeSetup(t, s)
		_, err := s.ChangePassword(ctx, "u-1", epoch+1, "", "$argon2id$changed", base)
		wantErr(t, err, store.ErrStale, "ChangePassword without a sign-in, under an epoch that moved")
		wantUnchanged(t, s, epoch, "ChangePassword without a sign-in, under an epoch that moved")
		ids, err := s.ChangePassword(ctx, "u-1", epoch, "", "$argon2id$changed", base)
		must(t, err, "ChangePassword without a sign-in")
		slices.Sort(ids)
		equal(t, "revoked IDs", ids, []string{"f-keep", "f-later", "f-other"})
		u, err := s.User(ctx, "u-1")
		must(t, err, "User")
		if u.PasswordHash != "$argon2id$changed" || u.PasswordForceReset || u.Epoch != epoch+1 {
			t.Errorf("after ChangePassword without a sign-in: hash %q, force reset %v, epoch %d; want the new hash, false, %d",
				u.PasswordHash, u.PasswordForceReset, u.Epoch, epoch+1)
		}
		keep.wantRevoked(t, s, "after a change without a sign-in")
		wantDevices(t, s, "after ChangePassword without a sign-in", "d-bob")
		if bob, _ := s.Families(ctx, "u-2", base); len(bob) != 1 {
			t.Errorf("another user's sign-ins: %d live, want 1", len(bob))
		}
	}},
	{name: "ChangePasswordStale", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		_, epoch := changeSetup(t, s)
		for _, c := range []struct {
			what  string
			epoch int64
			keep  string
			now   time.Time
		}{
			{"an epoch that moved", epoch + 1, "f-keep", base},
			{"an older epoch", epoch - 1, "f-keep", base},
			{"an unknown sign-in", epoch, "f-none", base},
			{"another user's sign-in", epoch, "f-bob", base},
			{"an expired sign-in", epoch, "f-expired", base},
			{"a sign-in past its end", epoch, "f-keep", at(25 * time.Hour)},
		} {
			_, err := s.ChangePassword(ctx, "u-1", c.epoch, c.keep, "$argon2id$changed", c.now)
			wantErr(t, err, store.ErrStale, "ChangePassword with "+c.what)
			wantUnchanged(t, s, epoch, "ChangePassword with "+c.what)
		}
		must(t, s.RevokeFamily(ctx, "f-keep"), "RevokeFamily")
		_, err := s.ChangePassword(ctx, "u-1", epoch, "f-keep", "$argon2id$changed", base)
		wantErr(t, err, store.ErrStale, "ChangePassword through a revoked sign-in")
		_, err = s.ChangePassword(ctx, "u-none", 0, "f-keep", "$argon2id$changed", base)
		wantErr(t, err, store.ErrNotFound, "ChangePassword of an unknown user")
	}},
	{name: "ConcurrentChangePassword", pair: func(t tb, a, b store.Store) {
		ctx := t.Context()
		_, epoch := changeSetup(t, a)
		const n = 8
		errs := concurrently(n, func(i int) error {
			s := a
			if i%2 == 1 {
				s = b
			}
			_, err := s.ChangePassword(ctx, "u-1", epoch, "f-keep", fmt.Sprintf("$argon2id$racer-%d", i), base)
			return err
		})
		w := oneWinner(t, "ChangePassword under one epoch", errs, store.ErrStale)
		u, err := b.User(ctx, "u-1")
		must(t, err, "User")
		if want := fmt.Sprintf("$argon2id$racer-%d", w); u.PasswordHash != want || u.Epoch != epoch+1 {
			t.Errorf("after the race: hash %q, epoch %d; want the winner's %q, %d", u.PasswordHash, u.Epoch, want, epoch+1)
		}
	}},
	{name: "ChangePasswordRacesEnders", pair: func(t tb, a, b store.Store) {
		// A reset that commits first makes the change stale; one that
		// commits after ends the kept sign-in too. Never both survive.
		ctx := t.Context()
		keep, epoch := changeSetup(t, a)
		errs := concurrently(2, func(i int) error {
			if i == 0 {
				_, err := a.ChangePassword(ctx, "u-1", epoch, "f-keep", "$argon2id$changed", base)
				return err
			}
			return b.ResetPassword(ctx, "u-1", "$argon2id$reset", false)
		})
		if errs[1] != nil {
			t.Fatalf("ResetPassword: %v", errs[1])
		}
		if errs[0] != nil {
			wantErr(t, errs[0], store.ErrStale, "ChangePassword racing a reset")
		}
		u, err := a.User(ctx, "u-1")
		must(t, err, "User")
		if u.PasswordHash != "$argon2id$reset" {
			t.Errorf("after a change and a reset: hash %q, want the reset's", u.PasswordHash)
		}
		keep.wantRevoked(t, a, "after a reset")
	}},
}

// renameChecks checks SetUsername: a rename changes the name alone, keeps
// the epoch and the hash, is refused for a name another user of the tenant
// holds in any case, and allows a change of case alone.
var renameChecks = []check{
	{name: "SetUsername", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "", "root"), user("u-2", "", "operator"), user("u-3", "t-acme", "alice"))
		before, err := s.User(ctx, "u-1")
		must(t, err, "User")
		must(t, s.SetUsername(ctx, "u-1", "Chief"), "SetUsername to a free name")
		want := before
		want.Username = "Chief"
		wantUser(t, s, want)
		if got := epochOf(t, s, "u-1"); got != before.Epoch {
			t.Errorf("SetUsername moved the epoch: %d, was %d", got, before.Epoch)
		}
		if _, err := s.UserByName(ctx, "", "root"); err == nil {
			t.Errorf("the old name still finds the user")
		}
		for _, taken := range caseVariants("Operator") {
			wantErr(t, s.SetUsername(ctx, "u-1", taken), store.ErrConflict, "SetUsername to "+taken+", another system user's")
		}
		must(t, s.SetUsername(ctx, "u-1", "alice"), "SetUsername to a tenant user's name")
		must(t, s.SetUsername(ctx, "u-1", "ALICE"), "SetUsername changing case alone")
		want.Username = "ALICE"
		wantUser(t, s, want)
		wantErr(t, s.SetUsername(ctx, "u-none", "nobody"), store.ErrNotFound, "SetUsername of an unknown user")
	}},
}
