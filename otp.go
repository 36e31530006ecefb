// This file holds the emailed one-time codes of the second factor: how a
// code is made, kept and checked, and the limits on sending and guessing.
//
// A code is HOTP (RFC 4226, github.com/pquerna/otp) over a fresh random
// secret drawn for every send, not TOTP. TOTP would need a secret kept per
// flow and a clock window wide enough for mail delays, inside which every
// code of that window is valid; with a fresh secret per send there is no
// window to tune, and a resend makes the previous code worthless by itself,
// because only the newest code's hash is kept in the flow. The secret is
// thrown away at once: nothing but the code's keyed hash is stored.

package pbxauth

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/store"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/hotp"
)

// Second-factor limits (DESIGN.md, "Two factor").
const (
	codeDigits = 6
	maxSends   = 5                // codes mailed per flow
	sendGap    = 30 * time.Second // between two codes of one flow
	maxFailed  = 10               // failed sends per flow (DESIGN.md, "Mail delivery")
	// mailDownRetry is the Retry-After of a failed send: long enough for a
	// mail server's hiccup, short for a user waiting for a code.
	mailDownRetry = 10 * time.Second
	casRetries    = 16 // compare-and-swap attempts on one flow before giving up
)

var (
	errInvalidCode  = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized, message: "invalid or expired code"}
	errMailDown     = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "the code could not be mailed, try again", retryAfter: mailDownRetry}
	errNoEmail      = &apiError{status: http.StatusForbidden, code: CodeForbidden, message: "the account has no email address for the second factor"}
	errFlowChanged  = errors.New("pbxauth: flow changed meanwhile")
	errFlowContends = errors.New("pbxauth: flow contention")
)

// newCode returns a fresh 6-digit code and the hash under which the flow
// keeps it.
func newCode(flowToken string) (code, hash string, err error) {
	secret := make([]byte, 20) // RFC 4226's recommended 160 bits
	rand.Read(secret)
	code, err = hotp.GenerateCodeCustom(base32.StdEncoding.EncodeToString(secret), 0,
		hotp.ValidateOpts{Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	return code, codeHash(flowToken, code), err
}

// codeHash keys the code's hash with the flow token itself, which the store
// never sees: a leaked store cannot test the million possible codes
// against it, and a code hash is worthless outside its own flow.
func codeHash(flowToken, code string) string {
	m := hmac.New(sha256.New, []byte(flowToken))
	m.Write([]byte("pbxauth otp\x00" + code))
	return hex.EncodeToString(m.Sum(nil))
}

// codeMatches compares a submitted code with the flow's live one in
// constant time.
func codeMatches(f store.Flow, flowToken, code string, now time.Time) bool {
	if f.CodeHash == "" || !now.Before(f.CodeExpiresAt) {
		return false
	}
	return hmac.Equal([]byte(f.CodeHash), []byte(codeHash(flowToken, code)))
}

// checkCode validates the code field: exactly 6 ASCII digits. A malformed
// code is a 400 that costs no attempt: it cannot be a guess.
func checkCode(s string) *apiError {
	if s == "" {
		return invalidArgument("code is required")
	}
	if len(s) != codeDigits {
		return invalidArgument("code must be 6 digits")
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return invalidArgument("code must be 6 digits")
		}
	}
	return nil
}

// changeFlow applies change to the live flow h with compare-and-swap,
// retrying when a concurrent request got there first, and returns the flow
// as stored. change may refuse by returning an error: nothing is stored and
// the error is returned as is.
func (a *Auth) changeFlow(ctx context.Context, h store.Hash, now time.Time, change func(*store.Flow) error) (store.Flow, error) {
	for range casRetries {
		f, err := a.store().Flow(ctx, h, now)
		if err != nil {
			return f, err
		}
		if err := change(&f); err != nil {
			return f, err
		}
		err = a.store().UpdateFlow(ctx, f, now)
		if !errors.Is(err, store.ErrConflict) {
			f.Version++
			return f, err
		}
	}
	return store.Flow{}, errFlowContends
}

// reserveSend records a new code in the second-factor flow h before it is
// mailed, so that concurrent sends cannot all pass the limits. It returns
// the flow before and after the change; before is what undoSend restores.
func (a *Auth) reserveSend(ctx context.Context, h store.Hash, hash string, now time.Time) (before, after store.Flow, err error) {
	after, err = a.changeFlow(ctx, h, now, func(f *store.Flow) error {
		if e := a.sendRefused(*f, now); e != nil {
			return e
		}
		before = *f
		f.CodeHash = hash
		f.CodeExpiresAt = minTime(now.Add(a.cfg.FlowTTL), f.ExpiresAt)
		f.Sends++
		f.LastSentAt = now
		return nil
	})
	return before, after, err
}

// sendRefused answers why flow f may not have a code sent at now, or nil.
func (a *Auth) sendRefused(f store.Flow, now time.Time) *apiError {
	switch {
	case f.Purpose != store.FlowTwoFactor || f.Attempts >= a.cfg.Limits.FlowCodeAttempts:
		return errInvalidToken
	case f.Sends >= maxSends:
		// This flow will send nothing more; the user signs in again.
		return tooManyRequests(f.ExpiresAt.Sub(now))
	case !f.LastSentAt.IsZero() && now.Before(f.LastSentAt.Add(sendGap)):
		return tooManyRequests(f.LastSentAt.Add(sendGap).Sub(now))
	}
	return nil
}

// undoSend takes back the reservation of a code that could not be mailed:
// the send budget, the 30 s wait and the previous (still mailed, still
// valid) code come back, so the user can retry. It changes nothing if
// another code was reserved meanwhile.
func (a *Auth) undoSend(ctx context.Context, h store.Hash, before store.Flow, hash string, now time.Time) {
	_, err := a.changeFlow(ctx, h, now, func(f *store.Flow) error {
		if f.CodeHash != hash {
			return errFlowChanged
		}
		f.CodeHash, f.CodeExpiresAt = before.CodeHash, before.CodeExpiresAt
		f.Sends, f.LastSentAt = before.Sends, before.LastSentAt
		return nil
	})
	if err != nil && !errors.Is(err, errFlowChanged) && !errors.Is(err, store.ErrNotFound) {
		a.log.ErrorContext(ctx, "pbxauth: could not undo an unsent code", "err", err)
	}
}

// countAttempt counts one verification of flow h before the code is
// compared, so concurrent guesses cannot exceed Limits.FlowCodeAttempts between them.
// It returns the flow as counted: its code is the one to compare with.
func (a *Auth) countAttempt(ctx context.Context, h store.Hash, now time.Time) (store.Flow, error) {
	return a.changeFlow(ctx, h, now, func(f *store.Flow) error {
		if f.Purpose != store.FlowTwoFactor || f.Attempts >= a.cfg.Limits.FlowCodeAttempts {
			return errInvalidToken
		}
		f.Attempts++
		return nil
	})
}

// uncountAttempt gives back the attempt countAttempt counted on flow h,
// for a code that was no guess (a replay). A flow gone meanwhile has
// nothing to give back.
func (a *Auth) uncountAttempt(ctx context.Context, h store.Hash, now time.Time) {
	_, err := a.changeFlow(ctx, h, now, func(f *store.Flow) error {
		if f.Attempts == 0 {
			return errFlowChanged
		}
		f.Attempts--
		return nil
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) && !errors.Is(err, errFlowChanged) {
		a.log.WarnContext(ctx, "pbxauth: give back a code attempt", "err", err)
	}
}

// failedSendsKey is the counter of a flow's failed sends.
func failedSendsKey(h store.Hash) string { return "otp-send-failed:" + hex.EncodeToString(h[:]) }

// takeSendSlot reserves one of the flow's maxFailed failed sends before a
// send is tried, with one conditional add, so that concurrent sends to a
// dead server cannot pass the bound between them. A send that succeeds
// gives its slot back (freeSendSlot); a failed one keeps it. ok is false,
// and nothing changed, when every slot is taken: the flow has failed too
// often.
func (a *Auth) takeSendSlot(ctx context.Context, f store.Flow, now time.Time) (ok bool, err error) {
	_, ok, err = a.store().AddCounterBelow(ctx, failedSendsKey(f.Hash), maxFailed, f.ExpiresAt, now)
	return ok, err
}

// freeSendSlot gives back the slot of a send that went out.
func (a *Auth) freeSendSlot(ctx context.Context, f store.Flow, now time.Time) {
	if _, err := a.store().AddCounter(ctx, failedSendsKey(f.Hash), -1, f.ExpiresAt, now); err != nil {
		a.log.WarnContext(ctx, "pbxauth: free a send slot", "err", err)
	}
}
