// This file builds the router: every route of the API with its method, and
// JSON 404/405 answers for everything else under the mount.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// apiHandler is a handler that returns its failure instead of writing it, so
// that errors are written in one place, in one shape.
type apiHandler func(w http.ResponseWriter, r *http.Request) *apiError

func (h apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := h(w, r); e != nil {
		writeError(w, e)
	}
}

// route is one operation: method, path pattern and handler.
type route struct {
	method, path string
	handler      http.Handler
}

// routes lists every operation of the spec plus the extension routes.
func (a *Auth) routes() []route {
	return []route{
		{"GET", "/info", apiHandler(a.retrieveMetadata)},
		{"GET", "/openapi.json", apiHandler(a.serveOpenAPI)},
		{"POST", "/auth/sign_in", apiHandler(a.signInWithCredentials)},
		{"POST", "/auth/sign_out", a.RequireBearer(apiHandler(a.signOut))},
		{"POST", "/auth/refresh_token", apiHandler(a.refreshToken)},
		{"GET", "/auth/user", a.requireCaller(a.getUserAuthInfo)},
		{"GET", "/auth/sessions", a.RequireBearer(apiHandler(a.listSessions))},
		{"DELETE", "/auth/sessions/{id}", a.RequireBearer(apiHandler(a.revokeSession))},
		{"POST", "/auth/send_otp", apiHandler(a.sendOTP)},
		{"POST", "/auth/verify_otp", apiHandler(a.verifyOTP)},
		{"POST", "/auth/forget_password", apiHandler(a.forgetPassword)},
		{"POST", "/auth/reset_password", apiHandler(a.resetPassword)},
		{"POST", "/auth/sign_in/{provider}", apiHandler(a.signInWithSocialAccount)},
		{"GET", "/auth/sign_in/microsoft/callback", a.MicrosoftCallback()},
		{"POST", "/auth/sign_in/microsoft/token", apiHandler(a.microsoftToken)},
		{"GET", "/login", apiHandler(a.getLoginStatus)},
		{"POST", "/login", a.sameOrigin(apiHandler(a.login))},
		{"POST", "/login/by_microsoft", a.sameOrigin(apiHandler(a.loginWithMicrosoft))},
		{"POST", "/logout", a.sameOrigin(apiHandler(a.logout))},
		{"POST", "/auth/totp", a.RequireBearer(apiHandler(a.enrolTOTP))},
		{"POST", "/auth/totp/confirm", a.RequireBearer(apiHandler(a.confirmTOTP))},
		{"POST", "/auth/totp/disable", a.RequireBearer(apiHandler(a.disableTOTP))},
		{"POST", "/auth/recovery_codes", a.RequireBearer(apiHandler(a.regenerateRecoveryCodes))},
		{"POST", "/auth/passkeys/options", a.RequireBearer(a.passkeyRoute(a.startPasskeyRegistration))},
		{"POST", "/auth/passkeys", a.RequireBearer(a.passkeyRoute(a.registerPasskey))},
		{"GET", "/auth/passkeys", a.RequireBearer(a.passkeyRoute(a.listPasskeys))},
		{"PATCH", "/auth/passkeys/{id}", a.RequireBearer(a.passkeyRoute(a.renamePasskey))},
		{"DELETE", "/auth/passkeys/{id}", a.RequireBearer(a.passkeyRoute(a.deletePasskey))},
		{"POST", "/auth/sign_in/passkey/options", a.passkeyRoute(a.startPasskeySignIn)},
		{"POST", "/auth/sign_in/passkey", a.passkeyRoute(a.signInWithPasskey)},
		{"POST", "/login/passkey", a.sameOrigin(a.passkeyRoute(a.loginWithPasskey))},
		{"POST", "/auth/verify_passkey/options", a.passkeyRoute(a.startPasskeyVerification)},
		{"POST", "/auth/verify_passkey", a.passkeyRoute(a.verifyPasskey)},
		{"POST", "/user/password", a.RequireBearer(apiHandler(a.changeOwnPassword))},
		{"POST", "/admin/password", a.RequireRole(RoleSystemAdmin)(apiHandler(a.changeOwnPassword))},
		{"POST", "/admin/username", a.RequireRole(RoleSystemAdmin)(apiHandler(a.renameSystemAdmin))},
		{"POST", "/users/{id}/password", a.RequireRole(RoleAdmin, RoleSystemAdmin)(apiHandler(a.setUserPassword))},
		{"GET", "/tenant/password_policy", a.RequireBearer(apiHandler(a.retrieveTenantPasswordPolicy))},
		{"POST", "/tenant/password_policy", a.RequireBearer(apiHandler(a.updateTenantPasswordPolicy))},
		{"POST", "/ms365/certificate", a.RequireBearer(apiHandler(a.generateMicrosoft365Certificate))},
		{"GET", "/ms365/certificate", a.RequireBearer(apiHandler(a.downloadMicrosoft365Certificate))},
		{"POST", "/users/{id}/ms365_binding", a.RequireRole(RoleAdmin, RoleSystemAdmin)(apiHandler(a.addUserMs365Binding))},
		{"POST", "/users/{id}/ms365_binding/destroy", a.RequireRole(RoleAdmin, RoleSystemAdmin)(apiHandler(a.removeUserMs365Binding))},
		{"GET", "/ms365", a.RequireBearer(apiHandler(a.getTenantMicrosoft365ProvisioningDetails))},
		{"POST", "/ms365", a.RequireBearer(apiHandler(a.updateTenantMicrosoft365Provisioning))},
	}
}

// Handler returns the API as an http.Handler, to be mounted under the
// prefix of PublicURL (for example with http.StripPrefix("/api", ...)).
func (a *Auth) Handler() http.Handler { return a.handler }

// buildMux registers the routes; every path also gets a method-less pattern
// that answers 405 in the error shape, and "/" answers 404. A GET route
// also answers HEAD unless its handler is getOnly.
func (a *Auth) buildMux() *http.ServeMux {
	mux := http.NewServeMux()
	allowed := map[string][]string{}
	var paths []string
	for _, rt := range a.routes() {
		mux.Handle(rt.method+" "+rt.path, a.tel.traced(spanName(rt.method, rt.path), rt.handler))
		if allowed[rt.path] == nil {
			paths = append(paths, rt.path)
		}
		allowed[rt.path] = append(allowed[rt.path], rt.method)
		if _, only := rt.handler.(getOnly); rt.method == "GET" && !only {
			allowed[rt.path] = append(allowed[rt.path], "HEAD")
		}
	}
	for _, p := range paths {
		methods := allowed[p]
		sort.Strings(methods)
		a.handleOtherMethods(mux, p, methods, paths)
	}
	mux.HandleFunc("/", notFoundHandler)
	return mux
}

// handleOtherMethods answers 405 on path p for every method but methods.
// A method-less pattern does it in one line, except where a wildcard path
// of paths also matches p ("PATCH /auth/passkeys/{id}" beside
// "/auth/passkeys/options"): ServeMux refuses such a pair, so then each
// other standard method gets a pattern of its own.
func (a *Auth) handleOtherMethods(mux *http.ServeMux, p string, methods, paths []string) {
	h := methodNotAllowed(strings.Join(methods, ", "))
	if !slices.ContainsFunc(paths, func(q string) bool { return q != p && wildcardMatches(q, p) }) {
		mux.Handle(p, h)
		return
	}
	for _, m := range []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE"} {
		if !slices.Contains(methods, m) {
			mux.Handle(m+" "+p, h)
		}
	}
}

// wildcardMatches reports whether the pattern path q, which has wildcard
// segments, matches the path p segment by segment.
func wildcardMatches(q, p string) bool {
	qs, ps := strings.Split(q, "/"), strings.Split(p, "/")
	if !strings.Contains(q, "{") || len(qs) != len(ps) {
		return false
	}
	for i := range qs {
		if qs[i] != ps[i] && !strings.HasPrefix(qs[i], "{") {
			return false
		}
	}
	return true
}

// internal logs a backend failure and returns its answer, which never
// carries details: 503 UNAVAILABLE with Retry-After for an outage of the
// Store (ErrUnavailable), 500 INTERNAL for anything else. It is the one
// place that decides between them.
func (a *Auth) internal(ctx context.Context, what string, err error) *apiError {
	if errors.Is(err, store.ErrUnavailable) {
		a.log.WarnContext(ctx, "pbxauth: "+what+": store unavailable", "err", err)
		return errUnavailable
	}
	a.log.ErrorContext(ctx, "pbxauth: "+what, "err", err)
	return errInternal
}
