// This file holds a user's change of their own password: POST
// /user/password (resetCurrentUserPassword) and, for a SystemAdmin, POST
// /admin/password (resetSystemAdminPassword). The old password is checked
// under a lock of the caller's sign-in, never the account's or the
// address's; the new hash is stored only while the user's epoch is the one
// read before that check and the caller's sign-in is live, in one Store
// step that ends every other sign-in and carries the caller's over
// (DESIGN.md "More of PortSIP v22", "Tokens").

package pbxauth

import (
	"context"
	"net/http"

	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/store"
)

// Events of a password change.
const (
	// EventPasswordChanged: a user changed their own password with POST
	// /user/password or POST /admin/password; the caller's sign-in
	// (SessionID) stays, every other one ended (each reported as
	// EventSessionRevoked).
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
	ended, err := a.store.ChangePassword(ctx, u.ID, u.Epoch, p.FamilyID, hash, a.now())
	if err != nil {
		return a.factorFailed(w, r, factorCaller{Principal: p, epoch: u.Epoch}, "change password", err)
	}
	o := origin{ip: a.clientIP(r), family: p.FamilyID}
	for _, id := range ended {
		a.emitEnded(ctx, u.ID, u.TenantID, id, o)
	}
	a.accountChanged(r, p, EventPasswordChanged, "Your password was changed")
	w.WriteHeader(http.StatusOK)
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
	if err := a.store.RevokeFamily(ctx, p.FamilyID); err != nil {
		return a.internal(ctx, "end guessed sign-in", err)
	}
	a.emit(ctx, Event{Kind: EventSessionRevoked, UserID: p.UserID, TenantID: p.TenantID, Username: p.Username,
		ClientIP: ip, SessionID: p.FamilyID, Reason: ReasonPasswordGuessing})
	return a.endedBearer(w)
}
