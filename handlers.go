// This file holds one handler per operation of the spec that works with
// passwords and tokens: metadata, sign-in, refresh, sign-out and the
// signed-in user. Second factor, reset, cookie and Microsoft handlers live
// in their own files.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/pbxauth/pbxauth/store"
)

// metadata is the JSON of GET /info: system fields always, tenant fields
// with ?domain=.
type metadata struct {
	store.System

	Name                       string `json:"name,omitempty"`
	Domain                     string `json:"domain,omitempty"`
	Website                    string `json:"website,omitempty"`
	AvatarURL                  string `json:"avatar_url,omitempty"`
	EnableMS365Integration     *bool  `json:"enable_ms365_integration,omitempty"`
	MS365AuthorizationEndpoint string `json:"ms365_authorization_endpoint,omitempty"`
}

// retrieveMetadata serves GET /info.
func (a *Auth) retrieveMetadata(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	sys, err := a.store().System(ctx)
	if err != nil {
		return a.internal(ctx, "read system settings", err)
	}
	m := metadata{System: sys}
	if q := r.URL.Query(); q.Has("domain") {
		domain := q.Get("domain")
		if e := checkDomain(domain, true); e != nil {
			return e
		}
		t, err := a.store().TenantByDomain(ctx, domain)
		if errors.Is(err, store.ErrNotFound) {
			return &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "unknown domain"}
		}
		if err != nil {
			return a.internal(ctx, "read tenant", err)
		}
		enabled := msConfigured(t.MS365)
		m.Name, m.Domain, m.Website, m.AvatarURL = t.Name, t.Domain, t.Website, t.AvatarURL
		m.EnableMS365Integration = &enabled
		if enabled {
			m.MS365AuthorizationEndpoint, err = a.microsoftAuthorizeEndpoint(ctx, t)
			if err != nil {
				// The provider being unreachable must not hide the rest.
				a.log.WarnContext(ctx, "pbxauth: Microsoft discovery failed", "tenant", t.ID, "err", err)
			}
		}
	}
	writeJSON(w, http.StatusOK, m)
	return nil
}

// credentials is the body of POST /auth/sign_in and POST /login.
type credentials struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Domain   string `json:"domain"`
}

// signInWithCredentials serves POST /auth/sign_in.
func (a *Auth) signInWithCredentials(w http.ResponseWriter, r *http.Request) *apiError {
	var c credentials
	if e := decodeJSON(w, r, &c); e != nil {
		return e
	}
	qr, e := parseQR(r)
	if e != nil {
		return e
	}
	u, dev, e := a.authenticate(r, c, qr)
	if e != nil {
		return e
	}
	mode := ""
	if qr {
		mode = flowQR
	}
	return a.finishPasswordSignIn(w, r, u, dev, mode)
}

// parseQR reads the optional ?qr= flag.
func parseQR(r *http.Request) (bool, *apiError) {
	q := r.URL.Query()
	if !q.Has("qr") {
		return false, nil
	}
	qr, err := strconv.ParseBool(q.Get("qr"))
	if err != nil {
		return false, invalidArgument("qr must be true or false")
	}
	return qr, nil
}

// finishPasswordSignIn answers a proven password: the token pair, or a
// second-factor flow token when the user needs one (the flow remembers the
// known device the password came through, dev, if any). flowData marks
// flows that must end in a cookie session; with flowCookie (POST /login)
// the answer is the session's status instead of the token pair. flowQR
// marks a token sign-in through a provisioning QR code.
// A flow is reported as EventSecondFactorRequired; an issued sign-in as
// EventSignIn.
func (a *Auth) finishPasswordSignIn(w http.ResponseWriter, r *http.Request, u store.User, dev *store.Device, flowData string) *apiError {
	ctx := r.Context()
	need, err := a.needsSecondFactor(ctx, u)
	if err != nil {
		return a.internal(ctx, "read second-factor settings", err)
	}
	if need {
		tok, err := a.newFlow(ctx, store.Flow{Purpose: store.FlowTwoFactor, UserID: u.ID, TenantID: u.TenantID, Epoch: u.Epoch, Data: twoFactorData(flowData, u.PasswordHash, dev)})
		if err != nil {
			return a.issueFailed(r, signIn{user: u, method: "password"}, err)
		}
		a.emit(ctx, Event{Kind: EventSecondFactorRequired, UserID: u.ID, TenantID: u.TenantID, Username: u.Username,
			ClientIP: a.clientIP(r), Method: "password", QR: flowData == flowQR})
		writeSecret(w, secondFactor{TwoFactorEnabled: true, Token: tok})
		return nil
	}
	s := signIn{user: u, epoch: u.Epoch, passwordVerified: true, method: "password", qr: flowData == flowQR}
	if flowData == flowCookie {
		// POST /login itself: it answers the session, not a token pair.
		return a.loginSession(w, r, s)
	}
	return a.completeSignIn(w, r, s, flowData)
}

// completeSignIn issues a sign-in and answers its token pair; for cookie
// flows it also starts the browser session. A sign-in that proved the
// password leaves the device cookie.
func (a *Auth) completeSignIn(w http.ResponseWriter, r *http.Request, s signIn, flowData string) *apiError {
	if s.passwordVerified {
		s.device = a.deviceOf(r, s.user.ID)
	}
	is, err := a.issue(r, s)
	if err != nil {
		return a.issueFailed(r, s, err)
	}
	if flowData == flowCookie {
		if e := a.startSession(w, r, is); e != nil {
			return e
		}
	}
	if s.passwordVerified {
		a.rememberDevice(w, r, s.user.ID, s.device)
	}
	a.reportSignIn(r, s)
	writeSecret(w, is.pair(a.now()))
	return nil
}

// reportSignIn reports an issued password or passkey sign-in as
// EventSignIn (a Microsoft one is EventMicrosoftSignIn, reported by
// microsoft.go).
func (a *Auth) reportSignIn(r *http.Request, s signIn) {
	if s.method != "password" && s.method != methodPasskey {
		return
	}
	u := s.user
	a.emit(r.Context(), Event{Kind: EventSignIn, UserID: u.ID, TenantID: u.TenantID, Username: u.Username,
		ClientIP: a.clientIP(r), Method: s.method, QR: s.qr})
}

// needsSecondFactor applies the per-user, per-tenant and system-wide switches.
func (a *Auth) needsSecondFactor(ctx context.Context, u store.User) (bool, error) {
	if u.TwoFactorEnabled {
		return true, nil
	}
	// An authenticator app always asks for its code, whatever the switches.
	if _, active, err := a.activeApp(ctx, u.ID); err != nil || active {
		return active, err
	}
	if u.TenantID == "" {
		sys, err := a.store().System(ctx)
		return sys.EnableTwoFactor, err
	}
	t, err := a.store().Tenant(ctx, u.TenantID)
	return t.EnableTwoFactor, err
}

// refreshRequest is the body of POST /auth/refresh_token.
type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// refreshToken serves POST /auth/refresh_token.
func (a *Auth) refreshToken(w http.ResponseWriter, r *http.Request) *apiError {
	var req refreshRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("refresh_token", req.RefreshToken); e != nil {
		return e
	}
	ctx := r.Context()
	g, is, err := a.rotate(ctx, req.RefreshToken)
	switch {
	case errors.Is(err, errRefreshReused):
		a.emit(ctx, Event{Kind: EventRefreshReuse, UserID: g.User.ID, TenantID: g.User.TenantID, ClientIP: a.clientIP(r), Method: g.Family.Method})
		return errInvalidToken
	case errors.Is(err, store.ErrNotFound):
		return errInvalidToken
	case err != nil:
		return a.internal(ctx, "rotate refresh token", err)
	}
	a.touchSignIn(ctx, g.Family, a.now())
	a.emit(ctx, Event{Kind: EventRefresh, UserID: g.User.ID, TenantID: g.User.TenantID, ClientIP: a.clientIP(r), Method: g.Family.Method})
	writeSecret(w, is.pair(a.now()))
	return nil
}

// signOut serves POST /auth/sign_out: the caller's sign-in is revoked.
func (a *Auth) signOut(w http.ResponseWriter, r *http.Request) *apiError {
	if scope, ok := r.URL.Query()["scope"]; ok {
		return a.signOutScope(w, r, scope)
	}
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	if err := a.store().RevokeFamily(ctx, p.FamilyID); err != nil {
		return a.internal(ctx, "revoke sign-in", err)
	}
	a.emit(ctx, Event{Kind: EventSignOut, UserID: p.UserID, TenantID: p.TenantID, ClientIP: a.clientIP(r), Method: p.Method})
	w.WriteHeader(http.StatusOK)
	return nil
}

// userAuthInfo is the JSON of GET /auth/user.
type userAuthInfo struct {
	// Username is an extension: who is signed in, for a page to show.
	Username           string `json:"username,omitempty"`
	Role               string `json:"role"`
	PasswordVerified   bool   `json:"password_verified"`
	PasswordForceReset bool   `json:"password_force_reset"`
}

// getUserAuthInfo serves GET /auth/user.
func (a *Auth) getUserAuthInfo(w http.ResponseWriter, r *http.Request, p Principal) *apiError {
	info := userAuthInfo{
		Username:           p.Username,
		Role:               p.Role,
		PasswordVerified:   p.PasswordVerified,
		PasswordForceReset: p.PasswordForceReset,
	}
	ans := new(jsonAnswer)
	if b, ok := info.appendJSON(ans.body[:0]); ok {
		writeJSONBodyIn(w, http.StatusOK, b, &ans.header)
	} else {
		writeJSON(w, http.StatusOK, info)
	}
	return nil
}

// appendJSON appends u as json.Marshal writes it, when its texts are
// ones JSON writes as they are (jsonPlain); ok is false otherwise. GET
// /auth/user is the route clients call most: this spares it encoding/json's
// reflection.
func (u userAuthInfo) appendJSON(b []byte) (_ []byte, ok bool) {
	if !jsonPlain(u.Username) || !jsonPlain(u.Role) {
		return b, false
	}
	b = append(b, '{')
	if u.Username != "" {
		b = append(b, `"username":"`...)
		b = append(b, u.Username...)
		b = append(b, `",`...)
	}
	b = append(b, `"role":"`...)
	b = append(b, u.Role...)
	b = append(b, `","password_verified":`...)
	b = strconv.AppendBool(b, u.PasswordVerified)
	b = append(b, `,"password_force_reset":`...)
	b = strconv.AppendBool(b, u.PasswordForceReset)
	return append(b, '}'), true
}

// jsonPlain says whether encoding/json writes s between quotes as it is:
// printable ASCII but the quote, the backslash and the <, > and & it
// escapes for HTML.
func jsonPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
