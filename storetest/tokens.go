// This file checks sign-ins: token families, their access and refresh
// tokens, grants, refresh rotation with reuse detection, and revocation.

package storetest

import (
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// token returns a token named name of a family.
func token(name string, kind store.TokenKind, familyID string, expiresAt time.Time) store.Token {
	return store.Token{Hash: hash(name), Kind: kind, FamilyID: familyID, ExpiresAt: expiresAt}
}

// session is a sign-in with its first access and refresh tokens.
type session struct {
	family          store.Family
	access, refresh store.Token
}

// signIn stores a password sign-in of the user, live from before base until
// base+24h, with an access token good for an hour and a refresh token good
// for twelve.
func signIn(t tb, s store.Store, userID, familyID string) session {
	t.Helper()
	return signInOn(t, s, userID, familyID, "")
}

// signInOn is signIn of a sign-in made through the known device deviceID.
func signInOn(t tb, s store.Store, userID, familyID, deviceID string) session {
	t.Helper()
	ss := session{
		family: store.Family{
			ID:               familyID,
			UserID:           userID,
			PasswordVerified: true,
			Method:           "password",
			CreatedAt:        at(-time.Minute),
			ExpiresAt:        at(24 * time.Hour),
			Epoch:            epochIfAny(t, s, userID),
			DeviceID:         deviceID,
		},
		access:  token(familyID+"/access", store.AccessToken, familyID, at(time.Hour)),
		refresh: token(familyID+"/refresh", store.RefreshToken, familyID, at(12*time.Hour)),
	}
	must(t, createFamily(t.Context(), s, ss.family, ss.access, ss.refresh), "CreateFamily "+familyID)
	return ss
}

// wantGrant checks that tok is granted at now, with its family and user.
func wantGrant(t tb, s store.Store, tok store.Token, f store.Family, now time.Time, what string) store.Grant {
	t.Helper()
	g, err := s.Grant(t.Context(), tok.Hash, tok.Kind, now)
	wantErr(t, err, nil, "Grant "+what)
	equal(t, "Grant.Token "+what, g.Token, tok)
	// A store need not fill a grant's epochs, device and passkey (store.Store.Grant).
	gf := g.Family
	gf.Epoch, f.Epoch = 0, 0
	gf.DeviceID, f.DeviceID = "", ""
	gf.PasskeyID, f.PasskeyID = "", ""
	equal(t, "Grant.Family "+what, gf, f)
	if g.User.ID != f.UserID {
		t.Errorf("Grant.User %s: got user %q, want %q", what, g.User.ID, f.UserID)
	}
	return g
}

// wantNoGrant checks that tok is not granted at now.
func wantNoGrant(t tb, s store.Store, tok store.Token, now time.Time, what string) {
	t.Helper()
	_, err := s.Grant(t.Context(), tok.Hash, tok.Kind, now)
	wantErr(t, err, store.ErrNotFound, "Grant "+what)
}

// wantLive checks that both tokens of the sign-in are granted at base.
func (ss session) wantLive(t tb, s store.Store, what string) {
	t.Helper()
	wantGrant(t, s, ss.access, ss.family, base, "of the access token of "+ss.family.ID+" "+what)
	wantGrant(t, s, ss.refresh, ss.family, base, "of the refresh token of "+ss.family.ID+" "+what)
}

// wantRevoked checks that neither token of the sign-in is granted at base.
func (ss session) wantRevoked(t tb, s store.Store, what string) {
	t.Helper()
	wantNoGrant(t, s, ss.access, base, "of the access token of "+ss.family.ID+" "+what)
	wantNoGrant(t, s, ss.refresh, base, "of the refresh token of "+ss.family.ID+" "+what)
}

// deadToken is a refresh token that no grant may be read for at now.
type deadToken struct {
	name string
	tok  store.Token // Kind is what it is presented as
	now  time.Time
}

// deadTokens stores a sign-in for every reason the contract gives for
// ErrNotFound from Grant and RotateRefresh, and returns the refresh tokens
// that must be refused.
func deadTokens(t tb, s store.Store) []deadToken {
	t.Helper()
	ctx := t.Context()
	disabled := user("u-disabled", "t-acme", "disabled")
	disabled.Disabled = true
	addUser(t, s, user("u-1", "t-acme", "alice"), disabled)

	live := signIn(t, s, "u-1", "f-live")
	short := token("f-live/short", store.RefreshToken, "f-live", at(time.Hour))
	must(t, s.AddToken(ctx, short, base), "AddToken")
	asRefresh := live.access
	asRefresh.Kind = store.RefreshToken

	ending := store.Family{ID: "f-ending", UserID: "u-1", Method: "password", CreatedAt: base, ExpiresAt: at(2 * time.Hour)}
	outlives := token("f-ending/refresh", store.RefreshToken, ending.ID, at(12*time.Hour))
	must(t, createFamily(ctx, s, ending, outlives), "CreateFamily f-ending")

	revoked := signIn(t, s, "u-1", "f-revoked")
	must(t, s.RevokeFamily(ctx, revoked.family.ID), "RevokeFamily")

	dead := []deadToken{
		{"missing token", token("nobody", store.RefreshToken, "f-live", at(time.Hour)), base},
		{"access token", asRefresh, base},
		{"expired token", short, short.ExpiresAt},
		{"expired family", outlives, ending.ExpiresAt},
		{"revoked family", revoked.refresh, base},
		{"disabled user", signIn(t, s, disabled.ID, "f-disabled").refresh, base},
	}
	// A store may refuse a sign-in of a missing user (say, by a foreign
	// key); then it never meets one, and the case is moot.
	orphan := token("f-orphan/refresh", store.RefreshToken, "f-orphan", at(12*time.Hour))
	f := store.Family{ID: orphan.FamilyID, UserID: "u-missing", Method: "password", CreatedAt: base, ExpiresAt: at(24 * time.Hour)}
	if createFamily(ctx, s, f, orphan) == nil {
		dead = append(dead, deadToken{"missing user", orphan, base})
	}
	return dead
}

var tokenChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		alice := user("u-1", "t-acme", "alice")
		alice.TwoFactorEnabled = true
		addUser(t, s, alice)
		ss := signIn(t, s, alice.ID, "f-1")
		ms := store.Family{ID: "f-2", UserID: alice.ID, Method: "microsoft", CreatedAt: base, ExpiresAt: at(time.Hour)}
		msAccess := token("f-2/access", store.AccessToken, ms.ID, at(time.Minute))
		must(t, createFamily(t.Context(), s, ms, msAccess), "CreateFamily f-2")
		for _, c := range []struct {
			tok store.Token
			f   store.Family
		}{{ss.access, ss.family}, {ss.refresh, ss.family}, {msAccess, ms}} {
			g, err := s.Grant(t.Context(), c.tok.Hash, c.tok.Kind, base)
			wantErr(t, err, nil, "Grant")
			equal(t, "Grant", g, store.Grant{Token: c.tok, Family: c.f, User: alice})
		}
	}},
	{name: "GrantNotFound", fn: func(t tb, s store.Store) {
		for _, d := range deadTokens(t, s) {
			wantNoGrant(t, s, d.tok, d.now, "of a "+d.name)
		}
		ss := signIn(t, s, "u-1", "f-1")
		asAccess := ss.refresh
		asAccess.Kind = store.AccessToken
		wantNoGrant(t, s, asAccess, base, "of a refresh token as an access token")
	}},
	{name: "GrantExpiry", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		late := token("f-1/late", store.AccessToken, "f-1", at(48*time.Hour))
		must(t, s.AddToken(t.Context(), late, base), "AddToken")
		for _, c := range []struct {
			name string
			tok  store.Token
			end  time.Time
		}{
			{"the token's expiry", ss.access, ss.access.ExpiresAt},
			{"its family's expiry", late, ss.family.ExpiresAt},
		} {
			wantGrant(t, s, c.tok, ss.family, c.end.Add(-time.Nanosecond), "1ns before "+c.name)
			wantNoGrant(t, s, c.tok, c.end, "at "+c.name)
		}
	}},
	{name: "CreateFamilyAtomic", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		fresh := func(f store.Family) store.Token {
			return token(f.ID+"/fresh", store.AccessToken, f.ID, at(time.Hour))
		}
		sameID := ss.family
		sameID.Method = "microsoft"
		other := store.Family{ID: "f-2", UserID: "u-1", Method: "password", CreatedAt: base, ExpiresAt: at(time.Hour)}
		taken := ss.refresh
		taken.FamilyID = other.ID
		for _, c := range []struct {
			name   string
			f      store.Family
			tokens []store.Token
		}{
			{"an existing family ID", sameID, []store.Token{fresh(sameID)}},
			{"an existing token hash", other, []store.Token{fresh(other), taken}},
			{"one token hash twice", other, []store.Token{fresh(other), fresh(other)}},
		} {
			err := createFamily(ctx, s, c.f, c.tokens...)
			wantErr(t, err, store.ErrConflict, "CreateFamily with "+c.name)
			if c.f.ID != ss.family.ID {
				wantErr(t, s.AddToken(ctx, fresh(c.f), base), store.ErrNotFound,
					"AddToken to the family refused for "+c.name)
			}
		}
		ss.wantLive(t, s, "after refused CreateFamily calls")
		// Nothing of the refused f-2 was kept: it can be created now.
		must(t, createFamily(ctx, s, other, fresh(other)), "CreateFamily f-2 after it was refused")
		wantGrant(t, s, fresh(other), other, base, "of f-2")
	}},
	{name: "AddToken", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		revoked := signIn(t, s, "u-1", "f-2")
		must(t, s.RevokeFamily(ctx, revoked.family.ID), "RevokeFamily")

		added := token("f-1/added", store.AccessToken, "f-1", at(2*time.Hour))
		must(t, s.AddToken(ctx, added, base), "AddToken to a live family")
		wantGrant(t, s, added, ss.family, base, "of an added token")
		last := token("f-1/last", store.RefreshToken, "f-1", at(48*time.Hour))
		must(t, s.AddToken(ctx, last, ss.family.ExpiresAt.Add(-time.Nanosecond)), "AddToken 1ns before the family expires")
		wantGrant(t, s, last, ss.family, base, "of a token added at the last moment")

		reused := ss.refresh
		reused.Kind = store.AccessToken
		for _, c := range []struct {
			name string
			tok  store.Token
			now  time.Time
			err  error
		}{
			{"an existing hash", added, base, store.ErrConflict},
			{"a hash of another kind", reused, base, store.ErrConflict},
			{"a missing family", token("f-missing/x", store.AccessToken, "f-missing", at(time.Hour)), base, store.ErrNotFound},
			{"a revoked family", token("f-2/x", store.AccessToken, "f-2", at(time.Hour)), base, store.ErrNotFound},
			{"an expired family", token("f-1/x", store.AccessToken, "f-1", at(48*time.Hour)), ss.family.ExpiresAt, store.ErrNotFound},
		} {
			wantErr(t, s.AddToken(ctx, c.tok, c.now), c.err, "AddToken with "+c.name)
		}
		ss.wantLive(t, s, "after refused AddToken calls")
		wantNoGrant(t, s, token("f-1/x", store.AccessToken, "f-1", at(48*time.Hour)), base, "of a token refused for an expired family")
	}},
	{name: "RotateRefresh", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		next := func(n int) []store.Token {
			return []store.Token{
				token(fmt.Sprintf("f-1/access-%d", n), store.AccessToken, "f-1", at(time.Duration(n)*time.Hour)),
				token(fmt.Sprintf("f-1/refresh-%d", n), store.RefreshToken, "f-1", at(time.Duration(n+12)*time.Hour)),
			}
		}
		rotated := at(30 * time.Minute)

		g, err := s.RotateRefresh(ctx, ss.refresh.Hash, rotated, next(2)...)
		wantErr(t, err, nil, "RotateRefresh of a fresh token")
		// The contract does not say whether the grant returned on success
		// shows the rotation, so UsedAt is not compared.
		g.Token.UsedAt = time.Time{}
		equal(t, "RotateRefresh grant", g.Token, ss.refresh)
		equal(t, "RotateRefresh grant", g.Family, ss.family)
		if g.User.ID != "u-1" {
			t.Errorf("RotateRefresh grant: got user %q, want u-1", g.User.ID)
		}
		for _, tok := range next(2) {
			wantGrant(t, s, tok, ss.family, rotated, "of a token added by RotateRefresh")
		}
		used := ss.refresh
		used.UsedAt = rotated
		wantGrant(t, s, used, ss.family, rotated.Add(time.Minute), "of a rotated refresh token")

		g, err = s.RotateRefresh(ctx, ss.refresh.Hash, rotated.Add(time.Minute), next(3)...)
		wantErr(t, err, store.ErrTokenReused, "RotateRefresh of a rotated token")
		equal(t, "RotateRefresh grant of a reused token", g.Token, used)
		equal(t, "RotateRefresh grant of a reused token", g.Family, ss.family)
		if g.User.ID != "u-1" {
			t.Errorf("RotateRefresh grant of a reused token: got user %q, want u-1", g.User.ID)
		}
		for _, tok := range next(3) {
			wantNoGrant(t, s, tok, rotated, "of a token passed with a reused refresh token")
		}

		// The new refresh token rotates in its turn.
		_, err = s.RotateRefresh(ctx, next(2)[1].Hash, rotated.Add(time.Hour), next(4)...)
		wantErr(t, err, nil, "RotateRefresh of the token a rotation added")
		wantGrant(t, s, next(4)[1], ss.family, rotated.Add(time.Hour), "of the second rotation's refresh token")

		// Once the caller revokes the sign-in, reuse is just not found.
		must(t, s.RevokeFamily(ctx, "f-1"), "RevokeFamily")
		_, err = s.RotateRefresh(ctx, ss.refresh.Hash, rotated.Add(time.Minute), next(5)...)
		wantErr(t, err, store.ErrNotFound, "RotateRefresh of a reused token of a revoked family")
	}},
	{name: "RotateRefreshNotFound", fn: func(t tb, s store.Store) {
		for i, d := range deadTokens(t, s) {
			next := token(fmt.Sprintf("next-%d", i), store.RefreshToken, d.tok.FamilyID, at(48*time.Hour))
			_, err := s.RotateRefresh(t.Context(), d.tok.Hash, d.now, next)
			wantErr(t, err, store.ErrNotFound, "RotateRefresh of a "+d.name)
			wantNoGrant(t, s, next, base, "of a token passed with a "+d.name)
		}
	}},
	{name: "RevokeFamily", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		addUser(t, s, user("u-1", "t-acme", "alice"), user("u-2", "t-acme", "bob"))
		a1, a2, b := signIn(t, s, "u-1", "f-1"), signIn(t, s, "u-1", "f-2"), signIn(t, s, "u-2", "f-3")
		for range 2 {
			must(t, s.RevokeFamily(ctx, "f-1"), "RevokeFamily")
			a1.wantRevoked(t, s, "after RevokeFamily")
			a2.wantLive(t, s, "of the same user after RevokeFamily")
			b.wantLive(t, s, "of another user after RevokeFamily")
		}
		must(t, s.RevokeFamily(ctx, "f-missing"), "RevokeFamily of a missing family")
	}},
	{name: "RevokeUser", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		alice := user("u-1", "t-acme", "alice")
		addUser(t, s, alice, user("u-2", "t-acme", "bob"))
		a1, a2, b := signIn(t, s, "u-1", "f-1"), signIn(t, s, "u-1", "f-2"), signIn(t, s, "u-2", "f-3")
		for range 2 {
			must(t, s.RevokeUser(ctx, "u-1"), "RevokeUser")
			a1.wantRevoked(t, s, "after RevokeUser")
			a2.wantRevoked(t, s, "after RevokeUser")
			b.wantLive(t, s, "of another user after RevokeUser")
		}
		must(t, s.RevokeUser(ctx, "u-missing"), "RevokeUser of a missing user")
		wantUser(t, s, alice)
		signIn(t, s, "u-1", "f-4").wantLive(t, s, "signed in after RevokeUser")
	}},
	{name: "ConcurrentRotate", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		next := func(i int) store.Token {
			return token(fmt.Sprintf("f-1/racer-%d", i), store.RefreshToken, "f-1", at(13*time.Hour))
		}
		grants := make([]store.Grant, racers)
		errs := concurrently(racers, func(i int) error {
			var err error
			grants[i], err = s.RotateRefresh(t.Context(), ss.refresh.Hash, base, next(i))
			return err
		})
		winner := oneWinner(t, "RotateRefresh of one token", errs, store.ErrTokenReused)
		for i := range racers {
			if i == winner {
				wantGrant(t, s, next(i), ss.family, base, "of the winning rotation's token")
				continue
			}
			if grants[i].Family.ID != "f-1" {
				t.Errorf("racer %d: RotateRefresh returned ErrTokenReused with family %q, want f-1", i, grants[i].Family.ID)
			}
			wantNoGrant(t, s, next(i), base, fmt.Sprintf("of losing racer %d's token", i))
		}
	}},
}
