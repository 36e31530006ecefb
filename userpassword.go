// This file holds an administrator's setting of a user's password: POST
// /users/{id}/password (PortSIP's resetUserPassword). An Admin of the
// user's tenant or a SystemAdmin may call it, with a recent sign-in; the
// user must choose a new password at the next sign-in, and every sign-in
// of the user ends (DESIGN.md "More of PortSIP v22", "Tokens"). An Admin's
// set on another Admin's account is mailed to every Admin of the tenant.

package pbxauth

import "net/http"

// errOwnPassword answers an administrator naming their own account.
var errOwnPassword = &apiError{status: http.StatusForbidden, code: CodeForbidden,
	message: "an administrator changes their own password with POST /user/password"}

// setUserPasswordRequest is the body of POST /users/{id}/password.
type setUserPasswordRequest struct {
	Password string `json:"password"`
}

// recentRequest returns the caller, who must have signed in recently
// (403 insufficient_scope otherwise), and decodes the body into v.
func (a *Auth) recentRequest(w http.ResponseWriter, r *http.Request, v any) (*Principal, *apiError) {
	p, e := a.recentCaller(w, r)
	if e == nil {
		e = decodeJSON(w, r, v)
	}
	return p, e
}

// setUserPassword serves POST /users/{id}/password, behind
// RequireRole(RoleAdmin, RoleSystemAdmin), on the user scopedUser finds.
func (a *Auth) setUserPassword(w http.ResponseWriter, r *http.Request) *apiError {
	var req setUserPasswordRequest
	p, e := a.recentRequest(w, r, &req)
	if e != nil {
		return e
	}
	if e := checkPasswordField("password", req.Password); e != nil {
		return e
	}
	if r.PathValue("id") == p.UserID {
		return errOwnPassword
	}
	u, e := a.scopedUser(r, p)
	if e != nil {
		return e
	}
	ctx := r.Context()
	if e := a.checkNewPassword(ctx, u, "password", req.Password); e != nil {
		return e
	}
	hash, err := a.HashPassword(ctx, req.Password)
	if err != nil {
		return errBusy
	}
	// The user's notice is one mail with what the reset did to passkeys.
	if err := a.setPassword(ctx, u, hash, true, origin{ip: a.clientIP(r)}, "An administrator set a new password"); err != nil {
		return a.internal(ctx, "set password", err)
	}
	if p.Role == RoleAdmin && u.Role == RoleAdmin {
		a.mailTenantAdmins(ctx, u.TenantID, &u, "Administrator "+p.Username+" set a new password")
	}
	w.WriteHeader(http.StatusOK)
	return nil
}
