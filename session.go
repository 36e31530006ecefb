// This file holds the browser sessions of GET /login, POST /login and
// POST /logout: an scs session that carries one sign-in per browser, renewed
// at every login, and the cross-origin protection of the cookie routes.
// Bearer routes never load a session.

package pbxauth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/pbxauth/pbxauth/store"
)

// flowCookie marks a second-factor flow started by POST /login: the
// verify_otp that completes it also starts the browser session.
const flowCookie = "cookie"

// flowQR marks a second-factor flow started by POST /auth/sign_in?qr=true,
// so that the sign-in its verify_otp issues is reported with QR.
const flowQR = "qr"

// Defaults of the session manager New makes when Config.SessionManager is nil.
const (
	// DefaultSessionIdleTimeout is longer than the default access-token life,
	// so a page that calls GET /login when its token expires stays signed in.
	DefaultSessionIdleTimeout = 2 * time.Hour
	// DefaultSessionLifetime is a working day.
	DefaultSessionLifetime = 12 * time.Hour
	// SessionCookieName is the cookie of the default manager; with Secure
	// cookies it carries the "__Host-" prefix, so that no sibling subdomain
	// can set or shadow it.
	SessionCookieName = "pbxauth_session"
)

// Keys of pbxauth's values in the session data, prefixed so that a host
// sharing its SessionManager keeps its own keys. Times are RFC 3339 strings
// and everything is a string, which every scs Codec can carry.
//
// The session keeps the current access token itself, not only the sign-in:
// GET /login must hand the token to the page, and minting a fresh one on
// every GET /login instead would add a live token to the Store on every
// page load and write to it on every read. But the session data is at rest
// in the scs store, where no bearer credential may be ("Tokens"), so the
// token is kept sealed (sealAccess) under a key derived from the session
// token, which only the browser holds, and the store is keyed by a hash of
// that token (hashedStore): whoever reads the scs store, or a backup of it,
// gets neither a token nor a cookie. A sealed token that no longer opens
// (the session token was renewed, the value changed, or an earlier version
// kept it in plain text) is replaced through the sign-in, as an expired one
// is.
const (
	keyFamily        = "pbxauth.family"
	keyFamilyExpires = "pbxauth.family_expires"
	keyUser          = "pbxauth.user"
	keyTenant        = "pbxauth.tenant"
	keyAccess        = "pbxauth.access" // sealed: see sealAccess
	keyAccessExpires = "pbxauth.access_expires"
)

var (
	errNoSession   = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized, message: "not signed in"}
	errCrossOrigin = &apiError{status: http.StatusForbidden, code: CodeForbidden, message: "cross-origin request refused"}
)

// newSessionManager returns the host's manager after checking its cookie,
// or a new one with safe defaults.
func newSessionManager(cfg Config) (*scs.SessionManager, error) {
	if sm := cfg.SessionManager; sm != nil {
		if !sm.Cookie.HttpOnly {
			return nil, errors.New("pbxauth: Config.SessionManager's cookie must be HttpOnly")
		}
		if !sm.Cookie.Secure && !cfg.InsecureCookies {
			return nil, errors.New("pbxauth: Config.SessionManager's cookie must be Secure (or set Config.InsecureCookies for plain-HTTP development)")
		}
		if err := hashStoreKeys(sm); err != nil {
			return nil, err
		}
		return sm, nil
	}
	sm := scs.New()
	if cfg.SessionStore != nil {
		sm.Store = cfg.SessionStore
	}
	// A leaked session store then holds no cookie a browser could present.
	if err := hashStoreKeys(sm); err != nil {
		return nil, err
	}
	sm.IdleTimeout = cfg.SessionIdleTimeout
	if sm.IdleTimeout <= 0 {
		sm.IdleTimeout = DefaultSessionIdleTimeout
	}
	sm.Lifetime = cfg.SessionLifetime
	if sm.Lifetime <= 0 {
		sm.Lifetime = DefaultSessionLifetime
	}
	sm.Cookie.Name = SessionCookieName
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Secure = !cfg.InsecureCookies
	if sm.Cookie.Secure {
		sm.Cookie.Name = "__Host-" + SessionCookieName
	}
	return sm, nil
}

// newCrossOriginProtection refuses cross-origin POSTs to the cookie routes
// in the error shape; trusted are the host's extra origins.
func newCrossOriginProtection(trusted []string) (*http.CrossOriginProtection, error) {
	p := http.NewCrossOriginProtection()
	for _, o := range trusted {
		if err := p.AddTrustedOrigin(o); err != nil {
			return nil, fmt.Errorf("pbxauth: Config.TrustedOrigins: %w", err)
		}
	}
	p.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, errCrossOrigin)
	}))
	return p, nil
}

// sameOrigin wraps a state-changing cookie route.
func (a *Auth) sameOrigin(h http.Handler) http.Handler { return a.csrf.Handler(h) }

// browserSession is pbxauth's part of a session: one sign-in and its
// current access token ("" when the stored one does not open).
type browserSession struct {
	family, user, tenant, access string
	familyExpires, accessExpires time.Time
}

// sessionCookie returns the session token the browser sent, or "".
func (a *Auth) sessionCookie(r *http.Request) string {
	c, err := r.Cookie(a.sessions.Cookie.Name)
	if err != nil {
		return ""
	}
	return c.Value
}

// loadSession loads the browser's session into the returned context: the
// stored one, or a new empty one when the cookie names none.
func (a *Auth) loadSession(r *http.Request) (context.Context, error) {
	return a.sessions.Load(r.Context(), a.sessionCookie(r))
}

// saveSession commits a changed session and sends its cookie, or deletes
// the cookie of a destroyed one, as scs's LoadAndSave would. The cookie
// routes do it themselves because a session may start on any route
// (verify_otp, the Microsoft callback), not only on wrapped ones.
func (a *Auth) saveSession(ctx context.Context, w http.ResponseWriter) error {
	switch a.sessions.Status(ctx) {
	case scs.Modified:
		token, expiry, err := a.sessions.Commit(ctx)
		if err != nil {
			return err
		}
		a.sessions.WriteSessionCookie(ctx, w, token, expiry)
	case scs.Destroyed:
		a.sessions.WriteSessionCookie(ctx, w, "", time.Time{})
	}
	return nil
}

// getSession reads pbxauth's values; ok is false when the session carries
// no sign-in (or values some other version wrote). The access token is ""
// when it does not open with the session's token.
func (a *Auth) getSession(ctx context.Context) (s browserSession, ok bool) {
	sm := a.sessions
	s = browserSession{
		family: sm.GetString(ctx, keyFamily),
		user:   sm.GetString(ctx, keyUser),
		tenant: sm.GetString(ctx, keyTenant),
	}
	s.access, _ = openAccess(sm.Token(ctx), s.family, sm.GetString(ctx, keyAccess))
	fe, err1 := time.Parse(time.RFC3339Nano, sm.GetString(ctx, keyFamilyExpires))
	ae, err2 := time.Parse(time.RFC3339Nano, sm.GetString(ctx, keyAccessExpires))
	s.familyExpires, s.accessExpires = fe, ae
	return s, s.family != "" && err1 == nil && err2 == nil
}

// putSession stores pbxauth's values, the access token sealed under the
// session's current token: put it again after the token is renewed.
func (a *Auth) putSession(ctx context.Context, s browserSession) error {
	sm := a.sessions
	sealed, err := sealAccess(sm.Token(ctx), s.family, s.access)
	if err != nil {
		return err
	}
	sm.Put(ctx, keyFamily, s.family)
	sm.Put(ctx, keyFamilyExpires, s.familyExpires.Format(time.RFC3339Nano))
	sm.Put(ctx, keyUser, s.user)
	sm.Put(ctx, keyTenant, s.tenant)
	sm.Put(ctx, keyAccess, sealed)
	sm.Put(ctx, keyAccessExpires, s.accessExpires.Format(time.RFC3339Nano))
	return nil
}

// startSession makes the sign-in is the browser's session: the session
// token is renewed (a token planted before the sign-in dies with it), the
// previous sign-in of this browser, if any, is revoked, and the cookie is
// written. It works from any route. On failure it revokes is, so that
// nothing stays issued.
func (a *Auth) startSession(w http.ResponseWriter, r *http.Request, is issued) *apiError {
	ctx := r.Context()
	// Defence in depth for routes that are not wrapped in sameOrigin
	// (verify_otp): a cross-origin request must not plant a session.
	if err := a.csrf.Check(r); err != nil {
		a.revokeQuietly(ctx, is.family.ID)
		return errCrossOrigin
	}
	sctx, err := a.loadSession(r)
	if err == nil {
		err = a.sessions.RenewToken(sctx)
	}
	var previous browserSession
	if err == nil {
		// Renewed, the session has its new token: the one sealAccess needs.
		previous, _ = a.getSession(sctx)
		err = a.putSession(sctx, browserSession{
			family: is.family.ID, familyExpires: is.family.ExpiresAt,
			user: is.user.ID, tenant: is.user.TenantID,
			access: is.access, accessExpires: is.expires,
		})
	}
	if err == nil {
		err = a.saveSession(sctx, w)
	}
	if err != nil {
		a.revokeQuietly(ctx, is.family.ID)
		return a.internal(ctx, "start browser session", err)
	}
	if previous.family != "" && previous.family != is.family.ID {
		a.revokeQuietly(ctx, previous.family)
	}
	return nil
}

// revokeQuietly revokes a sign-in nobody can reach any more; a failure is
// only logged.
func (a *Auth) revokeQuietly(ctx context.Context, familyID string) {
	if err := a.store().RevokeFamily(ctx, familyID); err != nil {
		a.log.WarnContext(ctx, "pbxauth: revoke unreachable sign-in", "family", familyID, "err", err)
	}
}

// loginStatus is the JSON of GET /login and of a successful POST /login.
type loginStatus struct {
	AccessToken string `json:"access_token"`
	ExpiresAt   string `json:"expires_at"`
	ExpiresIn   int64  `json:"expires_in"`
	Role        string `json:"role"`
}

func (a *Auth) loginStatus(access string, expires time.Time, role string) loginStatus {
	return loginStatus{
		AccessToken: access,
		ExpiresAt:   expires.UTC().Format(time.RFC3339),
		ExpiresIn:   secondsUntil(expires, a.now()),
		Role:        role,
	}
}

// login serves POST /login: the password check of POST /auth/sign_in,
// ending in a browser session or a second-factor flow that will.
func (a *Auth) login(w http.ResponseWriter, r *http.Request) *apiError {
	var c credentials
	if e := decodeJSON(w, r, &c); e != nil {
		return e
	}
	u, dev, e := a.authenticate(r, c, false)
	if e != nil {
		return e
	}
	return a.finishPasswordSignIn(w, r, u, dev, flowCookie)
}

// loginSession completes POST /login (or POST /login/passkey) without a second factor: a sign-in,
// its session, and the GET /login answer (the token pair is for verify_otp).
func (a *Auth) loginSession(w http.ResponseWriter, r *http.Request, s signIn) *apiError {
	s.cookieOnly = true
	s.device = a.deviceOf(r, s.user.ID)
	is, err := a.issue(r, s)
	if err != nil {
		return a.issueFailed(r, s, err)
	}
	if e := a.startSession(w, r, is); e != nil {
		return e
	}
	if s.passwordVerified { // a known device is one the password came through
		a.rememberDevice(w, r, is.user.ID, s.device)
	}
	a.reportSignIn(r, s)
	writeSecret(w, a.loginStatus(is.access, is.expires, is.user.Role))
	return nil
}

// getLoginStatus serves GET /login: the session's access token, a new one
// when it expired while the sign-in lives. A sign-in that ended (signed out
// elsewhere, password reset, user disabled, past its life) ends the session.
func (a *Auth) getLoginStatus(w http.ResponseWriter, r *http.Request) *apiError {
	w.Header().Add("Vary", "Cookie")
	if a.sessionCookie(r) == "" {
		return errNoSession
	}
	ctx, err := a.loadSession(r)
	if err != nil {
		return a.internal(r.Context(), "load browser session", err)
	}
	s, ok := a.getSession(ctx)
	if !ok {
		return errNoSession
	}
	now := a.now()
	var g store.Grant
	if s.access != "" {
		g, err = a.store().Grant(ctx, store.HashToken(s.access), store.AccessToken, now)
	}
	if s.access == "" || errors.Is(err, store.ErrNotFound) && !now.Before(s.accessExpires) {
		// Expired, not revoked, or no longer opening: the next token of the
		// same sign-in, which AddToken refuses when the sign-in ended and
		// Grant when the user was disabled. The browser holds the session
		// token, so the session is its own; only its sealed value is lost.
		s.access, s.accessExpires, err = a.addAccessToken(ctx, store.Family{ID: s.family, ExpiresAt: s.familyExpires})
		if err == nil {
			g, err = a.store().Grant(ctx, store.HashToken(s.access), store.AccessToken, now)
		}
		if err == nil {
			err = a.putSession(ctx, s)
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		if err := a.sessions.Destroy(ctx); err != nil {
			return a.internal(ctx, "destroy browser session", err)
		}
		if err := a.saveSession(ctx, w); err != nil {
			return a.internal(ctx, "destroy browser session", err)
		}
		return errNoSession
	}
	if err != nil {
		return a.internal(ctx, "renew session token", err)
	}
	a.touchSignIn(ctx, g.Family, a.now())
	requestUser(ctx, g.User.ID)
	// An idle timeout makes every loaded session modified: saving extends it.
	if err := a.saveSession(ctx, w); err != nil {
		return a.internal(ctx, "save browser session", err)
	}
	writeSecret(w, a.loginStatus(s.access, s.accessExpires, g.User.Role))
	return nil
}

// logout serves POST /logout: the session's sign-in is revoked and the
// session destroyed. Without a session there is nothing to do: 204 too.
func (a *Auth) logout(w http.ResponseWriter, r *http.Request) *apiError {
	if a.sessionCookie(r) != "" {
		ctx, err := a.loadSession(r)
		if err != nil {
			return a.internal(r.Context(), "load browser session", err)
		}
		if s, ok := a.getSession(ctx); ok {
			if err := a.store().RevokeFamily(ctx, s.family); err != nil {
				return a.internal(ctx, "revoke sign-in", err)
			}
			a.emit(ctx, Event{Kind: EventSignOut, UserID: s.user, TenantID: s.tenant, ClientIP: a.clientIP(r), Method: "cookie"})
		}
		if err := a.sessions.Destroy(ctx); err != nil {
			return a.internal(ctx, "destroy browser session", err)
		}
		if err := a.saveSession(ctx, w); err != nil {
			return a.internal(ctx, "destroy browser session", err)
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
