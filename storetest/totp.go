// This file checks the optional store.TOTPStore: sealed secrets round
// trip, a pending enrolment never replaces an active app, a time step is
// accepted once and only after the last, and a recovery code is consumed
// exactly once.

package storetest

import (
	"bytes"
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

// totpStore returns s as a TOTPStore, or skips the check.
func totpStore(t tb, s store.Store) store.TOTPStore {
	t.Helper()
	return optional[store.TOTPStore](t, s)
}

// optional returns s as the optional capability C, or skips the check.
func optional[C any](t tb, s store.Store) C {
	t.Helper()
	c, ok := s.(C)
	if !ok {
		t.Skipf("%T does not implement %T", s, (*C)(nil))
	}
	return c
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
}
