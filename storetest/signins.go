// This file checks what sign-ins record beyond their tokens and the
// SignInStore part of the contract: touching, listing newest first without
// revoked or expired sign-ins, ending one of a user's sign-ins or all but
// one, and removing a user's identity links.

package storetest

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// signInAt stores a sign-in of the user made at created, live until ends.
func signInAt(t tb, s store.Store, userID, familyID string, created, ends time.Time) session {
	t.Helper()
	return signInThrough(t, s, "password", userID, familyID, created, ends)
}

// wantRevokedIDs checks the answer of a step that revokes sign-ins and
// returns their IDs: no error, and want in any order (an empty slice, not
// nil, for none).
func wantRevokedIDs(t tb, what string, ids []string, err error, want ...string) {
	t.Helper()
	wantErr(t, err, nil, what)
	if ids == nil {
		t.Errorf("%s: got nil, want a slice", what)
	}
	ids = slices.Sorted(slices.Values(ids))
	if !slices.Equal(ids, slices.Sorted(slices.Values(want))) {
		t.Errorf("%s revoked %q, want %q", what, ids, want)
	}
}

// wantEnded checks that after the step what the sign-ins ended are
// revoked and those kept live.
func wantEnded(t tb, s store.Store, what string, ended []session, kept ...session) {
	t.Helper()
	for _, ss := range ended {
		ss.wantRevoked(t, s, "after "+what)
	}
	for _, ss := range kept {
		ss.wantLive(t, s, what+" spared")
	}
}

// signInThrough is signInAt of a sign-in made through method.
func signInThrough(t tb, s store.Store, method, userID, familyID string, created, ends time.Time) session {
	t.Helper()
	ss := session{
		family: store.Family{ID: familyID, UserID: userID, PasswordVerified: method == "password", Method: method,
			CreatedAt: created, ExpiresAt: ends, LastUsedAt: created, ClientIP: "192.0.2.7", UserAgent: "agent of " + familyID,
			Epoch: epochIfAny(t, s, userID)},
		access:  token(familyID+"/access", store.AccessToken, familyID, minTime(at(time.Hour), ends)),
		refresh: token(familyID+"/refresh", store.RefreshToken, familyID, ends),
	}
	must(t, createFamily(t.Context(), s, ss.family, ss.access, ss.refresh), "CreateFamily "+familyID)
	return ss
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// wantFamilies checks that Families lists exactly the given sign-ins, in
// that order.
func wantFamilies(t tb, s store.Store, userID string, now time.Time, what string, want ...store.Family) {
	t.Helper()
	got, err := s.Families(t.Context(), userID, now)
	wantErr(t, err, nil, "Families "+what)
	if want == nil {
		want = []store.Family{}
	}
	if got == nil {
		t.Errorf("Families %s: got nil, want an empty slice", what)
		got = []store.Family{}
	}
	equal(t, "Families "+what, got, want)
}

var signInChecks = []check{
	{name: "RecordsRoundTrip", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		// Every byte a cleaned agent may hold: 256 bytes, multi-byte runes.
		agent := strings.Repeat("é", 127) + "ab"
		f := store.Family{ID: "f-1", UserID: "u-1", Method: "microsoft", CreatedAt: at(-time.Hour), ExpiresAt: at(time.Hour),
			LastUsedAt: at(-time.Minute), ClientIP: "2001:db8::1", UserAgent: agent, DeviceID: "d-1"}
		acc := token("f-1/access", store.AccessToken, "f-1", at(time.Hour))
		must(t, createFamily(t.Context(), s, f, acc), "CreateFamily")
		wantGrant(t, s, acc, f, base, "of a sign-in with its records")
		wantFamilies(t, s, "u-1", base, "of a sign-in with its records", f)
	}},
	{name: "FamiliesNewestFirst", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		wantFamilies(t, s, "u-1", base, "before any sign-in")
		old := signInAt(t, s, "u-1", "f-old", at(-3*time.Hour), at(time.Hour))
		mid := signInAt(t, s, "u-1", "f-mid", at(-2*time.Hour), at(time.Hour))
		// Two made in the same microsecond: the larger ID is listed first.
		twinA := signInAt(t, s, "u-1", "f-twin-a", at(-time.Hour), at(time.Hour))
		twinB := signInAt(t, s, "u-1", "f-twin-b", at(-time.Hour), at(time.Hour))
		ending := signInAt(t, s, "u-1", "f-ending", at(-30*time.Minute), at(time.Minute))
		revoked := signInAt(t, s, "u-1", "f-revoked", at(-10*time.Minute), at(time.Hour))
		must(t, s.RevokeFamily(ctx, revoked.family.ID), "RevokeFamily")
		signInAt(t, s, "u-2", "f-bob", at(-5*time.Minute), at(time.Hour))
		wantFamilies(t, s, "u-1", base, "of five live sign-ins",
			ending.family, twinB.family, twinA.family, mid.family, old.family)
		wantFamilies(t, s, "u-1", at(time.Minute-time.Nanosecond), "1ns before one ends",
			ending.family, twinB.family, twinA.family, mid.family, old.family)
		wantFamilies(t, s, "u-1", at(time.Minute), "when one ends",
			twinB.family, twinA.family, mid.family, old.family)
		wantFamilies(t, s, "u-missing", base, "of a user without sign-ins")
	}},
	{name: "TouchFamily", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signInAt(t, s, "u-1", "f-1", at(-time.Hour), at(time.Hour))
		// Used at -1h: a touch that calls anything before -2h stale writes nothing.
		must(t, s.TouchFamily(ctx, "f-1", base, at(-2*time.Hour)), "TouchFamily of a fresh sign-in")
		wantFamilies(t, s, "u-1", base, "after a touch of a fresh sign-in", ss.family)
		must(t, s.TouchFamily(ctx, "f-1", base, at(-time.Hour)), "TouchFamily at the staleness bound")
		ss.family.LastUsedAt = base
		wantFamilies(t, s, "u-1", base, "after a touch of a stale sign-in", ss.family)
		wantGrant(t, s, ss.access, ss.family, base, "after a touch")
		must(t, s.TouchFamily(ctx, "f-missing", base, base), "TouchFamily of a missing family")

		// Many instances touching at once: one write wins, and a later
		// touch within the minute of it writes nothing.
		nows := make([]time.Time, racers)
		errs := concurrently(racers, func(i int) error {
			nows[i] = at(time.Minute + time.Duration(i)*time.Microsecond)
			return s.TouchFamily(ctx, "f-1", nows[i], nows[i].Add(-time.Minute))
		})
		for i, err := range errs {
			wantErr(t, err, nil, fmt.Sprintf("concurrent TouchFamily %d", i))
		}
		got, err := s.Families(ctx, "u-1", base)
		wantErr(t, err, nil, "Families after concurrent touches")
		if len(got) != 1 || !slices.ContainsFunc(nows, got[0].LastUsedAt.Equal) {
			t.Fatalf("after concurrent touches: got %+v, want LastUsedAt one of the touches", got)
		}
		last := got[0].LastUsedAt
		must(t, s.TouchFamily(ctx, "f-1", last.Add(30*time.Second), last.Add(-30*time.Second)), "TouchFamily within the minute")
		ss.family.LastUsedAt = last
		wantFamilies(t, s, "u-1", base, "after a touch within the minute", ss.family)
	}},
	{name: "RevokeUserFamily", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		a1 := signInAt(t, s, "u-1", "f-1", at(-time.Hour), at(time.Hour))
		a2 := signInAt(t, s, "u-1", "f-2", at(-time.Hour), at(time.Hour))
		ending := signInAt(t, s, "u-1", "f-ending", at(-time.Hour), base)
		b := signInAt(t, s, "u-2", "f-3", at(-time.Hour), at(time.Hour))
		must(t, s.RevokeUserFamily(ctx, "u-1", "f-1", base), "RevokeUserFamily")
		a1.wantRevoked(t, s, "after RevokeUserFamily")
		a2.wantLive(t, s, "of the same user after RevokeUserFamily")
		for _, c := range []struct{ name, user, family string }{
			{"a revoked sign-in", "u-1", "f-1"},
			{"another user's sign-in", "u-1", "f-3"},
			{"an expired sign-in", "u-1", ending.family.ID},
			{"a missing sign-in", "u-1", "f-missing"},
			{"a sign-in of a missing user", "u-missing", "f-2"},
		} {
			err := s.RevokeUserFamily(ctx, c.user, c.family, base)
			wantErr(t, err, store.ErrNotFound, "RevokeUserFamily of "+c.name)
		}
		a2.wantLive(t, s, "after refused RevokeUserFamily calls")
		b.wantLive(t, s, "of another user after refused RevokeUserFamily calls")
	}},
	{name: "ConcurrentRevokeUserFamily", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signInAt(t, s, "u-1", "f-1", at(-time.Hour), at(time.Hour))
		errs := concurrently(racers, func(int) error { return s.RevokeUserFamily(t.Context(), "u-1", "f-1", base) })
		oneWinner(t, "RevokeUserFamily of one sign-in", errs, store.ErrNotFound)
		ss.wantRevoked(t, s, "after the race")
	}},
	{name: "RevokeOtherFamilies", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		keep := signInAt(t, s, "u-1", "f-keep", at(-time.Hour), at(time.Hour))
		o1 := signInAt(t, s, "u-1", "f-o1", at(-time.Hour), at(time.Hour))
		o2 := signInAt(t, s, "u-1", "f-o2", at(-time.Hour), at(time.Hour))
		signInAt(t, s, "u-1", "f-ended", at(-time.Hour), base)
		gone := signInAt(t, s, "u-1", "f-gone", at(-time.Hour), at(time.Hour))
		must(t, s.RevokeFamily(ctx, gone.family.ID), "RevokeFamily")
		b := signInAt(t, s, "u-2", "f-bob", at(-time.Hour), at(time.Hour))

		ids, err := s.RevokeOtherFamilies(ctx, "u-1", "f-keep", base)
		wantRevokedIDs(t, "RevokeOtherFamilies", ids, err, "f-o1", "f-o2")
		wantEnded(t, s, "RevokeOtherFamilies", []session{o1, o2}, keep, b)

		ids, err = s.RevokeOtherFamilies(ctx, "u-1", "f-keep", base)
		wantRevokedIDs(t, "RevokeOtherFamilies again", ids, err)
		ids, err = s.RevokeOtherFamilies(ctx, "u-1", "", base)
		wantRevokedIDs(t, "RevokeOtherFamilies sparing none", ids, err, "f-keep")
		keep.wantRevoked(t, s, "after RevokeOtherFamilies sparing none")
		wantFamilies(t, s, "u-1", base, "after every sign-in ended")
		b.wantLive(t, s, "of another user after RevokeOtherFamilies sparing none")
	}},
	{name: "RevokeMethodFamilies", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		pw := signInAt(t, s, "u-1", "f-pw", at(-time.Hour), at(time.Hour))
		ms1 := signInThrough(t, s, "microsoft", "u-1", "f-ms1", at(-time.Hour), at(time.Hour))
		ms2 := signInThrough(t, s, "microsoft", "u-1", "f-ms2", at(-time.Hour), at(time.Hour))
		signInThrough(t, s, "microsoft", "u-1", "f-ms-ended", at(-time.Hour), base)
		bob := signInThrough(t, s, "microsoft", "u-2", "f-bob", at(-time.Hour), at(time.Hour))
		epoch := epochOf(t, s, "u-1")

		ids, err := s.RevokeMethodFamilies(ctx, "u-1", "microsoft", base)
		wantRevokedIDs(t, "RevokeMethodFamilies", ids, err, "f-ms1", "f-ms2")
		wantEnded(t, s, "RevokeMethodFamilies", []session{ms1, ms2}, pw, bob)
		if got := epochOf(t, s, "u-1"); got != epoch+1 {
			t.Errorf("epoch after RevokeMethodFamilies: %d, want %d", got, epoch+1)
		}
		ids, err = s.RevokeMethodFamilies(ctx, "u-1", "microsoft", base)
		wantRevokedIDs(t, "RevokeMethodFamilies again", ids, err)
		pw.wantLive(t, s, "of another method after RevokeMethodFamilies again")
	}},
	{name: "UnlinkUser", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-1", "u1"), user("u-2", "t-1", "u2"), user("u-3", "t-2", "u3"))
		for _, l := range []store.Identity{link("t-1", "sub-1", "u-1"), link("t-1", "sub-2", "u-2"), link("t-2", "sub-1", "u-3")} {
			must(t, s.LinkIdentity(ctx, l), fmt.Sprintf("LinkIdentity(%+v)", l))
		}
		must(t, s.UnlinkUser(ctx, "t-1", "u-1"), "UnlinkUser")
		_, err := s.IdentityUser(ctx, "t-1", linkIssuer, "sub-1")
		wantErr(t, err, store.ErrNotFound, "IdentityUser of the unlinked account")
		wantLinked(t, s, link("t-1", "sub-2", "u-2"), "another user of the tenant after UnlinkUser")
		wantLinked(t, s, link("t-2", "sub-1", "u-3"), "the same account in another tenant after UnlinkUser")
		// The user may be linked again, to another account.
		must(t, s.LinkIdentity(ctx, link("t-1", "sub-9", "u-1")), "LinkIdentity after UnlinkUser")
		wantLinked(t, s, link("t-1", "sub-9", "u-1"), "after linking again")
		must(t, s.UnlinkUser(ctx, "t-1", "u-missing"), "UnlinkUser of a user without links")
	}},
}
