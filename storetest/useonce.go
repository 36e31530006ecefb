// This file checks UseOnce, the single use of sealed states: a use is
// recorded once per purpose and id, atomically — also between two stores
// on one backend — and a sweep forgets it only once it was kept long
// enough.

package storetest

import (
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// onceID returns a state id named for the suite.
func onceID(name string) [16]byte {
	h := hash("once/" + name)
	return [16]byte(h[:16])
}

var useOnceChecks = []check{
	{name: "Once", fn: func(t tb, s store.Store) {
		ctx, exp := t.Context(), at(10*time.Minute)
		wantErr(t, s.UseOnce(ctx, "microsoft_state", onceID("a"), exp), nil, "UseOnce of a new id")
		wantErr(t, s.UseOnce(ctx, "microsoft_state", onceID("a"), exp), store.ErrConflict, "UseOnce of a used id")
		wantErr(t, s.UseOnce(ctx, "microsoft_state", onceID("a"), at(time.Hour)), store.ErrConflict, "UseOnce of a used id with another expiry")
		wantErr(t, s.UseOnce(ctx, "passkey_state", onceID("a"), exp), nil, "UseOnce of the id for another purpose")
		wantErr(t, s.UseOnce(ctx, "microsoft_state", onceID("b"), exp), nil, "UseOnce of another id")
	}},
	{name: "Concurrent", pair: func(t tb, a, b store.Store) { useOnceRace(t, a, b) }},
	{name: "Sweep", fn: func(t tb, s store.Store) {
		sw, ok := s.(store.Sweeper)
		if !ok {
			t.Skipf("%T does not implement store.Sweeper", s)
		}
		ctx := t.Context()
		// At base, "old" was kept long enough; "recent" expired too, but
		// within the margin, so an instance whose clock is behind may
		// still accept its state: it must stay used.
		old, recent := at(-store.UseOnceMargin-time.Second), at(-store.UseOnceMargin+time.Second)
		must(t, s.UseOnce(ctx, "p", onceID("old"), old), "UseOnce old")
		must(t, s.UseOnce(ctx, "p", onceID("recent"), recent), "UseOnce recent")
		must(t, s.UseOnce(ctx, "p", onceID("live"), at(time.Minute)), "UseOnce live")
		n, err := sw.DeleteExpired(ctx, base)
		wantErr(t, err, nil, "DeleteExpired")
		if n != 1 {
			t.Errorf("DeleteExpired = %d, want 1 (the use kept past its expiry and the margin)", n)
		}
		wantErr(t, s.UseOnce(ctx, "p", onceID("recent"), recent), store.ErrConflict, "UseOnce of a use within the margin after DeleteExpired")
		wantErr(t, s.UseOnce(ctx, "p", onceID("live"), at(time.Minute)), store.ErrConflict, "UseOnce of a live use after DeleteExpired")
		wantErr(t, s.UseOnce(ctx, "p", onceID("old"), old), nil, "UseOnce of a swept use")
	}},
}

// useOnceRace races UseOnce of one id from a and b, two stores on one
// backend (or one store twice): exactly one wins, the rest get ErrConflict;
// and so again for a second id, each racer on the other store.
func useOnceRace(t tb, a, b store.Store) {
	t.Helper()
	for round, name := range []string{"x", "y"} {
		errs := concurrently(racers, func(i int) error {
			s := a
			if (i+round)%2 == 1 {
				s = b
			}
			return s.UseOnce(t.Context(), "microsoft_state", onceID(name), at(10*time.Minute))
		})
		oneWinner(t, fmt.Sprintf("UseOnce of id %s", name), errs, store.ErrConflict)
	}
}
