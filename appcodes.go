// This file holds how authenticator-app codes and recovery codes are
// checked: the secret opened from its sealed box, a code compared at the
// current time step and one step either side, the step accepted by the
// Store only when it is later than the last one, and a recovery code
// consumed once. Handlers of enrolment are in totp.go; verify_otp calls
// verifyAppCode.

package pbxauth

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/pbxauth/pbxauth/internal/recoverycode"
	"github.com/pbxauth/pbxauth/internal/secretbox"
	"github.com/pbxauth/pbxauth/store"
)

// TOTP parameters (RFC 6238 as authenticator apps expect them).
const (
	totpPeriod = 30 // seconds
	totpSkew   = 1  // steps accepted either side of now
	// recoveryCodeCount is how many recovery codes a set holds.
	recoveryCodeCount = 10
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// errSecretSealed: an app's secret could not be opened (its key is gone or
// the record changed). The user cannot be let in by another factor
// instead, so the answer is 503 until an operator restores the key.
var errSecretSealed = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable,
	message: "the authenticator app cannot be checked right now", retryAfter: 60 * time.Second}

// appKeys seal app secrets and key recovery-code hashes.
type appKeys struct {
	box     *secretbox.Keys
	hashers []*recoverycode.Hasher // one per key, the sealing key's first
}

// newAppKeys checks Config.EncryptionKeys; nil without keys.
func newAppKeys(keys [][]byte) (*appKeys, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	box, err := secretbox.New(keys)
	if err != nil {
		return nil, fmt.Errorf("pbxauth: Config.EncryptionKeys: %w", err)
	}
	k := &appKeys{box: box}
	for _, key := range keys {
		h, err := recoverycode.NewHasher(key)
		if err != nil {
			return nil, err
		}
		k.hashers = append(k.hashers, h)
	}
	return k, nil
}

// secretAD binds a sealed secret to its user.
func secretAD(userID string) []byte { return []byte("pbxauth/totp\x00" + userID) }

// seal seals an app secret of the user.
func (k *appKeys) seal(userID, secret string) ([]byte, error) {
	return k.box.Seal([]byte(secret), secretAD(userID))
}

// errNoKeysToOpen: an app secret is stored but no key is configured.
var errNoKeysToOpen = errors.New("pbxauth: no Config.EncryptionKeys to open an authenticator-app secret")

// isSealError reports whether err means a secret that does not open.
func isSealError(err error) bool {
	return errors.Is(err, errNoKeysToOpen) || errors.Is(err, secretbox.ErrOpen)
}

// open opens the user's sealed secret; errNoKeysToOpen without keys.
func (k *appKeys) open(t store.TOTP) (string, error) {
	if k == nil {
		return "", errNoKeysToOpen
	}
	b, err := k.box.Open(t.Secret, secretAD(t.UserID))
	return string(b), err
}

// newRecoveryCodes returns a fresh set of codes and their hashes under the
// sealing key.
func (k *appKeys) newRecoveryCodes(userID string) (codes, hashes []string) {
	for range recoveryCodeCount {
		c := recoverycode.New()
		h, _ := k.hashers[0].Hash(userID, c)
		codes, hashes = append(codes, c), append(hashes, h)
	}
	return codes, hashes
}

// appStore is the Store's TOTPStore, or nil.
func (a *Auth) appStore() store.TOTPStore {
	ts, _ := a.cfg.Store.(store.TOTPStore) // not a.store(): its timing wrapper has no optional capability
	return ts
}

// activeApp returns the user's active app; ok is false when there is none.
func (a *Auth) activeApp(ctx context.Context, userID string) (store.TOTP, bool, error) {
	ts := a.appStore()
	if ts == nil {
		return store.TOTP{}, false, nil
	}
	t, err := ts.TOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return store.TOTP{}, false, nil
	}
	return t, err == nil && t.Active, err
}

// matchStep returns the time step, within totpSkew of now, whose code is
// code; ok is false when none is.
func matchStep(secret, code string, now time.Time) (step int64, ok bool) {
	cur := now.Unix() / totpPeriod
	for s := cur + totpSkew; s >= cur-totpSkew; s-- {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(s*totpPeriod, 0), totpOpts)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return s, true
		}
	}
	return 0, false
}

// appCode says how verifyAppCode judged a code.
type appCode int

const (
	codeWrong    appCode = iota
	codeApp              // a current app code, its step now used
	codeRecovery         // a recovery code, now used
	// codeReplayed: a right code accepted already — an app code of a step
	// used, or a recovery code used — before or by a concurrent request.
	// It does not let in, and is answered as a wrong code, but it is no
	// guess: whoever sent it knew a right code, so it is not counted.
	codeReplayed
)

// spendRecovery spends the recovery code with the given hash as a route
// needs it spent: alone (disabling the app), or together with the
// second-factor flow it completes (verify_otp). ErrNotFound: the user has
// no such unused code; ErrStale: the code was not spent, because the flow
// was completed or ended meanwhile.
type spendRecovery func(hash string) error

// verifyAppCode checks code for the user's active app t: six digits are an
// app code of a step later than the last accepted one (accepted now, so a
// replay within the step fails); anything else is tried as a recovery code,
// spent now with spend. A nil spend accepts app codes only.
func (a *Auth) verifyAppCode(ctx context.Context, t store.TOTP, code string, now time.Time, spend spendRecovery) (appCode, error) {
	ts := a.appStore()
	if checkCode(code) == nil {
		secret, err := a.apps.open(t)
		if err != nil {
			return codeWrong, err
		}
		step, ok := matchStep(secret, code, now)
		if !ok {
			return codeWrong, nil
		}
		err = ts.AcceptTOTPStep(ctx, t.UserID, step)
		switch {
		case errors.Is(err, store.ErrConflict):
			return codeReplayed, nil
		case errors.Is(err, store.ErrNotFound):
			return codeWrong, nil // the app went meanwhile
		}
		return codeApp, err
	}
	if spend == nil {
		return codeWrong, nil
	}
	if a.apps == nil {
		return codeWrong, errNoKeysToOpen // recovery codes are keyed too
	}
	return a.consumeRecoveryCode(ctx, t.UserID, code, now, spend)
}

// consumeRecoveryCode spends the user's recovery code code with spend. The
// Store forgets a used code, so a used one would look wrong; instead the
// first request to bring a code marks it as tried, in one conditional add,
// and only that request spends it: any other request with the code —
// later, or at once — is a replay. The mark stays while the code is used
// (as long as the code lock remembers failures) and goes when the code was
// wrong, could not be checked, or was not spent because its flow went
// meanwhile (that request is answered as a replay: whoever sent it knew a
// right code), so the code may be brought again.
func (a *Auth) consumeRecoveryCode(ctx context.Context, userID, code string, now time.Time, spend spendRecovery) (appCode, error) {
	first, ok := a.apps.hashers[0].Hash(userID, code)
	if !ok {
		return codeWrong, nil
	}
	mark := "recovery-used:" + userID + " " + first
	_, fresh, err := a.store().AddCounterBelow(ctx, mark, 1, now.Add(a.cfg.Limits.CodeMemory), now)
	if err != nil {
		return codeWrong, err
	}
	if !fresh {
		return codeReplayed, nil
	}
	for _, h := range a.apps.hashers {
		hash, _ := h.Hash(userID, code) // it normalized for the first key
		if err = spend(hash); !errors.Is(err, ErrNotFound) {
			break
		}
	}
	if err == nil {
		return codeRecovery, nil
	}
	got := codeWrong
	switch {
	case errors.Is(err, ErrNotFound):
		err = nil
	case errors.Is(err, store.ErrStale):
		got, err = codeReplayed, nil
	}
	if derr := a.store().DeleteCounter(context.WithoutCancel(ctx), mark); err == nil {
		err = derr
	}
	return got, err
}

// checkAppCodeField validates a code field that may be an app code or a
// recovery code: 400 for what can be neither, which costs no attempt.
func checkAppCodeField(s string) *apiError {
	if checkCode(s) == nil {
		return nil
	}
	if _, ok := recoverycode.Normalize(s); ok {
		return nil
	}
	if s == "" {
		return invalidArgument("code is required")
	}
	return invalidArgument("code must be 6 digits or a recovery code")
}
