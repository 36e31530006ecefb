// This file checks flows: single-use, short-lived steps of a sign-in, with
// their compare-and-swap updates and their consumption by exactly one caller.

package storetest

import (
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// flow returns a second-factor flow named name that expires at base+10m.
func flow(name string) store.Flow {
	return store.Flow{
		Hash:      hash(name),
		Purpose:   store.FlowTwoFactor,
		UserID:    "u-1",
		TenantID:  "t-acme",
		ExpiresAt: at(10 * time.Minute),
	}
}

// addFlow creates a flow or stops the check, and returns it as stored.
func addFlow(t tb, s store.Store, f store.Flow) store.Flow {
	t.Helper()
	must(t, s.CreateFlow(t.Context(), f), "CreateFlow")
	f.Version = 1
	return f
}

// wantFlow checks that the flow is live at now, as want.
func wantFlow(t tb, s store.Store, want store.Flow, now time.Time, what string) {
	t.Helper()
	got, err := s.Flow(t.Context(), want.Hash, now)
	wantErr(t, err, nil, "Flow "+what)
	equal(t, "Flow "+what, got, want)
}

// wantNoFlow checks that no flow with the hash is live at now, for any use.
func wantNoFlow(t tb, s store.Store, f store.Flow, now time.Time, what string) {
	t.Helper()
	ctx := t.Context()
	_, err := s.Flow(ctx, f.Hash, now)
	wantErr(t, err, store.ErrNotFound, "Flow "+what)
	wantErr(t, s.UpdateFlow(ctx, f, now), store.ErrNotFound, "UpdateFlow "+what)
	_, err = s.ConsumeFlow(ctx, f.Hash, f.Purpose, now)
	wantErr(t, err, store.ErrNotFound, "ConsumeFlow "+what)
}

var flowChecks = []check{
	{name: "RoundTrip", fn: func(t tb, s store.Store) {
		code := flow("code")
		code.CodeHash = "$argon2id$code"
		code.CodeExpiresAt = at(5 * time.Minute)
		code.Sends = 2
		code.LastSentAt = at(-time.Minute)
		code.Attempts = 3
		code.Data = "{\"remember\":true}\n\t€ ünïcode end"
		state := store.Flow{
			Hash:      hash("state"),
			Purpose:   store.FlowOIDCState,
			TenantID:  "t-acme",
			ExpiresAt: at(time.Hour),
			Data:      "verifier=abc&nonce=def&callback=https%3A%2F%2Fapp.example%2Fcb",
			Version:   7, // the store sets 1
		}
		for _, f := range []store.Flow{code, state} {
			wantFlow(t, s, addFlow(t, s, f), base, "after CreateFlow")
		}
	}},
	{name: "Missing", fn: func(t tb, s store.Store) {
		addFlow(t, s, flow("other"))
		wantNoFlow(t, s, flow("missing"), base, "of a missing flow")
	}},
	{name: "CreateConflict", fn: func(t tb, s store.Store) {
		f := addFlow(t, s, flow("f"))
		dup := flow("f")
		dup.Purpose = store.FlowPasswordReset
		dup.Data = "other"
		wantErr(t, s.CreateFlow(t.Context(), dup), store.ErrConflict, "CreateFlow of an existing hash")
		wantFlow(t, s, f, base, "after a refused CreateFlow")
	}},
	{name: "Expiry", fn: func(t tb, s store.Store) {
		f := addFlow(t, s, flow("f"))
		end, last := f.ExpiresAt, f.ExpiresAt.Add(-time.Nanosecond)
		wantFlow(t, s, f, last, "1ns before it expires")
		wantNoFlow(t, s, f, end, "when it expires")

		f.Attempts = 1
		must(t, s.UpdateFlow(t.Context(), f, last), "UpdateFlow 1ns before it expires")
		f.Version++
		got, err := s.ConsumeFlow(t.Context(), f.Hash, f.Purpose, last)
		wantErr(t, err, nil, "ConsumeFlow 1ns before it expires")
		equal(t, "ConsumeFlow 1ns before it expires", got, f)
	}},
	{name: "Update", fn: func(t tb, s store.Store) {
		ctx := t.Context()
		f := addFlow(t, s, flow("f"))
		stale := f
		for i := range 2 {
			f.CodeHash = fmt.Sprintf("code-%d", i)
			f.CodeExpiresAt = at(time.Duration(i+5) * time.Minute)
			f.Sends = i + 1
			f.LastSentAt = at(time.Duration(i) * time.Minute)
			f.Attempts = 2 * i
			f.Data = fmt.Sprintf("data-%d", i)
			must(t, s.UpdateFlow(ctx, f, base), "UpdateFlow")
			f.Version++
			wantFlow(t, s, f, base, "after UpdateFlow")
		}
		for _, v := range []int64{stale.Version, f.Version + 1, 0} {
			stale.Version = v
			wantErr(t, s.UpdateFlow(ctx, stale, base), store.ErrConflict,
				fmt.Sprintf("UpdateFlow of version %d when %d is stored", v, f.Version))
		}
		wantFlow(t, s, f, base, "after refused updates")
	}},
	{name: "ConsumeOnce", fn: func(t tb, s store.Store) {
		f, other := addFlow(t, s, flow("f")), addFlow(t, s, flow("other"))
		got, err := s.ConsumeFlow(t.Context(), f.Hash, f.Purpose, base)
		wantErr(t, err, nil, "ConsumeFlow")
		equal(t, "ConsumeFlow", got, f)
		wantNoFlow(t, s, f, base, "after ConsumeFlow")
		wantFlow(t, s, other, base, "of another flow after ConsumeFlow")
	}},
	{name: "ConsumeWrongPurpose", fn: func(t tb, s store.Store) {
		f := addFlow(t, s, flow("f"))
		for _, p := range []store.FlowPurpose{store.FlowPasswordReset, store.FlowMicrosoft, store.FlowOIDCState, ""} {
			_, err := s.ConsumeFlow(t.Context(), f.Hash, p, base)
			wantErr(t, err, store.ErrNotFound, fmt.Sprintf("ConsumeFlow for purpose %q of a %q flow", p, f.Purpose))
		}
		wantFlow(t, s, f, base, "after ConsumeFlow for other purposes")
		_, err := s.ConsumeFlow(t.Context(), f.Hash, f.Purpose, base)
		wantErr(t, err, nil, "ConsumeFlow for its purpose after the others")
	}},
	{name: "ConcurrentConsume", fn: func(t tb, s store.Store) {
		f := addFlow(t, s, flow("f"))
		got := make([]store.Flow, racers)
		errs := concurrently(racers, func(i int) error {
			var err error
			got[i], err = s.ConsumeFlow(t.Context(), f.Hash, f.Purpose, base)
			return err
		})
		winner := oneWinner(t, "ConsumeFlow of one flow", errs, store.ErrNotFound)
		equal(t, "the winning ConsumeFlow", got[winner], f)
		wantNoFlow(t, s, f, base, "after concurrent ConsumeFlow")
	}},
	{name: "ConcurrentUpdate", fn: func(t tb, s store.Store) {
		f := addFlow(t, s, flow("f"))
		errs := concurrently(racers, func(i int) error {
			g := f
			g.Attempts = i + 1
			return s.UpdateFlow(t.Context(), g, base)
		})
		winner := oneWinner(t, "UpdateFlow of one version", errs, store.ErrConflict)
		f.Attempts = winner + 1
		f.Version++
		wantFlow(t, s, f, base, "after concurrent UpdateFlow")
	}},
}
