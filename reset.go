// This file holds the forgotten-password flow: POST /auth/forget_password
// records a request for a mail with a single-use link, POST /auth/reset_password sets the
// new password with the link's token.

package pbxauth

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/store"
)

// Reset mail limit (DESIGN.md, "Forgotten password").
const (
	resetMails      = 3
	resetMailWindow = 15 * time.Minute
)

// forgetRequest is the body of POST /auth/forget_password.
type forgetRequest struct {
	Domain      string `json:"domain"`
	Username    string `json:"username"`
	CallbackURL string `json:"callback_url"`
}

// resetRequest is the body of POST /auth/reset_password.
type resetRequest struct {
	Token       string `json:"token"`
	NewPassword string `json:"new_password"`
}

// forgetPassword serves POST /auth/forget_password. Only the request's form
// is checked here, and the request recorded in the outbox before the answer;
// looking the user up, the mail limit, the flow and the mail all happen on a
// mail worker (outbox.go), so the answer is the same 200,
// in the same time, whether or not the user exists, has an address or is
// over the limit. The spec requires a domain, so only tenant users can
// reset their password this way.
func (a *Auth) forgetPassword(w http.ResponseWriter, r *http.Request) *apiError {
	var req forgetRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := a.limitFlowStart(r); e != nil {
		return e
	}
	if e := checkDomain(req.Domain, true); e != nil {
		return e
	}
	if e := checkUsername(req.Username, true); e != nil {
		return e
	}
	if _, e := a.checkCallbackURL(req.CallbackURL); e != nil {
		return e
	}
	d := resetMailData{Domain: req.Domain, Username: req.Username, CallbackURL: req.CallbackURL, ClientIP: a.clientIP(r)}
	if err := a.queueReset(r.Context(), d); err != nil {
		// Not recorded, so not accepted: the client must ask again.
		return a.internal(r.Context(), "record reset request", err)
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

// takeResetMail counts one reset mail for the user and reports whether it
// is within the limit of 3 per window. The windows are fixed 15-minute
// slices of the clock.
func (a *Auth) takeResetMail(ctx context.Context, userID string, now time.Time) (bool, error) {
	_, e := a.rate(ctx, "reset-mail:"+userID, resetMails, resetMailWindow, now)
	if e != nil && e.status != http.StatusTooManyRequests {
		return false, errors.New(e.message) // rate logged the cause
	}
	return e == nil, nil
}

// passwordStamp fingerprints a password hash. A reset flow carries the
// stamp of the password it replaces, so once any link of a user has been
// used (or the password changed otherwise), the other links still in
// mailboxes stop working, although the Store cannot list them to consume.
// A second-factor flow carries the stamp of the password it proved, for the
// same reason (twofactor.go).
func passwordStamp(passwordHash string) string {
	s := sha256.Sum256([]byte("pbxauth reset\x00" + passwordHash))
	return hex.EncodeToString(s[:])
}

// resetPassword serves POST /auth/reset_password. The new password is
// checked before the token is consumed, so a refused password leaves the
// link usable; it is hashed before too, so that of two racing resets with
// one token exactly one wins at ConsumeFlow and the loser changes nothing.
func (a *Auth) resetPassword(w http.ResponseWriter, r *http.Request) *apiError {
	var req resetRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("token", req.Token); e != nil {
		return e
	}
	ctx := r.Context()
	h := store.HashToken(req.Token)
	f, err := a.store().Flow(ctx, h, a.now())
	if e := a.flowError(ctx, err, f.Purpose != store.FlowPasswordReset); e != nil {
		return e
	}
	u, e := a.flowUser(ctx, f)
	if e != nil {
		return e
	}
	if f.Data != passwordStamp(u.PasswordHash) {
		return errInvalidToken
	}
	if e := a.checkNewPassword(ctx, u, "new_password", req.NewPassword); e != nil {
		return e
	}
	hash, err := a.hasher.Hash(ctx, hasher.Ordinary, "", req.NewPassword)
	if err != nil {
		return errBusy // the hashing queue is full, or the client went away
	}
	got, err := a.store().ConsumeFlow(ctx, h, store.FlowPasswordReset, a.now())
	if e := a.flowError(ctx, err, err == nil && got.UserID != u.ID); e != nil {
		return e
	}
	// One step: the new hash, every sign-in ended, and the devices that
	// knew the old password known no more, and the passkeys of
	// the last 7 days deleted.
	if err := a.storeResetPassword(ctx, u, hash, false, a.clientIP(r), ""); errors.Is(err, store.ErrNotFound) {
		return errInvalidToken
	} else if err != nil {
		return a.internal(ctx, "reset password", err)
	}
	// Proving the mailbox lifts a sign-in lock on the account: the user
	// should not be told 429 right after choosing a new password. (The
	// second factor's lock stays: a mailbox is no proof of the factor.)
	if err := a.resetLock(ctx, a.cfg.Limits.passwordLock(), accountKey(a.tenantDomain(ctx, u), u.Username), a.now()); err != nil {
		a.log.WarnContext(ctx, "pbxauth: clear sign-in lock after reset", "user", u.ID, "err", err)
	}
	a.emit(ctx, Event{Kind: EventResetCompleted, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: a.clientIP(r), Method: "password"})
	w.WriteHeader(http.StatusOK)
	return nil
}
