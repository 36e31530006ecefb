// This file checks what refresh grace keeps: a rotation's successor
// refresh token with its parent and grace seed, returned with a reuse while
// the window is open and the successor unused, and erased at the
// successor's own rotation or by the sweep.

package storetest

import (
	"errors"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// graceWindow is how long the suite's grace seeds are kept.
const graceWindow = 10 * time.Second

// graceNext is the pair a rotation of parent issues under a grace seed
// named name, the refresh token carrying the seed until base+graceWindow.
func graceNext(name string, parent store.Hash) []store.Token {
	access := token(name+"/access", store.AccessToken, "f-1", at(time.Hour))
	refresh := token(name+"/refresh", store.RefreshToken, "f-1", at(12*time.Hour))
	access.Parent, refresh.Parent = parent, parent
	refresh.GraceSeed = store.GraceSeed(hash("seed " + name))
	refresh.GraceUntil = at(graceWindow)
	return []store.Token{access, refresh}
}

// graceRotated signs alice in and rotates her refresh token at base with
// graceNext("g1", ...); it returns the sign-in and the pair.
func graceRotated(t tb, s store.Store) (session, []store.Token) {
	t.Helper()
	addUser(t, s, user("u-1", "t-acme", "alice"))
	ss := signIn(t, s, "u-1", "f-1")
	next := graceNext("g1", ss.refresh.Hash)
	_, err := s.RotateRefresh(t.Context(), ss.refresh.Hash, base, next...)
	wantErr(t, err, nil, "RotateRefresh with a grace seed")
	return ss, next
}

// wantSuccessor rotates ss's refresh token again at now and checks that it
// is reuse with the given successor (the zero Token: none).
func wantSuccessor(t tb, s store.Store, ss session, now time.Time, want store.Token, what string) {
	t.Helper()
	g, err := s.RotateRefresh(t.Context(), ss.refresh.Hash, now, graceNext("again", ss.refresh.Hash)...)
	wantErr(t, err, store.ErrTokenReused, "RotateRefresh "+what)
	equal(t, "Grant.Successor "+what, g.Successor, want)
}

var graceChecks = []check{
	{name: "SeedRoundTrip", fn: func(t tb, s store.Store) {
		ss, next := graceRotated(t, s)
		for _, tok := range next {
			wantGrant(t, s, tok, ss.family, base, "of a token with a parent and seed")
		}
		wantSuccessor(t, s, ss, at(graceWindow-time.Nanosecond), next[1], "within the window")
		wantSuccessor(t, s, ss, at(graceWindow), store.Token{}, "at the window's end")
	}},
	{name: "SeedErasedAtUse", fn: func(t tb, s store.Store) {
		ss, next := graceRotated(t, s)
		_, err := s.RotateRefresh(t.Context(), next[1].Hash, at(time.Second), graceNext("g2", next[1].Hash)...)
		wantErr(t, err, nil, "RotateRefresh of the successor")
		used := next[1]
		used.UsedAt, used.GraceSeed = at(time.Second), store.GraceSeed{}
		wantGrant(t, s, used, ss.family, at(time.Second), "of the used successor: its seed is erased")
		wantSuccessor(t, s, ss, at(2*time.Second), store.Token{}, "once the successor was used")
	}},
	{name: "SeedSwept", fn: func(t tb, s store.Store) {
		sw, ok := s.(store.Sweeper)
		if !ok {
			t.Skipf("the store does not implement store.Sweeper")
		}
		ss, next := graceRotated(t, s)
		_, err := sw.DeleteExpired(t.Context(), at(graceWindow-time.Nanosecond))
		wantErr(t, err, nil, "DeleteExpired within the window")
		wantSuccessor(t, s, ss, at(time.Second), next[1], "after a sweep within the window")
		_, err = sw.DeleteExpired(t.Context(), at(graceWindow))
		wantErr(t, err, nil, "DeleteExpired at the window's end")
		erased := next[1]
		erased.GraceSeed = store.GraceSeed{}
		wantGrant(t, s, erased, ss.family, at(time.Second), "of the successor after the sweep")
		wantSuccessor(t, s, ss, at(time.Second), store.Token{}, "after the sweep erased the seed")
	}},
	{name: "ConcurrentRotate", fn: func(t tb, s store.Store) {
		addUser(t, s, user("u-1", "t-acme", "alice"))
		ss := signIn(t, s, "u-1", "f-1")
		grants := make([]store.Grant, racers)
		errs := concurrently(racers, func(i int) error {
			g, err := s.RotateRefresh(t.Context(), ss.refresh.Hash, base, graceNext(fmt.Sprint("racer-", i), ss.refresh.Hash)...)
			grants[i] = g
			return err
		})
		winner := oneWinner(t, "RotateRefresh with grace seeds", errs, store.ErrTokenReused)
		want := graceNext(fmt.Sprint("racer-", winner), ss.refresh.Hash)[1]
		for i, err := range errs {
			if errors.Is(err, store.ErrTokenReused) {
				equal(t, fmt.Sprintf("Grant.Successor of loser %d", i), grants[i].Successor, want)
			}
		}
	}},
}
