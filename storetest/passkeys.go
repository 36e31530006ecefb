// This file checks the optional store.PasskeyStore: records round trip, a
// user's WebAuthn handle is made once, a credential ID belongs to one user
// and a user holds at most max passkeys (also under concurrency, across
// handles), a sign count moves only forward (one of concurrent uses wins),
// nothing is added under a moved epoch or by a sign-in that ended, and
// deleting a passkey, ResetPasskeys and a password reset end what they
// must — a passkey added in a race with a reset included.

package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// passkeyStore returns s as a PasskeyStore, or skips the check.
func passkeyStore(t tb, s store.Store) store.PasskeyStore {
	t.Helper()
	return capability[store.PasskeyStore](t, s)
}

// passkeyMax is the per-user limit the checks pass, DESIGN's default.
const passkeyMax = 10

// passkey returns a passkey of the user named name, made at base+created;
// its bytes hold NUL and high bytes.
func passkey(name, userID string, created time.Duration) store.Passkey {
	return store.Passkey{
		ID: "pk-" + name, UserID: userID,
		CredentialID: append([]byte{0, 0xff, 0x80}, "cred/"+name...),
		PublicKey:    append([]byte{0xa5, 0x01, 0x02, 0x03, 0x26, 0x00}, name...),
		Algorithm:    -7, SignCount: 0, BackupEligible: true, BackupState: true,
		Transports: []string{"hybrid", "internal"}, AAGUID: bytes.Repeat([]byte{0xfb, 0}, 8),
		Name: "Passkey " + name, CreatedAt: at(created),
	}
}

// passkeyUsers stores alice (u-1) and bob (u-2) with a live sign-in each,
// f-1 and f-2, and returns the store's PasskeyStore.
func passkeyUsers(t tb, s store.Store) store.PasskeyStore {
	t.Helper()
	ps := passkeyStore(t, s)
	addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
	signIn(t, s, "u-1", "f-1")
	signIn(t, s, "u-2", "f-2")
	return ps
}

// usersSignIn is the sign-in f-<n> that passkeyUsers stores of u-<n>.
func usersSignIn(userID string) store.Family {
	return store.Family{ID: "f" + userID[1:], UserID: userID, PasswordVerified: true, Method: "password",
		CreatedAt: at(-time.Minute), ExpiresAt: at(24 * time.Hour)}
}

// addPasskey stores p through the user's sign-in f-<n> of u-<n> under the
// user's epoch, or stops the check.
func addPasskey(t tb, s store.Store, p store.Passkey) {
	t.Helper()
	must(t, passkeyStore(t, s).AddPasskey(t.Context(), p, epochOf(t, s, p.UserID), "f"+p.UserID[1:], passkeyMax, base),
		"AddPasskey "+p.ID)
}

// wantPasskeys checks that the user's passkeys are exactly want, newest
// first.
func wantPasskeys(t tb, ps store.PasskeyStore, userID, what string, want ...store.Passkey) {
	t.Helper()
	got, err := ps.Passkeys(t.Context(), userID)
	wantErr(t, err, nil, "Passkeys "+what)
	if got == nil {
		t.Errorf("Passkeys %s: got nil, want a slice", what)
	}
	if want == nil {
		want = []store.Passkey{}
	}
	equal(t, "Passkeys "+what, got, want)
}

// wantPasskey checks that the passkey with p's credential ID reads as p.
func wantPasskey(t tb, ps store.PasskeyStore, p store.Passkey, what string) {
	t.Helper()
	got, err := ps.PasskeyByCredentialID(t.Context(), p.CredentialID)
	wantErr(t, err, nil, "PasskeyByCredentialID "+what)
	equal(t, "PasskeyByCredentialID "+what, got, p)
}

// signInWith stores a passkey sign-in of the user made with the passkey
// pkID.
func signInWith(t tb, s store.Store, userID, familyID, pkID string) session {
	t.Helper()
	ss := session{
		family: store.Family{ID: familyID, UserID: userID, Method: "passkey", CreatedAt: at(-time.Minute),
			ExpiresAt: at(24 * time.Hour), Epoch: epochOf(t, s, userID), PasskeyID: pkID},
		access:  token(familyID+"/access", store.AccessToken, familyID, at(time.Hour)),
		refresh: token(familyID+"/refresh", store.RefreshToken, familyID, at(12*time.Hour)),
	}
	must(t, createFamily(t.Context(), s, ss.family, ss.access, ss.refresh), "CreateFamily "+familyID)
	return ss
}

var passkeyChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		wantPasskeys(t, ps, "u-1", "before any")
		_, err := ps.PasskeyByCredentialID(ctx, passkey("a", "u-1", 0).CredentialID)
		wantErr(t, err, store.ErrNotFound, "PasskeyByCredentialID before any")

		a := passkey("a", "u-1", -2*time.Hour)
		a.SignCount, a.BackupEligible, a.BackupState, a.Algorithm = 1<<32-1, false, false, -257
		a.Transports, a.AAGUID = nil, nil
		addPasskey(t, s, a)
		a.AAGUID = []byte{} // kept as bytes: nil and empty are one
		wantPasskey(t, ps, a, "of a passkey without transports or AAGUID")
		b := passkey("b", "u-1", -time.Hour)
		b.LastUsedAt = at(-30 * time.Minute)
		// Disabled is the store's to set: a new passkey is enabled.
		given := b
		given.Disabled, given.DisabledReason, given.DisabledAt = true, "counter", base
		addPasskey(t, s, given)
		wantPasskey(t, ps, b, "of a passkey with every field")
		// Two made in the same microsecond: the larger ID is listed first.
		twinA, twinB := passkey("twin-a", "u-1", -time.Minute), passkey("twin-b", "u-1", -time.Minute)
		addPasskey(t, s, twinA)
		addPasskey(t, s, twinB)
		bob := passkey("bob", "u-2", 0)
		addPasskey(t, s, bob)
		wantPasskeys(t, ps, "u-1", "of alice", twinB, twinA, b, a)
		wantPasskeys(t, ps, "u-2", "of bob", bob)
		wantPasskeys(t, ps, "u-3", "of a user without any")

		got, err := ps.RenamePasskey(ctx, "u-1", b.ID, "Work laptop")
		wantErr(t, err, nil, "RenamePasskey")
		b.Name = "Work laptop"
		equal(t, "RenamePasskey's answer", got, b)
		wantPasskey(t, ps, b, "after RenamePasskey")
		_, err = ps.RenamePasskey(ctx, "u-2", a.ID, "stolen")
		wantErr(t, err, store.ErrNotFound, "RenamePasskey of another user's passkey")
		_, err = ps.RenamePasskey(ctx, "u-1", "pk-none", "none")
		wantErr(t, err, store.ErrNotFound, "RenamePasskey of an unknown passkey")
		wantPasskey(t, ps, a, "after refused renames")
	}},
	{name: "Invalid", fn: func(t tb, s store.Store) {
		ps := passkeyUsers(t, s)
		for _, c := range []struct {
			what   string
			change func(*store.Passkey)
		}{
			{"without an ID", func(p *store.Passkey) { p.ID = "" }},
			{"without a user", func(p *store.Passkey) { p.UserID = "" }},
			{"without a credential ID", func(p *store.Passkey) { p.CredentialID = nil }},
			{"with a credential ID of 1024 bytes", func(p *store.Passkey) { p.CredentialID = make([]byte, 1024) }},
			{"without a public key", func(p *store.Passkey) { p.PublicKey = nil }},
		} {
			p := passkey("bad", "u-1", 0)
			c.change(&p)
			wantInvalid(t, ps.AddPasskey(t.Context(), p, 0, "f-1", passkeyMax, base), "AddPasskey "+c.what)
		}
		wantPasskeys(t, ps, "u-1", "after invalid additions")
		long := passkey("long", "u-1", 0)
		long.CredentialID = bytes.Repeat([]byte{0xff}, 1023)
		addPasskey(t, s, long)
		wantPasskey(t, ps, long, "with a credential ID of 1023 bytes")
	}},
	{name: "Handle", pair: func(t tb, a, b store.Store) {
		pa, pb, ctx := passkeyStore(t, a), passkeyStore(t, b), t.Context()
		addUser(t, a, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		_, err := pa.UserByWebAuthnHandle(ctx, []byte("none"))
		wantErr(t, err, store.ErrNotFound, "UserByWebAuthnHandle before any")
		_, err = pa.WebAuthnHandle(ctx, "u-none", bytes.Repeat([]byte{9}, 64))
		wantErr(t, err, store.ErrNotFound, "WebAuthnHandle of an unknown user")
		_, err = pa.UserByWebAuthnHandle(ctx, bytes.Repeat([]byte{9}, 64))
		wantErr(t, err, store.ErrNotFound, "UserByWebAuthnHandle of an unknown user's refused handle")

		// Concurrent first calls, through both handles, all get one handle.
		handles := make([][]byte, racers)
		errs := concurrently(racers, func(i int) error {
			p := pa
			if i%2 == 1 {
				p = pb
			}
			h := append(bytes.Repeat([]byte{0, 0xff}, 31), 'h', byte(i))
			var err error
			handles[i], err = p.WebAuthnHandle(ctx, "u-1", h)
			return err
		})
		for i, err := range errs {
			must(t, err, fmt.Sprintf("WebAuthnHandle of racer %d", i))
			if !bytes.Equal(handles[i], handles[0]) || len(handles[i]) != 64 {
				t.Fatalf("WebAuthnHandle: racer %d got %x, racer 0 %x", i, handles[i], handles[0])
			}
		}
		again, err := pb.WebAuthnHandle(ctx, "u-1", bytes.Repeat([]byte{7}, 64))
		wantErr(t, err, nil, "WebAuthnHandle again")
		if !bytes.Equal(again, handles[0]) {
			t.Errorf("WebAuthnHandle again: %x, want the first %x", again, handles[0])
		}
		owner, err := pa.UserByWebAuthnHandle(ctx, handles[0])
		wantErr(t, err, nil, "UserByWebAuthnHandle")
		if owner != "u-1" {
			t.Errorf("UserByWebAuthnHandle: %q, want u-1", owner)
		}
		_, err = pa.WebAuthnHandle(ctx, "u-2", handles[0])
		wantErr(t, err, store.ErrConflict, "WebAuthnHandle of bob with alice's handle")
		bob, err := pa.WebAuthnHandle(ctx, "u-2", bytes.Repeat([]byte{2}, 64))
		wantErr(t, err, nil, "WebAuthnHandle of bob")
		if !bytes.Equal(bob, bytes.Repeat([]byte{2}, 64)) {
			t.Errorf("bob's handle: %x", bob)
		}
	}},
	{name: "AddRefusedStale", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		ending := store.Family{ID: "f-ending", UserID: "u-1", Method: "password", CreatedAt: at(-time.Hour),
			ExpiresAt: at(time.Minute), Epoch: epochOf(t, s, "u-1")}
		must(t, createFamily(ctx, s, ending), "CreateFamily f-ending")
		revoked := signIn(t, s, "u-1", "f-revoked")
		must(t, s.RevokeFamily(ctx, revoked.family.ID), "RevokeFamily")
		p, epoch := passkey("a", "u-1", 0), epochOf(t, s, "u-1")
		for _, c := range []struct {
			what     string
			userID   string
			epoch    int64
			familyID string
			now      time.Time
		}{
			{"under an epoch that is not the user's", "u-1", epoch + 1, "f-1", base},
			{"through a revoked sign-in", "u-1", epoch, "f-revoked", base},
			{"through a sign-in that ended at now", "u-1", epoch, "f-ending", at(time.Minute)},
			{"through another user's sign-in", "u-1", epoch, "f-2", base},
			{"through an unknown sign-in", "u-1", epoch, "f-none", base},
			{"of an unknown user", "u-none", 0, "f-1", base},
		} {
			q := p
			q.UserID = c.userID
			wantErr(t, ps.AddPasskey(ctx, q, c.epoch, c.familyID, passkeyMax, c.now), store.ErrStale, "AddPasskey "+c.what)
		}
		wantPasskeys(t, ps, "u-1", "after stale additions")
		_, err := ps.PasskeyByCredentialID(ctx, p.CredentialID)
		wantErr(t, err, store.ErrNotFound, "PasskeyByCredentialID after stale additions")
		must(t, ps.AddPasskey(ctx, p, epoch, "f-ending", passkeyMax, at(time.Minute-time.Nanosecond)),
			"AddPasskey through a sign-in 1ns before it ends")

		// The epoch a reset moved: what the sign-in read before is stale.
		must(t, s.RevokeUser(ctx, "u-1"), "RevokeUser")
		signIn(t, s, "u-1", "f-new")
		wantErr(t, ps.AddPasskey(ctx, passkey("b", "u-1", 0), epoch, "f-new", passkeyMax, base), store.ErrStale,
			"AddPasskey under the epoch before RevokeUser")
		must(t, ps.AddPasskey(ctx, passkey("b", "u-1", 0), epochOf(t, s, "u-1"), "f-new", passkeyMax, base),
			"AddPasskey under the new epoch")
	}},
	{name: "UniqueCredentialID", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		a := passkey("a", "u-1", 0)
		addPasskey(t, s, a)
		same := passkey("other", "u-2", 0)
		same.CredentialID = a.CredentialID
		wantErr(t, ps.AddPasskey(ctx, same, epochOf(t, s, "u-2"), "f-2", passkeyMax, base), store.ErrConflict,
			"AddPasskey of alice's credential ID by bob")
		same.UserID = "u-1"
		wantErr(t, ps.AddPasskey(ctx, same, epochOf(t, s, "u-1"), "f-1", passkeyMax, base), store.ErrConflict,
			"AddPasskey of a credential ID twice")
		sameID := passkey("a", "u-2", 0)
		sameID.CredentialID = []byte("another credential")
		wantErr(t, ps.AddPasskey(ctx, sameID, epochOf(t, s, "u-2"), "f-2", passkeyMax, base), store.ErrConflict,
			"AddPasskey with an ID that exists")
		wantPasskeys(t, ps, "u-2", "after refused additions")
		wantPasskey(t, ps, a, "after refused additions")
		// A credential ID is bytes: one that differs only in case is another.
		upper := passkey("upper", "u-2", 0)
		upper.CredentialID = bytes.ToUpper(a.CredentialID)
		addPasskey(t, s, upper)
		// The credential taken comes before the limit.
		for i := range passkeyMax - 1 {
			addPasskey(t, s, passkey(fmt.Sprint(i), "u-1", 0))
		}
		full := passkey("full", "u-1", 0)
		full.CredentialID = upper.CredentialID
		wantErr(t, ps.AddPasskey(ctx, full, epochOf(t, s, "u-1"), "f-1", passkeyMax, base), store.ErrConflict,
			"AddPasskey of a taken credential ID by a user at the limit")
	}},
	{name: "ConcurrentCredentialID", pair: func(t tb, a, b store.Store) {
		ctx := t.Context()
		pa, pb := passkeyStore(t, a), passkeyStore(t, b)
		for i := range racers {
			addUser(t, a, user(fmt.Sprintf("u-%d", i), "t-acme", fmt.Sprintf("racer%d", i)))
			signIn(t, a, fmt.Sprintf("u-%d", i), fmt.Sprintf("f-%d", i))
		}
		cred := []byte("one credential, many users")
		errs := concurrently(racers, func(i int) error {
			p := passkey(fmt.Sprint(i), fmt.Sprintf("u-%d", i), 0)
			p.CredentialID = cred
			ps := pa
			if i%2 == 1 {
				ps = pb
			}
			return ps.AddPasskey(ctx, p, 0, fmt.Sprintf("f-%d", i), passkeyMax, base)
		})
		winner := oneWinner(t, "AddPasskey of one credential ID by many users", errs, store.ErrConflict)
		got, err := pb.PasskeyByCredentialID(ctx, cred)
		wantErr(t, err, nil, "PasskeyByCredentialID")
		if want := fmt.Sprintf("u-%d", winner); got.UserID != want {
			t.Errorf("the credential is %s's, want the winner %s's", got.UserID, want)
		}
	}},
	{name: "ConcurrentLimit", pair: func(t tb, a, b store.Store) {
		ctx := t.Context()
		passkeyUsers(t, a)
		addPasskey(t, a, passkey("bob", "u-2", 0)) // another user's do not count
		const adders = 20
		errs := concurrently(adders, func(i int) error {
			s := a
			if i%2 == 1 {
				s = b
			}
			return passkeyStore(t, s).AddPasskey(ctx, passkey(fmt.Sprint(i), "u-1", time.Duration(i)), 0, "f-1", passkeyMax, base)
		})
		added := 0
		for i, err := range errs {
			switch {
			case err == nil:
				added++
			case !errors.Is(err, store.ErrLimit):
				t.Errorf("AddPasskey racer %d: %v, want nil or ErrLimit", i, err)
			}
		}
		if added != passkeyMax {
			t.Errorf("%d of %d concurrent additions succeeded, want exactly %d", added, adders, passkeyMax)
		}
		got, err := passkeyStore(t, b).Passkeys(ctx, "u-1")
		wantErr(t, err, nil, "Passkeys")
		if len(got) != passkeyMax {
			t.Errorf("alice has %d passkeys, want %d", len(got), passkeyMax)
		}
		// Disabled passkeys count too, and deleting one makes room.
		must(t, passkeyStore(t, a).DisablePasskey(ctx, got[0].ID, "counter", base), "DisablePasskey")
		wantErr(t, passkeyStore(t, a).AddPasskey(ctx, passkey("more", "u-1", 0), 0, "f-1", passkeyMax, base), store.ErrLimit,
			"AddPasskey beyond the limit")
		_, err = passkeyStore(t, a).DeletePasskey(ctx, "u-1", got[0].ID, base)
		must(t, err, "DeletePasskey")
		addPasskey(t, b, passkey("more", "u-1", 0))
	}},
	{name: "CountOnlyForward", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		p := passkey("a", "u-1", -time.Hour)
		p.BackupState = false
		addPasskey(t, s, p)
		use := func(count uint32, bs bool, now time.Time, want error, what string) {
			t.Helper()
			wantErr(t, ps.UsePasskey(ctx, p.ID, count, bs, now), want, "UsePasskey "+what)
			if want == nil {
				p.SignCount, p.BackupState, p.LastUsedAt = count, bs, now
			}
			wantPasskey(t, ps, p, "after UsePasskey "+what)
		}
		use(0, false, at(1*time.Minute), nil, "with both counts zero")
		use(0, true, at(2*time.Minute), nil, "with both counts zero again")
		use(5, false, at(3*time.Minute), nil, "moving the count forward")
		use(5, true, at(4*time.Minute), store.ErrStale, "with the same count")
		use(3, true, at(5*time.Minute), store.ErrStale, "with a lower count")
		use(0, true, at(6*time.Minute), store.ErrStale, "with zero after a count")
		use(6, true, at(7*time.Minute), nil, "with the next count")
		use(1<<32-1, false, at(8*time.Minute), nil, "with the largest count")

		must(t, ps.TouchPasskey(ctx, p.ID, true, at(9*time.Minute)), "TouchPasskey")
		p.BackupState, p.LastUsedAt = true, at(9*time.Minute)
		wantPasskey(t, ps, p, "after TouchPasskey")
		wantErr(t, ps.UsePasskey(ctx, "pk-none", 1, false, base), store.ErrNotFound, "UsePasskey of an unknown passkey")
		wantErr(t, ps.TouchPasskey(ctx, "pk-none", false, base), store.ErrNotFound, "TouchPasskey of an unknown passkey")

		must(t, ps.DisablePasskey(ctx, p.ID, "counter", at(10*time.Minute)), "DisablePasskey")
		must(t, ps.DisablePasskey(ctx, p.ID, "backup_eligibility", at(11*time.Minute)), "DisablePasskey again")
		p.Disabled, p.DisabledReason, p.DisabledAt = true, "counter", at(10*time.Minute)
		wantPasskey(t, ps, p, "after DisablePasskey twice")
		wantErr(t, ps.UsePasskey(ctx, p.ID, 1<<32-1, true, base), store.ErrNotFound, "UsePasskey of a disabled passkey")
		wantErr(t, ps.TouchPasskey(ctx, p.ID, false, base), store.ErrNotFound, "TouchPasskey of a disabled passkey")
		wantErr(t, ps.DisablePasskey(ctx, "pk-none", "counter", base), store.ErrNotFound, "DisablePasskey of an unknown passkey")
		wantPasskey(t, ps, p, "after refused uses")
	}},
	{name: "ConcurrentUse", pair: func(t tb, a, b store.Store) {
		ctx := t.Context()
		passkeyUsers(t, a)
		p := passkey("a", "u-1", 0)
		addPasskey(t, a, p)
		must(t, passkeyStore(t, a).UsePasskey(ctx, p.ID, 3, false, base), "UsePasskey")
		const users = 20
		errs := concurrently(users, func(i int) error {
			s := a
			if i%2 == 1 {
				s = b
			}
			return passkeyStore(t, s).UsePasskey(ctx, p.ID, 7, true, at(time.Duration(i+1)*time.Minute))
		})
		winner := oneWinner(t, "UsePasskey with one count", errs, store.ErrStale)
		p.SignCount, p.BackupState, p.LastUsedAt = 7, true, at(time.Duration(winner+1)*time.Minute)
		wantPasskey(t, passkeyStore(t, b), p, "after the race")
	}},
	{name: "DeleteEndsItsSignIns", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		pk1, pk2, bobs := passkey("1", "u-1", -time.Hour), passkey("2", "u-1", 0), passkey("bob", "u-2", 0)
		addPasskey(t, s, pk1)
		addPasskey(t, s, pk2)
		addPasskey(t, s, bobs)
		password := signIn(t, s, "u-1", "f-password")
		with1 := signInWith(t, s, "u-1", "f-with-1", pk1.ID)
		also1 := signInWith(t, s, "u-1", "f-also-1", pk1.ID)
		ended1 := signInWith(t, s, "u-1", "f-ended-1", pk1.ID)
		must(t, s.RevokeFamily(ctx, ended1.family.ID), "RevokeFamily")
		with2 := signInWith(t, s, "u-1", "f-with-2", pk2.ID)
		bob := signInWith(t, s, "u-2", "f-bob", bobs.ID)
		wantFamilies(t, s, "u-2", base, "with a passkey sign-in", signIn(t, s, "u-2", "f-bob-2").family, bob.family,
			usersSignIn("u-2"))
		epoch := epochOf(t, s, "u-1")

		_, err := ps.DeletePasskey(ctx, "u-2", pk1.ID, base)
		wantErr(t, err, store.ErrNotFound, "DeletePasskey of another user's passkey")
		_, err = ps.DeletePasskey(ctx, "u-1", "pk-none", base)
		wantErr(t, err, store.ErrNotFound, "DeletePasskey of an unknown passkey")
		wantEnded(t, s, "refused deletions", nil, password, with1, also1, with2, bob)

		ids, err := ps.DeletePasskey(ctx, "u-1", pk1.ID, base)
		wantRevokedIDs(t, "DeletePasskey", ids, err, "f-with-1", "f-also-1")
		wantEnded(t, s, "DeletePasskey", []session{with1, also1}, password, with2, bob)
		if got := epochOf(t, s, "u-1"); got != epoch {
			t.Errorf("epoch after DeletePasskey: %d, want %d (unchanged)", got, epoch)
		}
		wantPasskeys(t, ps, "u-1", "after DeletePasskey", pk2)
		_, err = ps.PasskeyByCredentialID(ctx, pk1.CredentialID)
		wantErr(t, err, store.ErrNotFound, "PasskeyByCredentialID of a deleted passkey")
		_, err = ps.DeletePasskey(ctx, "u-1", pk1.ID, base)
		wantErr(t, err, store.ErrNotFound, "DeletePasskey twice")
		wantErr(t, ps.UsePasskey(ctx, pk1.ID, 9, false, base), store.ErrNotFound, "UsePasskey of a deleted passkey")

		// A sign-in made with it, in flight while it was deleted, is refused.
		late := signInWithErr(t, s, "u-1", "f-late", pk1.ID)
		wantErr(t, late, store.ErrStale, "CreateFamily with a deleted passkey")
		must(t, ps.DisablePasskey(ctx, pk2.ID, "counter", base), "DisablePasskey")
		wantErr(t, signInWithErr(t, s, "u-1", "f-late-2", pk2.ID), store.ErrStale, "CreateFamily with a disabled passkey")
		wantErr(t, signInWithErr(t, s, "u-1", "f-late-3", bobs.ID), store.ErrStale, "CreateFamily with another user's passkey")
		with2.wantLive(t, s, "after DisablePasskey")
		wantFamilies(t, s, "u-1", base, "after DeletePasskey", with2.family, password.family, usersSignIn("u-1"))

		// The credential ID is free again.
		again := pk1
		again.ID = "pk-again"
		addPasskey(t, s, again)
		ids, err = ps.DeletePasskey(ctx, "u-1", again.ID, base)
		wantRevokedIDs(t, "DeletePasskey of a passkey without sign-ins", ids, err)
	}},
	{name: "ResetPasskeys", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		handle, err := ps.WebAuthnHandle(ctx, "u-1", bytes.Repeat([]byte{1}, 64))
		must(t, err, "WebAuthnHandle")
		pk, bobs := passkey("1", "u-1", 0), passkey("bob", "u-2", 0)
		addPasskey(t, s, pk)
		addPasskey(t, s, passkey("2", "u-1", 0))
		addPasskey(t, s, bobs)
		password := signIn(t, s, "u-1", "f-password")
		with := signInWith(t, s, "u-1", "f-with", pk.ID)
		bob := signIn(t, s, "u-2", "f-bob")
		epoch := epochOf(t, s, "u-1")

		ids, err := ps.ResetPasskeys(ctx, "u-1", base)
		wantRevokedIDs(t, "ResetPasskeys", ids, err, "f-1", "f-password", "f-with")
		wantEnded(t, s, "ResetPasskeys", []session{password, with}, bob)
		if got := epochOf(t, s, "u-1"); got != epoch+1 {
			t.Errorf("epoch after ResetPasskeys: %d, want %d", got, epoch+1)
		}
		wantPasskeys(t, ps, "u-1", "after ResetPasskeys")
		wantPasskeys(t, ps, "u-2", "of another user after ResetPasskeys", bobs)
		kept, err := ps.WebAuthnHandle(ctx, "u-1", bytes.Repeat([]byte{2}, 64))
		must(t, err, "WebAuthnHandle after ResetPasskeys")
		if !bytes.Equal(kept, handle) {
			t.Errorf("the handle after ResetPasskeys: %x, want the kept %x", kept, handle)
		}
		wantErr(t, ps.AddPasskey(ctx, pk, epoch, "f-1", passkeyMax, base), store.ErrStale, "AddPasskey under the epoch before ResetPasskeys")
		_, err = ps.ResetPasskeys(ctx, "u-none", base)
		wantErr(t, err, store.ErrNotFound, "ResetPasskeys of an unknown user")
		ids, err = ps.ResetPasskeys(ctx, "u-1", base)
		wantRevokedIDs(t, "ResetPasskeys of a user without passkeys or sign-ins", ids, err)
	}},
	{name: "ResetPasswordDeletesRecent", fn: func(t tb, s store.Store) {
		ps, ctx := passkeyUsers(t, s), t.Context()
		const day = 24 * time.Hour
		old, older := passkey("old", "u-1", -10*day), passkey("8d", "u-1", -8*day)
		atEdge, recent := passkey("edge", "u-1", -7*day), passkey("recent", "u-1", -time.Hour)
		bobs := passkey("bob", "u-2", -time.Hour)
		for _, p := range []store.Passkey{old, recent, atEdge, older, bobs} {
			addPasskey(t, s, p)
		}
		with := signInWith(t, s, "u-1", "f-with", old.ID)
		bob := signIn(t, s, "u-2", "f-bob")
		epoch := epochOf(t, s, "u-1")

		deleted, err := ps.ResetPasswordPasskeys(ctx, "u-1", "$argon2id$reset", at(-7*day))
		wantErr(t, err, nil, "ResetPasswordPasskeys")
		equal(t, "the passkeys ResetPasswordPasskeys deleted", deleted, []store.Passkey{recent, atEdge})
		wantPasskeys(t, ps, "u-1", "after ResetPasswordPasskeys", older, old)
		wantPasskeys(t, ps, "u-2", "of another user after ResetPasswordPasskeys", bobs)
		u, err := s.User(ctx, "u-1")
		must(t, err, "User")
		if u.PasswordHash != "$argon2id$reset" || u.Epoch != epoch+1 {
			t.Errorf("after ResetPasswordPasskeys: hash %q, epoch %d; want the new hash, epoch %d", u.PasswordHash, u.Epoch, epoch+1)
		}
		wantEnded(t, s, "ResetPasswordPasskeys", []session{with}, bob)

		deleted, err = ps.ResetPasswordPasskeys(ctx, "u-1", "$argon2id$again", time.Time{})
		wantErr(t, err, nil, "ResetPasswordPasskeys since the zero time")
		equal(t, "the passkeys deleted since the zero time", deleted, []store.Passkey{})
		wantPasskeys(t, ps, "u-1", "after ResetPasswordPasskeys since the zero time", older, old)
		_, err = ps.ResetPasswordPasskeys(ctx, "u-none", "$argon2id$x", base)
		wantErr(t, err, store.ErrNotFound, "ResetPasswordPasskeys of an unknown user")
	}},
	{name: "DeleteRacesSignIns", pair: func(t tb, a, b store.Store) {
		ctx := t.Context()
		passkeyUsers(t, a)
		pk := passkey("1", "u-1", 0)
		addPasskey(t, a, pk)
		var revoked []string
		stored := raceUntil(t, a, b, "DeletePasskey", 1, func(s store.Store, id string, _ int) error {
			return signInWithErr(t, s, "u-1", id, pk.ID)
		}, func() error {
			var err error
			revoked, err = passkeyStore(t, b).DeletePasskey(ctx, "u-1", pk.ID, base)
			return err
		})
		// Every sign-in made with it was ended by it, none after it stored.
		live, err := a.Families(ctx, "u-1", base)
		must(t, err, "Families")
		equal(t, "the sign-ins left", live, []store.Family{usersSignIn("u-1")})
		slices.Sort(revoked)
		slices.Sort(stored)
		equal(t, "the sign-ins DeletePasskey ended", revoked, stored)
	}},
	{name: "RaceWithReset", pair: func(t tb, a, b store.Store) {
		for _, reset := range []struct {
			name string
			do   func(ps store.PasskeyStore, userID string) error
		}{
			{"ResetPasswordPasskeys", func(ps store.PasskeyStore, userID string) error {
				_, err := ps.ResetPasswordPasskeys(t.Context(), userID, "$argon2id$reset", at(-7*24*time.Hour))
				return err
			}},
			{"ResetPasskeys", func(ps store.PasskeyStore, userID string) error {
				_, err := ps.ResetPasskeys(t.Context(), userID, base)
				return err
			}},
		} {
			racePasskeyReset(t, a, b, reset.name, reset.do)
		}
	}},
}

// signInWithErr is signInWith that returns CreateFamily's error.
func signInWithErr(t tb, s store.Store, userID, familyID, pkID string) error {
	t.Helper()
	f := store.Family{ID: familyID, UserID: userID, Method: "passkey", CreatedAt: base, ExpiresAt: at(time.Hour),
		Epoch: epochOf(t, s, userID), PasskeyID: pkID}
	return createFamily(t.Context(), s, f)
}

// racePasskeyReset races additions of passkeys through both handles, each
// under the epoch read before, against reset through b: once reset has
// returned the user has no passkey (each was refused or deleted), and
// every addition after it is refused.
func racePasskeyReset(t tb, a, b store.Store, name string, reset func(ps store.PasskeyStore, userID string) error) {
	t.Helper()
	ctx := t.Context()
	userID := "u-" + name
	addUser(t, a, user(userID, "t-acme", name))
	signIn(t, a, userID, "f-"+name)
	epoch := epochOf(t, a, userID)
	raceUntil(t, a, b, name, 1, func(s store.Store, id string, _ int) error {
		return passkeyStore(t, s).AddPasskey(ctx, passkey(id, userID, 0), epoch, "f-"+name, 1<<20, base)
	}, func() error { return reset(passkeyStore(t, b), userID) })
	left, err := passkeyStore(t, a).Passkeys(ctx, userID)
	must(t, err, "Passkeys")
	if len(left) != 0 {
		t.Errorf("%s: %d passkeys added under the old epoch outlived it", name, len(left))
	}
}
