// This file answers the operations that are not served yet with 501 in the
// error shape. Each stub goes when its feature lands.

package pbxauth

import "net/http"

var errNotImplemented = &apiError{status: http.StatusNotImplemented, code: "NOT_IMPLEMENTED", message: "not implemented yet"}

// flowCookie marks a second-factor flow started by POST /login.
const flowCookie = "cookie"

func (a *Auth) sendOTP(w http.ResponseWriter, r *http.Request) *apiError { return errNotImplemented }
func (a *Auth) verifyOTP(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) forgetPassword(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) resetPassword(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) getLoginStatus(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) login(w http.ResponseWriter, r *http.Request) *apiError  { return errNotImplemented }
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) *apiError { return errNotImplemented }

func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, is issued) *apiError {
	return errNotImplemented
}
