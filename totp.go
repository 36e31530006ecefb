// This file serves authenticator apps (TOTP, RFC 6238): POST /auth/totp
// starts an enrolment and shows its secret and QR code, POST
// /auth/totp/confirm activates it with a first code and answers the
// recovery codes, POST /auth/totp/disable removes it, POST
// /auth/recovery_codes replaces the recovery codes. Changes need a recent
// sign-in, and each is mailed to the user.

package pbxauth

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"image/png"
	"net/http"

	"github.com/pbxauth/pbxauth/store"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

var (
	errNoApps       = &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "authenticator apps are not enabled on this server"}
	errAppActive    = invalidArgument("an authenticator app is active already: disable it first")
	errNoPending    = invalidArgument("no authenticator app enrolment to confirm: start one with POST /auth/totp")
	errNoApp        = invalidArgument("no authenticator app is active")
	errWrongAppCode = invalidArgument("code is wrong or used already")
	errNotRecent    = &apiError{status: http.StatusForbidden, code: CodeForbidden, reason: "insufficient_scope",
		message: "sign in again: this sign-in is too old for this change"}
)

// totpEnrolment is the answer of POST /auth/totp.
type totpEnrolment struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRPNG      string `json:"qr_png"`
}

// codeRequest is the body of the routes that take a code.
type codeRequest struct {
	Code string `json:"code"`
}

// recoveryCodeSet is the answer that shows new recovery codes, once.
type recoveryCodeSet struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

// recentCaller returns the request's principal, or 403 for a sign-in that
// is not recent enough to change the second factor (RFC 6750
// insufficient_scope): one whose last factor — the password, or the
// second factor that completed it, a Microsoft account or a passkey — was proved
// Limits.RecentAuth ago or longer. A sign-in begins when that factor is
// proved; a refresh, a cookie session's re-issue or a carry-over does not
// renew it.
func (a *Auth) recentCaller(w http.ResponseWriter, r *http.Request) (*Principal, *apiError) {
	p, _ := PrincipalFrom(r.Context())
	proved := p.PasswordVerified || p.Method == methodMicrosoft || p.Method == methodPasskey
	if !proved || a.now().Sub(p.SignedInAt) >= a.cfg.Limits.RecentAuth {
		w.Header().Set("WWW-Authenticate", `Bearer realm="`+a.cfg.Realm+`", error="insufficient_scope"`)
		return nil, errNotRecent
	}
	return p, nil
}

// appsReady answers 404 when the server cannot enrol apps: no keys, or a
// store without apps. The other routes need only the store: without keys
// an active app still exists, and checking its codes answers 503.
func (a *Auth) appsReady(enrol bool) *apiError {
	if a.appStore() == nil || (enrol && a.apps == nil) {
		return errNoApps
	}
	return nil
}

// enrolTOTP serves POST /auth/totp.
func (a *Auth) enrolTOTP(w http.ResponseWriter, r *http.Request) *apiError {
	if e := a.appsReady(true); e != nil {
		return e
	}
	p, e := a.recentCaller(w, r)
	if e != nil {
		return e
	}
	ctx := r.Context()
	// An active app is refused by PutPendingTOTP below (ErrConflict).
	key, err := totp.Generate(totp.GenerateOpts{Issuer: a.appIssuer(ctx), AccountName: a.accountName(ctx, p),
		Period: totpPeriod, SecretSize: 20, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return a.internal(ctx, "make authenticator secret", err)
	}
	sealed, err := a.apps.seal(p.UserID, key.Secret())
	if err != nil {
		return a.internal(ctx, "seal authenticator secret", err)
	}
	err = a.appStore().PutPendingTOTP(ctx, store.TOTP{UserID: p.UserID, Secret: sealed, CreatedAt: a.now()})
	if errors.Is(err, store.ErrConflict) {
		return errAppActive
	}
	if err != nil {
		return a.internal(ctx, "store authenticator enrolment", err)
	}
	img, err := key.Image(256, 256)
	if err != nil {
		return a.internal(ctx, "draw QR code", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return a.internal(ctx, "encode QR code", err)
	}
	writeSecret(w, totpEnrolment{Secret: key.Secret(), OTPAuthURL: key.URL(), QRPNG: base64.StdEncoding.EncodeToString(qr.Bytes())})
	return nil
}

// confirmTOTP serves POST /auth/totp/confirm: the first code proves the
// app holds the secret; the app is active from then on.
func (a *Auth) confirmTOTP(w http.ResponseWriter, r *http.Request) *apiError {
	if e := a.appsReady(false); e != nil {
		return e
	}
	var req codeRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkCode(req.Code); e != nil {
		return e
	}
	p, _ := PrincipalFrom(r.Context())
	c, e := a.factorCaller(w, r, p)
	if e != nil {
		return e
	}
	ctx, now := r.Context(), a.now()
	t, err := a.appStore().TOTP(ctx, p.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Active) {
		return errNoPending
	}
	if err != nil {
		return a.internal(ctx, "read authenticator enrolment", err)
	}
	secret, err := a.apps.open(t)
	if err != nil {
		a.log.ErrorContext(ctx, "pbxauth: authenticator secret does not open", "user", p.UserID, "err", err)
		return errSecretSealed
	}
	at, e := a.takeAttempt(ctx, a.cfg.Limits.codeLock(), userKey(p.UserID), now)
	if e != nil {
		return e
	}
	step, ok := matchStep(secret, req.Code, now)
	if e := a.settleAppAttempt(r, at, p.UserID, ok); e != nil || !ok {
		return cmp.Or(e, errWrongAppCode)
	}
	codes, hashes := a.apps.newRecoveryCodes(p.UserID)
	err = a.appStore().ActivateTOTP(ctx, p.UserID, c.epoch, step, hashes)
	if errors.Is(err, ErrNotFound) {
		return errNoPending // confirmed by a concurrent request, or replaced
	}
	if err != nil {
		return a.factorFailed(w, r, c, "activate authenticator app", err)
	}
	a.accountChanged(r, p, EventAppEnabled, "An authenticator app was added")
	writeSecret(w, recoveryCodeSet{RecoveryCodes: codes})
	return nil
}

// disableTOTP serves POST /auth/totp/disable: a current app code or a
// recovery code removes the app and the recovery codes.
func (a *Auth) disableTOTP(w http.ResponseWriter, r *http.Request) *apiError {
	c, t, e := a.appChange(w, r, true)
	if e != nil {
		return e
	}
	ctx := r.Context()
	if err := a.appStore().DeleteTOTP(ctx, t.UserID); err != nil {
		return a.internal(ctx, "delete authenticator app", err)
	}
	a.accountChanged(r, c.Principal, EventAppDisabled, "The authenticator app was removed")
	w.WriteHeader(http.StatusOK)
	return nil
}

// regenerateRecoveryCodes serves POST /auth/recovery_codes: a current app
// code buys a new set; the old set is void.
func (a *Auth) regenerateRecoveryCodes(w http.ResponseWriter, r *http.Request) *apiError {
	c, t, e := a.appChange(w, r, false)
	if e != nil {
		return e
	}
	codes, hashes := a.apps.newRecoveryCodes(t.UserID)
	if err := a.appStore().ReplaceRecoveryCodes(r.Context(), t.UserID, c.epoch, hashes); err != nil {
		return a.factorFailed(w, r, c, "replace recovery codes", err)
	}
	a.accountChanged(r, c.Principal, EventRecoveryCodesNew, "New recovery codes were made (the old ones no longer work)")
	writeSecret(w, recoveryCodeSet{RecoveryCodes: codes})
	return nil
}

// appChange checks what every change of an active app needs: keys, a
// recent sign-in that is still live, an active app and a code that proves
// it (a recovery code too when allowRecovery).
func (a *Auth) appChange(w http.ResponseWriter, r *http.Request, allowRecovery bool) (factorCaller, store.TOTP, *apiError) {
	if e := a.appsReady(false); e != nil {
		return factorCaller{}, store.TOTP{}, e
	}
	var req codeRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return factorCaller{}, store.TOTP{}, e
	}
	check := checkCode
	if allowRecovery {
		check = checkAppCodeField
	}
	if e := check(req.Code); e != nil {
		return factorCaller{}, store.TOTP{}, e
	}
	p, e := a.recentCaller(w, r)
	if e != nil {
		return factorCaller{}, store.TOTP{}, e
	}
	c, e := a.factorCaller(w, r, p)
	if e != nil {
		return factorCaller{}, store.TOTP{}, e
	}
	ctx := r.Context()
	t, active, err := a.activeApp(ctx, p.UserID)
	if err != nil {
		return factorCaller{}, store.TOTP{}, a.internal(ctx, "read authenticator app", err)
	}
	if !active {
		return factorCaller{}, store.TOTP{}, errNoApp
	}
	now := a.now()
	at, e := a.takeAttempt(ctx, a.cfg.Limits.codeLock(), userKey(p.UserID), now)
	if e != nil {
		return factorCaller{}, store.TOTP{}, e
	}
	var spend spendRecovery
	if allowRecovery {
		spend = func(hash string) error { return a.appStore().ConsumeRecoveryCode(ctx, t.UserID, hash) }
	}
	got, err := a.verifyAppCode(ctx, t, req.Code, now, spend)
	if err != nil {
		at.refund(ctx)
		return factorCaller{}, store.TOTP{}, a.appCodeError(ctx, t.UserID, err)
	}
	if got == codeReplayed {
		// Answered as a wrong code, counted as none (DESIGN.md "Limits").
		at.refund(ctx)
		return factorCaller{}, store.TOTP{}, errWrongAppCode
	}
	if e := a.settleAppAttempt(r, at, p.UserID, got != codeWrong); e != nil || got == codeWrong {
		return factorCaller{}, store.TOTP{}, cmp.Or(e, errWrongAppCode)
	}
	if got == codeRecovery {
		a.emit(ctx, Event{Kind: EventRecoveryCodeUsed, UserID: p.UserID, TenantID: p.TenantID, Username: p.Username, ClientIP: a.clientIP(r)})
	}
	return c, t, nil
}

// settleAppAttempt records the outcome of a code checked on a bearer
// route against the user's wrong-code lock, as verify_otp does: a wrong
// code keeps its slot (and may lock the second factor, which is mailed), a
// right one frees them.
func (a *Auth) settleAppAttempt(r *http.Request, at *attempt, userID string, ok bool) *apiError {
	ctx, now := r.Context(), a.now()
	if ok {
		if err := at.succeed(ctx, now); err != nil {
			return a.internal(ctx, "reset code lock", err)
		}
		return nil
	}
	lock, d, err := at.fail(ctx, now)
	if err != nil {
		return a.internal(ctx, "record wrong code", err)
	}
	if lock == 1 {
		a.mailCodeLock(ctx, userID, d)
	}
	return nil
}

// appCodeError answers a failure of checking an app code: a secret that
// does not open is 503 and an ERROR log, anything else a backend failure.
func (a *Auth) appCodeError(ctx context.Context, userID string, err error) *apiError {
	if isSealError(err) {
		a.log.ErrorContext(ctx, "pbxauth: authenticator secret does not open: is a key missing from Config.EncryptionKeys?", "user", userID, "err", err)
		return errSecretSealed
	}
	return a.internal(ctx, "check authenticator code", err)
}

// accountChanged reports a change of the second factor: the event, and a
// notice mailed to the user.
func (a *Auth) accountChanged(r *http.Request, p *Principal, kind EventKind, change string) {
	a.reportChange(r.Context(), Event{Kind: kind, UserID: p.UserID, TenantID: p.TenantID, Username: p.Username, ClientIP: a.clientIP(r), Method: p.Method}, change)
}

// reportChange reports e and mails e's user (Mail.AccountChanged) that
// change was made to their account.
func (a *Auth) reportChange(ctx context.Context, e Event, change string) {
	a.emit(ctx, e)
	a.mailNotice(ctx, e.UserID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = change })
}

// appIssuer names the PBX in authenticator apps.
func (a *Auth) appIssuer(ctx context.Context) string {
	if sys, err := a.store().System(ctx); err == nil && sys.WebDomain != "" {
		return sys.WebDomain
	}
	return "PBX"
}

// accountName names the account in authenticator apps: user@domain for
// tenant users.
func (a *Auth) accountName(ctx context.Context, p *Principal) string {
	if d := a.tenantDomain(ctx, store.User{TenantID: p.TenantID}); d != "" {
		return p.Username + "@" + d
	}
	return p.Username
}
