// This file holds the bearer-token middleware for the host's own routes and
// for pbxauth's: RFC 6750 challenges, no ResponseWriter wrapping.

package pbxauth

import (
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/pbxauth/pbxauth/store"
)

// RequireBearer lets a request through to next only with a valid access
// token in "Authorization: Bearer ...", and makes its caller available
// through [PrincipalFrom]. Without a token it answers 401 with a
// `WWW-Authenticate: Bearer realm="..."` challenge; with a wrong, expired or
// revoked one, the same with error="invalid_token". Flow and refresh tokens
// are never accepted. The ResponseWriter is passed on untouched.
func (a *Auth) RequireBearer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, ok := a.checkBearer(w, r)
		if !ok {
			return
		}
		r, p := withValue[principalKey, Principal](r)
		*p = principalOf(g)
		next.ServeHTTP(w, r)
	})
}

// callerHandler is a route of pbxauth's own that needs nothing of its
// caller's but the Principal, and reads it from its argument.
type callerHandler func(w http.ResponseWriter, r *http.Request, p Principal) *apiError

// requireCaller is RequireBearer for a callerHandler: the same check and
// answers, and the caller handed over as an argument, not in a copy of the
// request with a context of its own. GET /auth/user, which clients call
// most, is served so.
func (a *Auth) requireCaller(h callerHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g, ok := a.checkBearer(w, r)
		if !ok {
			return
		}
		if e := h(w, r, principalOf(g)); e != nil {
			writeError(w, e)
		}
	})
}

// checkBearer checks the request's access token and returns its grant, or
// answers the request and returns false: 401 with an RFC 6750 challenge
// for a missing, wrong, expired or revoked token, 503/500 for a failure of
// the Store. A live token's sign-in is marked used and its user becomes
// the request's.
//
// The grant is built in the result itself, each refusal zeroing it there:
// a temporary Grant per return would add kilobytes to the frame of every
// bearer request, which then outgrows its goroutine's stack after each
// collection has shrunk it.
func (a *Auth) checkBearer(w http.ResponseWriter, r *http.Request) (g store.Grant, ok bool) {
	tok, ok := bearerToken(r)
	if !ok {
		a.challenge(w, "", errNoToken)
		return g, false
	}
	ctx, now := r.Context(), a.now()
	var err error
	g, err = a.store().Grant(ctx, store.HashToken(tok), store.AccessToken, now)
	if err != nil {
		g = store.Grant{}
		if errors.Is(err, store.ErrNotFound) {
			a.challenge(w, `, error="invalid_token"`, errInvalidToken)
		} else {
			writeError(w, a.internal(ctx, "check access token", err))
		}
		return g, false
	}
	a.touchSignIn(ctx, g.Family, now)
	requestUser(ctx, g.User.ID)
	return g, true
}

var errNoToken = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized, message: "a bearer token is required"}

// challenge answers 401 with an RFC 6750 challenge.
func (a *Auth) challenge(w http.ResponseWriter, params string, e *apiError) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="`+a.cfg.Realm+`"`+params)
	writeError(w, e)
}

// bearerToken reads the token of an "Authorization: Bearer" header (the
// scheme is case-insensitive, RFC 7235).
func bearerToken(r *http.Request) (string, bool) {
	h := headerValue(r.Header, "Authorization")
	const scheme = "bearer "
	if len(h) <= len(scheme) || !strings.EqualFold(h[:len(scheme)], scheme) {
		return "", false
	}
	tok := strings.TrimSpace(h[len(scheme):])
	return tok, tok != "" && len(tok) <= maxTokenBytes
}

// RequireRole returns middleware that requires a valid access token (as
// RequireBearer) of a user whose role is one of roles; other users get 403
// with error="insufficient_scope". It admits that role of *any* tenant:
// RequireRole(RoleAdmin) lets every tenant's Admin in. A route that acts on
// one tenant's data needs [Auth.RequireTenantRole] instead, or a check of
// Principal.TenantID of its own.
func (a *Auth) RequireRole(roles ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, _ := PrincipalFrom(r.Context())
			if !slices.Contains(roles, p.Role) {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+a.cfg.Realm+`", error="insufficient_scope"`)
				writeError(w, errForbidden)
				return
			}
			next.ServeHTTP(w, r)
		}))
	}
}
