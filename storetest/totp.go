// This file checks the optional store.TOTPStore: sealed secrets round
// trip, a pending enrolment never replaces an active app, a time step is
// accepted once and only after the last, a recovery code is consumed
// exactly once, and redeemed with the flow it completes, both or neither.

package storetest

import (
	"bytes"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// totpStore returns s as a TOTPStore, or skips the check.
func totpStore(t tb, s store.Store) store.TOTPStore {
	t.Helper()
	return capability[store.TOTPStore](t, s)
}

// pending is a pending enrolment of the user with a secret of 64 bytes,
// NUL and high bytes included.
func pending(userID string, b byte) store.TOTP {
	secret := bytes.Repeat([]byte{0, b, 0xff}, 21)
	return store.TOTP{UserID: userID, Secret: append(secret, b), CreatedAt: base}
}

// activeApp stores an active app of u-1 at step 100 with recovery codes h1–h3.
func activeApp(t tb, ts store.TOTPStore) {
	t.Helper()
	must(t, ts.PutPendingTOTP(t.Context(), pending("u-1", 1)), "PutPendingTOTP")
	must(t, ts.ActivateTOTP(t.Context(), "u-1", 0, 100, []string{"h1", "h2", "h3"}), "ActivateTOTP")
}

// codes returns n recovery-code hashes named for the suite.
func codes(n int) []string {
	hs := make([]string, n)
	for i := range hs {
		hs[i] = fmt.Sprintf("code-%02d", i)
	}
	return hs
}

// wantCodes checks that each of the user's codes hs is still unused, by
// consuming it.
func wantCodes(t tb, ts store.TOTPStore, userID string, hs []string, what string) {
	t.Helper()
	for _, h := range hs {
		if err := ts.ConsumeRecoveryCode(t.Context(), userID, h); err != nil {
			t.Errorf("%s: code %s is spent: %v", what, h, err)
		}
	}
}

var totpChecks = []check{
	{name: "PendingAndActive", fn: func(t tb, s store.Store) {
		ts, ctx := totpStore(t, s), t.Context()
		_, err := ts.TOTP(ctx, "u-1")
		wantErr(t, err, store.ErrNotFound, "TOTP before enrolment")
		wantErr(t, ts.ActivateTOTP(ctx, "u-1", 0, 1, nil), store.ErrNotFound, "ActivateTOTP without a pending app")
		must(t, ts.PutPendingTOTP(ctx, pending("u-1", 1)), "PutPendingTOTP")
		must(t, ts.PutPendingTOTP(ctx, pending("u-1", 2)), "PutPendingTOTP replacing a pending one")
		got, err := ts.TOTP(ctx, "u-1")
		wantErr(t, err, nil, "TOTP")
		equal(t, "the pending app", got, pending("u-1", 2))
		wantErr(t, ts.AcceptTOTPStep(ctx, "u-1", 5), store.ErrNotFound, "AcceptTOTPStep of a pending app")
		must(t, ts.ActivateTOTP(ctx, "u-1", 0, 100, []string{"h1"}), "ActivateTOTP")
		want := pending("u-1", 2)
		want.Active, want.LastStep = true, 100
		got, _ = ts.TOTP(ctx, "u-1")
		equal(t, "the active app", got, want)
		wantErr(t, ts.PutPendingTOTP(ctx, pending("u-1", 3)), store.ErrConflict, "PutPendingTOTP over an active app")
		wantErr(t, ts.ActivateTOTP(ctx, "u-1", 0, 200, nil), store.ErrNotFound, "ActivateTOTP of an active app")
		got, _ = ts.TOTP(ctx, "u-1")
		equal(t, "the active app after refused changes", got, want)
		_, err = ts.TOTP(ctx, "u-2")
		wantErr(t, err, store.ErrNotFound, "TOTP of another user")
	}},
	{name: "StepsOnlyForward", fn: func(t tb, s store.Store) {
		ts, ctx := totpStore(t, s), t.Context()
		activeApp(t, ts)
		wantErr(t, ts.AcceptTOTPStep(ctx, "u-1", 100), store.ErrConflict, "AcceptTOTPStep of the confirming step")
		must(t, ts.AcceptTOTPStep(ctx, "u-1", 101), "AcceptTOTPStep of a later step")
		wantErr(t, ts.AcceptTOTPStep(ctx, "u-1", 101), store.ErrConflict, "AcceptTOTPStep replayed")
		wantErr(t, ts.AcceptTOTPStep(ctx, "u-1", 99), store.ErrConflict, "AcceptTOTPStep of an earlier step")
		must(t, ts.AcceptTOTPStep(ctx, "u-1", 103), "AcceptTOTPStep skipping a step")
		wantErr(t, ts.AcceptTOTPStep(ctx, "u-2", 1000), store.ErrNotFound, "AcceptTOTPStep without an app")
	}},
	{name: "ConcurrentStep", fn: func(t tb, s store.Store) {
		ts := totpStore(t, s)
		activeApp(t, ts)
		errs := concurrently(racers, func(int) error { return ts.AcceptTOTPStep(t.Context(), "u-1", 101) })
		oneWinner(t, "AcceptTOTPStep of one step", errs, store.ErrConflict)
	}},
	{name: "RecoveryCodes", fn: func(t tb, s store.Store) {
		ts, ctx := totpStore(t, s), t.Context()
		activeApp(t, ts)
		must(t, ts.ConsumeRecoveryCode(ctx, "u-1", "h2"), "ConsumeRecoveryCode")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "h2"), store.ErrNotFound, "ConsumeRecoveryCode twice")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-2", "h1"), store.ErrNotFound, "ConsumeRecoveryCode of another user's code")
		must(t, ts.ReplaceRecoveryCodes(ctx, "u-1", 0, []string{"n1", "n2"}), "ReplaceRecoveryCodes")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "h1"), store.ErrNotFound, "ConsumeRecoveryCode of a replaced code")
		must(t, ts.ConsumeRecoveryCode(ctx, "u-1", "n1"), "ConsumeRecoveryCode of a new code")
		must(t, ts.DeleteTOTP(ctx, "u-1"), "DeleteTOTP")
		_, err := ts.TOTP(ctx, "u-1")
		wantErr(t, err, store.ErrNotFound, "TOTP after DeleteTOTP")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "n2"), store.ErrNotFound, "ConsumeRecoveryCode after DeleteTOTP")
		must(t, ts.DeleteTOTP(ctx, "u-1"), "DeleteTOTP without an app")
		must(t, ts.PutPendingTOTP(ctx, pending("u-1", 4)), "PutPendingTOTP after DeleteTOTP")
	}},
	{name: "ConcurrentRecoveryCode", fn: func(t tb, s store.Store) {
		ts := totpStore(t, s)
		activeApp(t, ts)
		errs := concurrently(racers, func(int) error { return ts.ConsumeRecoveryCode(t.Context(), "u-1", "h1") })
		oneWinner(t, "ConsumeRecoveryCode of one code", errs, store.ErrNotFound)
		for _, h := range []string{"h2", "h3"} {
			must(t, ts.ConsumeRecoveryCode(t.Context(), "u-1", h), fmt.Sprintf("ConsumeRecoveryCode(%s) after the race", h))
		}
	}},
	{name: "RedeemRecoveryCode", fn: func(t tb, s store.Store) {
		ts, ctx := totpStore(t, s), t.Context()
		must(t, ts.PutPendingTOTP(ctx, pending("u-1", 1)), "PutPendingTOTP")
		must(t, ts.ActivateTOTP(ctx, "u-1", 0, 100, codes(3)), "ActivateTOTP")
		f := addFlow(t, s, flow("redeemed"))
		got, err := ts.RedeemRecoveryCode(ctx, "u-1", "code-00", f.Hash, base)
		must(t, err, "RedeemRecoveryCode")
		equal(t, "the redeemed flow", got, f)
		wantNoFlow(t, s, f, base, "after RedeemRecoveryCode")
		wantErr(t, ts.ConsumeRecoveryCode(ctx, "u-1", "code-00"), store.ErrNotFound, "ConsumeRecoveryCode of a redeemed code")

		// A code that is not the user's, on a live flow: nothing changes.
		live := addFlow(t, s, flow("live"))
		_, err = ts.RedeemRecoveryCode(ctx, "u-1", "code-00", live.Hash, base)
		wantErr(t, err, store.ErrNotFound, "RedeemRecoveryCode of a spent code")
		_, err = ts.RedeemRecoveryCode(ctx, "u-2", "code-01", live.Hash, base)
		wantErr(t, err, store.ErrNotFound, "RedeemRecoveryCode of another user's code")
		wantFlow(t, s, live, base, "after refused redemptions")

		// A right code on a flow it cannot complete: the code is not spent.
		reset := flow("reset")
		reset.Purpose = store.FlowPasswordReset
		reset = addFlow(t, s, reset)
		bobs := flow("bob's")
		bobs.UserID = "u-2"
		bobs = addFlow(t, s, bobs)
		for _, c := range []struct {
			what string
			h    store.Hash
			now  time.Time
		}{
			{"a consumed flow", f.Hash, base},
			{"no flow", hash("none"), base},
			{"a flow of another purpose", reset.Hash, base},
			{"another user's flow", bobs.Hash, base},
			{"a flow at its expiry", live.Hash, live.ExpiresAt},
		} {
			_, err := ts.RedeemRecoveryCode(ctx, "u-1", "code-01", c.h, c.now)
			wantErr(t, err, store.ErrStale, "RedeemRecoveryCode on "+c.what)
		}
		wantFlow(t, s, reset, base, "of another purpose after a refused redemption")
		wantFlow(t, s, bobs, base, "of another user after a refused redemption")
		wantFlow(t, s, live, base, "after a refused redemption at its expiry")
		wantCodes(t, ts, "u-1", []string{"code-01", "code-02"}, "after refused redemptions")
	}},
	{name: "ConcurrentRedeem", pair: func(t tb, a, b store.Store) {
		ha, hb, ctx := totpStore(t, a), totpStore(t, b), t.Context()
		hs := codes(racers)
		must(t, ha.PutPendingTOTP(ctx, pending("u-1", 1)), "PutPendingTOTP")
		must(t, ha.ActivateTOTP(ctx, "u-1", 0, 100, hs), "ActivateTOTP")

		// Every racer a code of its own, one flow: one completes it, and
		// every other code is unspent.
		f := addFlow(t, a, flow("raced"))
		errs := concurrently(racers, func(i int) error {
			ts := ha
			if i%2 == 1 {
				ts = hb
			}
			_, err := ts.RedeemRecoveryCode(ctx, "u-1", hs[i], f.Hash, base)
			return err
		})
		w := oneWinner(t, "RedeemRecoveryCode of one flow with many codes", errs, store.ErrStale)
		wantNoFlow(t, a, f, base, "after the race")
		left := append(append([]string{}, hs[:w]...), hs[w+1:]...)

		// One code, a flow per racer: one flow completes, the others live.
		flows := make([]store.Flow, racers)
		for i := range flows {
			flows[i] = addFlow(t, a, flow(fmt.Sprintf("flow-%d", i)))
		}
		errs = concurrently(racers, func(i int) error {
			ts := ha
			if i%2 == 1 {
				ts = hb
			}
			_, err := ts.RedeemRecoveryCode(ctx, "u-1", left[0], flows[i].Hash, base)
			return err
		})
		w = oneWinner(t, "RedeemRecoveryCode of one code on many flows", errs, store.ErrNotFound)
		for i, f := range flows {
			if i != w {
				wantFlow(t, a, f, base, fmt.Sprintf("%d that lost the code", i))
			}
		}
		wantCodes(t, ha, "u-1", left[1:], "after the races")
	}},
}
