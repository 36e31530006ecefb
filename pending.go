// This file answers the operations that are not served yet with 501 in the
// error shape. Each stub goes when its feature lands.

package pbxauth

import (
	"context"
	"net/http"
)

var errNotImplemented = &apiError{status: http.StatusNotImplemented, code: "NOT_IMPLEMENTED", message: "not implemented yet"}

func (a *Auth) signInWithSocialAccount(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) microsoftCallback(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) microsoftToken(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}
func (a *Auth) loginWithMicrosoft(w http.ResponseWriter, r *http.Request) *apiError {
	return errNotImplemented
}

func (a *Auth) microsoftAuthorizeEndpoint(ctx context.Context, t Tenant) (string, error) {
	return "", nil
}
