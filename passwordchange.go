// This file holds a user's change of their own password: POST
// /user/password (resetCurrentUserPassword) and, for a SystemAdmin, POST
// /admin/password (resetSystemAdminPassword). The old password is checked
// under a lock of the caller's sign-in, never the account's or the
// address's; the new hash is stored only while the user's epoch is the one
// read before that check and the caller's sign-in is live, in one Store
// step that ends every other sign-in and carries the caller's over
// (DESIGN.md "More of PortSIP v22", "Tokens"). Auth.ChangePassword is the
// same change for a host, from Go, in the same Store step with no sign-in
// to carry over.

package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/store"
)

// Events of a password change.
const (
	// EventPasswordChanged: a user changed their own password with POST
	// /user/password or POST /admin/password; the caller's sign-in
	// (SessionID) stays, every other one ended (each reported as
	// EventSessionRevoked). Also reported by [Auth.ChangePassword], after
	// which no sign-in stays (no SessionID, ClientIP or Method).
	EventPasswordChanged EventKind = "password_changed"
)

// ReasonPasswordGuessing is the Reason of the EventSessionRevoked that
// ended a sign-in after Limits.PasswordAttempts wrong old passwords sent
// through it in one lock cycle to POST /user/password or POST
// /admin/password: whoever holds its token does not know the password.
const ReasonPasswordGuessing = "password_guessing"

// ReasonWrongPassword is the reason of the 400 that answers a wrong old
// password.
const ReasonWrongPassword = "wrong_password"

// errWrongOldPassword answers a wrong old password; the account is not
// locked by it, only the sign-in it came through is charged.
var errWrongOldPassword = &apiError{status: http.StatusBadRequest, code: CodeInvalidArgument, reason: ReasonWrongPassword,
	message: "old_password is wrong"}

// changePasswordRequest is the body of POST /user/password and POST
// /admin/password.
type changePasswordRequest struct {
	OldPassword string `json:"old_password"`
	NewPassword string `json:"new_password"`
}

// signInKey is the lock key of a sign-in's checks of its own password.
func signInKey(familyID string) string { return "sign-in " + familyID }

// changeOwnPassword serves POST /user/password and, behind
// RequireRole(RoleSystemAdmin), POST /admin/password.
func (a *Auth) changeOwnPassword(w http.ResponseWriter, r *http.Request) *apiError {
	var req changePasswordRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkPasswordField("old_password", req.OldPassword); e != nil {
		return e
	}
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	u, e := a.liveCaller(w, r, p)
	if e != nil {
		return e
	}
	if e := a.checkNewPassword(ctx, u, "new_password", req.NewPassword); e != nil {
		return e
	}
	if e := a.checkOldPassword(w, r, p, u, req.OldPassword); e != nil {
		return e
	}
	hash, err := a.hasher.Hash(ctx, hasher.Ordinary, "", req.NewPassword)
	if err != nil {
		return errBusy
	}
	if err := a.storeChangedPassword(ctx, u, hash, origin{ip: a.clientIP(r), family: p.FamilyID}); err != nil {
		return a.factorFailed(w, r, factorCaller{Principal: p, epoch: u.Epoch}, "change password", err)
	}
	a.accountChanged(r, p, EventPasswordChanged, passwordChangedNotice)
	w.WriteHeader(http.StatusOK)
	return nil
}

// passwordChangedNotice is the change the user is mailed after a change of
// their own password.
const passwordChangedNotice = "Your password was changed"

// storeChangedPassword stores hash as u's password in the Store's one step
// of a change of one's own password: only while u.Epoch is current, the
// sign-in o.family carried over ("" carries none: every sign-in ends and
// every known device goes), PasswordForceReset cleared. Each sign-in it
// ended is reported from o. ErrStale when the epoch moved or o.family is
// no longer live, with nothing changed.
func (a *Auth) storeChangedPassword(ctx context.Context, u store.User, hash string, o origin) error {
	ended, err := a.store().ChangePassword(ctx, u.ID, u.Epoch, o.family, hash, a.now())
	if err != nil {
		return err
	}
	for _, id := range ended {
		a.emitEnded(ctx, u.ID, u.TenantID, id, o)
	}
	return nil
}

// ChangePassword is POST /user/password for a host that authenticates the
// user its own way (its own settings page, say): it changes the password
// of the user userID from oldPassword to newPassword. newPassword must
// pass pbxauth's rules, Config.PasswordPolicy and the tenant's password
// policy; a refusal wraps ErrInvalid and names the rule, as the route's
// 400 does, and is checked before the old password. A wrong (or missing)
// oldPassword is an error wrapping ErrInvalid that says so, with nothing
// changed.
//
// A wrong oldPassword is charged against no limit: neither the account's
// sign-in lock, which would let whoever the host lets call this lock the
// user out of every PBX client, nor a sign-in's, as from Go there is no
// sign-in. The host authenticated its caller already (and may set any
// password without the old one with [Auth.SetPassword]); the old password
// only confirms the user's intent, so throttling guesses at it is the
// host's page's job, like every other check of its own.
//
// The new password is stored in the Store step of POST /user/password,
// under the epoch read before the old password was checked, but from Go
// there is no caller's sign-in to keep: every sign-in of the user ends
// (each reported as EventSessionRevoked) and every known device of the
// user is deleted. PasswordForceReset is cleared, the user is mailed
// (Mail.AccountChanged) and EventPasswordChanged is reported.
// ErrNotFound for an unknown user; an error wrapping store.ErrStale, with
// nothing changed, when the user's epoch moved while it ran (a reset or
// set of the password, or every sign-in ended, after the old password was
// checked): call again.
func (a *Auth) ChangePassword(ctx context.Context, userID, oldPassword, newPassword string) error {
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	if err := a.newPasswordError(ctx, u, "newPassword", newPassword, true); err != nil {
		return err
	}
	if err := apiErr(checkPasswordField("oldPassword", oldPassword)); err != nil {
		return err
	}
	ok, _, err := a.hasher.Verify(ctx, hasher.Ordinary, "", u.PasswordHash, oldPassword)
	if err != nil {
		return err
	}
	if !ok {
		return invalidf("oldPassword is wrong")
	}
	hash, err := a.HashPassword(ctx, newPassword)
	if err != nil {
		return err
	}
	if err := a.storeChangedPassword(ctx, u, hash, origin{}); err != nil {
		if errors.Is(err, store.ErrStale) {
			return fmt.Errorf("the user's credentials changed while the old password was checked, nothing was changed: %w", err)
		}
		return err
	}
	a.reportChange(ctx, Event{Kind: EventPasswordChanged, UserID: u.ID, TenantID: u.TenantID, Username: u.Username}, passwordChangedNotice)
	return nil
}

// checkOldPassword checks the caller's old password under the lock of its
// sign-in: read first (429 from the read), then one slot taken. The
// account's lock, which others may have caused, does not refuse it, and a
// failure counts neither on the account nor on the address. The failure
// that fills a cycle ends the sign-in: 401 invalid_token.
func (a *Auth) checkOldPassword(w http.ResponseWriter, r *http.Request, p *Principal, u store.User, password string) *apiError {
	ctx := r.Context()
	t, e := a.takeAttempt(ctx, a.cfg.Limits.passwordLock(), signInKey(p.FamilyID), a.now())
	if e != nil {
		return e
	}
	ok, _, err := a.hasher.Verify(ctx, hasher.Ordinary, "", u.PasswordHash, password)
	if err != nil {
		t.refund(ctx)
		return errBusy
	}
	if ok {
		if err := t.succeed(ctx, a.now()); err != nil {
			a.log.WarnContext(ctx, "pbxauth: clear sign-in's password lock", "err", err)
		}
		return nil
	}
	lock, _, err := t.fail(ctx, a.now())
	if err != nil {
		return a.internal(ctx, "count wrong password", err)
	}
	if lock == 0 {
		return errWrongOldPassword
	}
	return a.endGuessedSignIn(context.WithoutCancel(ctx), w, p, a.clientIP(r))
}

// endGuessedSignIn ends p's sign-in, through which the password was
// guessed wrong once too often, and answers 401 invalid_token.
func (a *Auth) endGuessedSignIn(ctx context.Context, w http.ResponseWriter, p *Principal, ip string) *apiError {
	if err := a.store().RevokeFamily(ctx, p.FamilyID); err != nil {
		return a.internal(ctx, "end guessed sign-in", err)
	}
	a.emit(ctx, Event{Kind: EventSessionRevoked, UserID: p.UserID, TenantID: p.TenantID, Username: p.Username,
		ClientIP: ip, SessionID: p.FamilyID, Reason: ReasonPasswordGuessing})
	return a.endedBearer(w)
}
