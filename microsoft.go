// This file serves Microsoft Entra ID sign-in. POST /auth/sign_in/{provider}
// (token mode) and POST /login/by_microsoft (cookie mode) start an
// authorization code flow with PKCE, a single-use state and a nonce; GET
// /auth/sign_in/microsoft/callback ends it, and in token mode POST
// /auth/sign_in/microsoft/token trades the flow token it handed out for a
// token pair.

package pbxauth

import (
	"bytes"
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/internal/pkce"
	"github.com/pbxauth/pbxauth/store"
)

// Modes of a Microsoft sign-in: where it ends.
const (
	modeToken  = "token"    // callback_url?token=FLOW, traded at /auth/sign_in/microsoft/token
	modeCookie = flowCookie // a cookie session, then Config.LoginRedirect
)

// methodMicrosoft is the Family.Method and Event.Method of these sign-ins.
const methodMicrosoft = "microsoft"

// oidcState is what the callback needs to finish the sign-in: the Data of a
// FlowOIDCState flow (whose TenantID is the tenant), or the data of a
// sealed state (msstate.go), which carries the tenant and derives the
// verifier and nonce instead.
type oidcState struct {
	Verifier string `json:"verifier,omitempty"`
	Nonce    string `json:"nonce,omitempty"`
	Callback string `json:"callback_url,omitempty"`
	Mode     string `json:"mode"`
	// Challenge is the client's code_challenge, carried on to the exchange.
	Challenge string `json:"code_challenge,omitempty"`
	// Tenant is the tenant of a sealed state.
	Tenant string `json:"tenant,omitempty"`
	// Cookie is the SHA-256 (base64url) of the cookie flow's state cookie.
	Cookie string `json:"cookie_sha256,omitempty"`
	// Network is the client network whose share a stored state counts in.
	Network string `json:"network,omitempty"`
}

// exchangeFlow is the Data of a FlowMicrosoft flow.
type exchangeFlow struct {
	Challenge string `json:"code_challenge,omitempty"`
}

var (
	errUnknownProvider = &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "unknown provider: only microsoft is supported"}
	errMSUnknownDomain = &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "unknown domain"}
	errNoMicrosoft     = invalidArgument("domain has no Microsoft sign-in configured")
	errIdPUnavailable  = &apiError{status: http.StatusServiceUnavailable, code: CodeUnavailable, message: "Microsoft sign-in is unavailable, try again", retryAfter: 5 * time.Second}
	errUnknownState    = invalidArgument("state is missing, unknown, expired or already used")
	errFormMedia       = &apiError{status: http.StatusUnsupportedMediaType, code: CodeUnsupportedMediaType, message: "Content-Type must be application/x-www-form-urlencoded"}
	errNoPublicURL     = errors.New("pbxauth: Microsoft sign-in needs Config.PublicURL or Config.MicrosoftRedirectURL")
	errBadChallenge    = invalidArgument("code_challenge must be 43 base64url characters (S256)")
	errNeedChallenge   = invalidArgument("code_challenge is required")
	errBadMethod       = invalidArgument(`code_challenge_method must be "S256"`)
	errBadVerifier     = invalidArgument("code_verifier must be 43 to 128 characters of A-Z a-z 0-9 - . _ ~")
)

// socialSignIn is the body of POST /auth/sign_in/{provider}.
type socialSignIn struct {
	Domain      string `json:"domain"`
	CallbackURL string `json:"callback_url"`
	// CodeChallenge binds the exchange to the client that started the
	// sign-in: only the holder of its verifier can trade the flow token.
	CodeChallenge       string `json:"code_challenge"`
	CodeChallengeMethod string `json:"code_challenge_method"`
}

// checkChallenge applies the rules of code_challenge.
func (a *Auth) checkChallenge(req socialSignIn) *apiError {
	switch {
	case req.CodeChallengeMethod != "" && req.CodeChallengeMethod != "S256":
		return errBadMethod
	case req.CodeChallenge == "" && a.cfg.RequireExchangeChallenge:
		return errNeedChallenge
	case req.CodeChallenge != "" && !pkce.ValidChallenge(req.CodeChallenge):
		return errBadChallenge
	}
	return nil
}

// signInURL is the answer of POST /auth/sign_in/{provider}.
type signInURL struct {
	URL string `json:"url"`
}

// signInWithSocialAccount serves POST /auth/sign_in/{provider}. Provider
// names are matched exactly, like the literal /auth/sign_in/microsoft/...
// routes, so there is one spelling.
func (a *Auth) signInWithSocialAccount(w http.ResponseWriter, r *http.Request) *apiError {
	if e := a.limitMicrosoftStart(r); e != nil {
		return e
	}
	if r.PathValue("provider") != "microsoft" {
		return errUnknownProvider
	}
	var req socialSignIn
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkDomain(req.Domain, true); e != nil {
		return e
	}
	if _, e := a.checkCallbackURL(req.CallbackURL); e != nil {
		return e
	}
	if e := a.checkChallenge(req); e != nil {
		return e
	}
	authURL, e := a.startMicrosoft(r, req.Domain, oidcState{Callback: req.CallbackURL, Mode: modeToken, Challenge: req.CodeChallenge})
	if e != nil {
		return e
	}
	writeSecret(w, signInURL{URL: authURL})
	return nil
}

// loginWithMicrosoft serves POST /login/by_microsoft: a browser form that
// goes straight to the IdP.
func (a *Auth) loginWithMicrosoft(w http.ResponseWriter, r *http.Request) *apiError {
	if e := a.limitMicrosoftStart(r); e != nil {
		return e
	}
	form, e := readForm(w, r)
	if e != nil {
		return e
	}
	if len(form["domain"]) > 1 {
		return invalidArgument(`duplicated field "domain"`)
	}
	domain := form.Get("domain")
	if e := checkDomain(domain, true); e != nil {
		return e
	}
	cookie, cookieHash := newStateCookie()
	authURL, e := a.startMicrosoft(r, domain, oidcState{Mode: modeCookie, Cookie: cookieHash})
	if e != nil {
		return e
	}
	http.SetCookie(w, a.stateCookie(cookie, int(a.cfg.FlowTTL/time.Second)))
	redirectNoStore(w, authURL)
	return nil
}

// readForm reads an application/x-www-form-urlencoded body under the size
// limit of every request body.
func readForm(w http.ResponseWriter, r *http.Request) (url.Values, *apiError) {
	if !hasMediaType(r, "application/x-www-form-urlencoded") {
		return nil, errFormMedia
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	if err := r.ParseForm(); err != nil {
		return nil, bodyError(err, "malformed form body")
	}
	return r.PostForm, nil
}

// startMicrosoft saves a new state for the tenant of domain (msstate.go)
// and returns the IdP's authorization URL.
func (a *Auth) startMicrosoft(r *http.Request, domain string, st oidcState) (string, *apiError) {
	ctx := r.Context()
	t, err := a.store().TenantByDomain(ctx, domain)
	if errors.Is(err, store.ErrNotFound) {
		return "", errMSUnknownDomain
	}
	if err != nil {
		return "", a.internal(ctx, "read tenant", err)
	}
	if !msConfigured(t.MS365) {
		if t.MS365 != nil {
			a.log.WarnContext(ctx, "pbxauth: incomplete Microsoft settings", "tenant", t.ID)
		}
		return "", errNoMicrosoft
	}
	if a.cfg.PublicURL == "" && a.cfg.MicrosoftRedirectURL == "" {
		return "", a.internal(ctx, "start Microsoft sign-in", errNoPublicURL)
	}
	p, err := a.provider(ctx, t.MS365)
	if err != nil {
		a.log.WarnContext(ctx, "pbxauth: Microsoft discovery failed", "tenant", t.ID, "err", err)
		return "", errIdPUnavailable
	}
	state, st, e := a.saveState(r, t.ID, st)
	if e != nil {
		return "", e
	}
	u := a.oauthConfig(p, t.MS365).AuthCodeURL(state, oauth2.S256ChallengeOption(st.Verifier), oidc.Nonce(st.Nonce))
	return u, nil
}

// MicrosoftCallback returns the handler of the Microsoft callback, which
// Handler also serves at /auth/sign_in/microsoft/callback. A host whose
// Entra ID registration names another redirect URI (PortSIP's is
// https://HOST:8887/ms365/callback) mounts it there and sets
// Config.MicrosoftRedirectURL to that URL.
func (a *Auth) MicrosoftCallback() http.Handler {
	// getOnly outermost: the router reads it to leave HEAD out of Allow.
	return getOnly{a.WithRequestInfo(apiHandler(a.microsoftCallback))}
}

// microsoftCallback serves GET /auth/sign_in/microsoft/callback, where the
// IdP sends the browser back. Without a live state there is no trusted place
// to send it on to, so that is a JSON 400; every later failure goes to the
// flow's landing place with ?error=CODE.
func (a *Auth) microsoftCallback(w http.ResponseWriter, r *http.Request) *apiError {
	if e := checkAuthorizationCode(r.URL.Query()); e != nil {
		return e
	}
	f, st, e := a.takeState(r)
	if e != nil {
		return e
	}
	land, e := a.landing(st)
	if e != nil {
		return e
	}
	if st.Mode == modeCookie {
		http.SetCookie(w, a.stateCookie("", -1))
	}

	u, fail := a.microsoftAccount(r, f, st)
	if fail == nil {
		fail = a.finishMicrosoft(w, r, u, st, land)
	}
	if fail != nil {
		a.refuseMicrosoft(r, f, fail)
		redirectNoStore(w, withToken(land, "error", fail.code))
	}
	return nil
}

// landing is where the browser goes when the sign-in of st ends.
func (a *Auth) landing(st oidcState) (*url.URL, *apiError) {
	if st.Mode == modeCookie {
		u, _ := url.Parse(a.cfg.LoginRedirect) // checked by New
		return u, nil
	}
	// Checked again: the allowed origins may have changed since the start.
	return a.checkCallbackURL(st.Callback)
}

// finishMicrosoft ends a successful sign-in: a flow token to the callback
// URL, or a cookie session and the login redirect.
func (a *Auth) finishMicrosoft(w http.ResponseWriter, r *http.Request, u store.User, st oidcState, land *url.URL) *msFailure {
	ctx := r.Context()
	if st.Mode != modeCookie {
		data, err := json.Marshal(exchangeFlow{Challenge: st.Challenge})
		if err != nil {
			return serverError(u, "encode exchange flow", err)
		}
		tok, err := a.newFlow(ctx, store.Flow{Purpose: store.FlowMicrosoft, UserID: u.ID, TenantID: u.TenantID, Epoch: u.Epoch, Data: string(data)})
		if errors.Is(err, store.ErrStale) {
			return denied(ReasonCredentialsChanged)
		}
		if err != nil {
			return serverError(u, "store exchange token", err)
		}
		redirectNoStore(w, withToken(land, "token", tok))
		return nil
	}
	is, err := a.issue(r, signIn{user: u, epoch: u.Epoch, method: methodMicrosoft, cookieOnly: true})
	if errors.Is(err, store.ErrStale) {
		return denied(ReasonCredentialsChanged)
	}
	if err != nil {
		return serverError(u, "issue tokens", err)
	}
	if e := a.startSession(w, r, is); e != nil { // which revokes is on failure
		return serverError(u, "start cookie session", e)
	}
	a.emit(ctx, Event{Kind: EventMicrosoftSignIn, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: a.clientIP(r), Method: methodMicrosoft})
	redirectNoStore(w, land.String())
	return nil
}

// msFailure is a Microsoft sign-in refused after a live state: the OAuth
// error code the browser is sent on with, why (for the log), and who, as far
// as known (for the event).
type msFailure struct {
	code    string
	reason  error
	user    store.User
	account string // the Microsoft account's email or user name
	// detail is the IdP's error_description as it may be logged
	// (idpcall.go); never in events.
	detail string
}

func denied(reason string, args ...any) *msFailure {
	return &msFailure{code: "access_denied", reason: fmt.Errorf(reason, args...)}
}

func serverError(u store.User, what string, err error) *msFailure {
	return &msFailure{code: "server_error", reason: fmt.Errorf("%s: %w", what, err), user: u}
}

// refuseMicrosoft logs and reports a refused sign-in.
func (a *Auth) refuseMicrosoft(r *http.Request, f store.Flow, fail *msFailure) {
	ctx := r.Context()
	log := a.log.InfoContext
	switch fail.code {
	case "server_error":
		log = a.log.ErrorContext
	case "temporarily_unavailable": // the IdP's trouble, not the user's
		log = a.log.WarnContext
	}
	args := []any{"tenant", f.TenantID, "code", fail.code, "reason", fail.reason}
	if fail.detail != "" {
		args = append(args, "idp_error_description", fail.detail)
	}
	log(ctx, "pbxauth: Microsoft sign-in refused", args...)
	a.emit(ctx, Event{Kind: EventMicrosoftSignInBad, UserID: fail.user.ID, TenantID: f.TenantID, Username: fail.account,
		ClientIP: a.clientIP(r), Method: methodMicrosoft, Reason: fail.reason.Error()})
}

// pbxRefused lists the OAuth error codes with which an IdP refuses the PBX
// itself rather than the user: its credentials or its registration are
// wrong (an expired secret is invalid_client). They land as server_error,
// logged at ERROR, so that an operator notices; access_denied is kept for
// refusing the user.
var pbxRefused = map[string]bool{
	"invalid_client":            true,
	"unauthorized_client":       true,
	"unsupported_grant_type":    true,
	"unsupported_response_type": true,
	"invalid_scope":             true,
}

// idpRefusal is the failure of an IdP's OAuth error code; other is the
// code the browser gets when the IdP did not refuse the PBX itself.
func idpRefusal(code, other string, reason error) *msFailure {
	if pbxRefused[code] {
		return &msFailure{code: "server_error", reason: fmt.Errorf("the identity provider refused this server's credentials or registration: %w", reason)}
	}
	return &msFailure{code: other, reason: reason}
}

// microsoftAccount ends the protocol part of a sign-in: it reads the IdP's
// answer (its iss parameter: msresponse.go), redeems the code with the PKCE
// verifier, verifies the ID token (signature, iss, aud, exp by go-oidc; the
// nonce here; sub and azp in msidtoken.go) and maps the account to a
// tenant user.
func (a *Auth) microsoftAccount(r *http.Request, f store.Flow, st oidcState) (store.User, *msFailure) {
	ctx := r.Context()
	q := r.URL.Query()
	if code := q.Get("error"); code != "" {
		return store.User{}, idpRefusal(code, oauthErrorCode(code), fmt.Errorf("identity provider answered %q", code))
	}
	code := q.Get("code")
	if code == "" {
		return store.User{}, &msFailure{code: "invalid_request", reason: errors.New("no code")}
	}
	t, err := a.store().Tenant(ctx, f.TenantID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !msConfigured(t.MS365)) {
		return store.User{}, denied("tenant gone or Microsoft settings removed")
	}
	if err != nil {
		return store.User{}, serverError(store.User{}, "read tenant", err)
	}
	tries, err := a.tokenCredentials(ctx, t)
	if err != nil {
		return store.User{}, serverError(store.User{}, "open the tenant's Microsoft credential", err)
	}
	p, err := a.provider(ctx, t.MS365)
	if err != nil {
		return store.User{}, &msFailure{code: "temporarily_unavailable", reason: err}
	}
	if fail := checkResponseIssuer(q, p, t.MS365); fail != nil {
		return store.User{}, fail
	}
	hctx := oidc.ClientContext(ctx, a.idpClient(nil))
	tok, fail := a.redeemCode(hctx, p, t.ID, tries, code, st.Verifier)
	if fail != nil {
		return store.User{}, fail
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return store.User{}, denied("no id_token in the token answer")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: t.MS365.ApplicationID, Now: a.now}).Verify(ctx, raw)
	if err != nil {
		if trouble := p.keys.trouble(); trouble != "" {
			return store.User{}, idpUnavailable("signing keys", trouble)
		}
		return store.User{}, denied("ID token: %v", err)
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return store.User{}, denied("ID token nonce differs")
	}
	var c msClaims
	if err := idt.Claims(&c); err != nil {
		return store.User{}, denied("ID token claims: %v", err)
	}
	if fail := checkIDToken(idt, c, t.MS365.ApplicationID); fail != nil {
		return store.User{}, fail
	}
	acct, fail := c.account(idt.Issuer, idt.Subject, t.MS365.DirectoryID)
	if fail != nil {
		return store.User{}, fail
	}
	if acct.email == "" {
		if fail := a.userInfoEmail(hctx, p, tok, idt.Subject, &acct); fail != nil {
			return store.User{}, fail
		}
	}
	return a.mapMicrosoftAccount(ctx, t, acct)
}

// redeemCode exchanges the code at the token endpoint with the first of
// tries; when the endpoint refuses it as invalid_client (Entra does not
// know a new certificate yet), once more with the next, the credential
// known to work. The code is not spent by a refused client. A current
// credential that passes is confirmed.
func (a *Auth) redeemCode(ctx context.Context, p *msProvider, tenantID string, tries []tokenCredential, code, verifier string) (*oauth2.Token, *msFailure) {
	for i, c := range tries {
		opts, err := a.clientAuthOptions(p, c.ms)
		if err != nil {
			return nil, serverError(store.User{}, "tenant's Microsoft client certificate", err)
		}
		tok, err := a.oauthConfig(p, c.ms).Exchange(ctx, code, append(opts, oauth2.VerifierOption(verifier))...)
		if err == nil {
			if c.confirm > 0 {
				a.confirmCredential(ctx, tenantID, c.confirm)
			}
			return tok, nil
		}
		var re *oauth2.RetrieveError
		if i+1 < len(tries) && errors.As(err, &re) && re.ErrorCode == "invalid_client" {
			a.log.WarnContext(ctx, "pbxauth: the token endpoint refused the tenant's new Microsoft certificate (not uploaded yet?); the credential known to work is used",
				"tenant", tenantID)
			continue
		}
		return nil, tokenFailure(c.ms, err)
	}
	return nil, serverError(store.User{}, "token call", errors.New("no credential to try"))
}

// userInfoEmail reads the account's email from the UserInfo endpoint, for
// providers that keep it out of the ID token (OIDC Core §5.4). UserInfo
// must speak of the ID token's subject (§5.3.2), and its own
// email_verified decides whether the email is verified. A provider without
// a UserInfo endpoint leaves the account without email.
func (a *Auth) userInfoEmail(ctx context.Context, p *msProvider, tok *oauth2.Token, sub string, acct *msAccount) *msFailure {
	if p.UserInfoEndpoint() == "" {
		return nil
	}
	ui, err := p.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return idpUnavailable("UserInfo", callTrouble(err))
	}
	var c userInfoClaims
	if err := ui.Claims(&c); err != nil {
		return denied("UserInfo claims: %v", err)
	}
	if c.Subject != sub {
		return denied("UserInfo speaks of another subject than the ID token")
	}
	acct.email = c.Email
	acct.emailVerified = c.Email != "" && bytes.Equal(c.EmailVerified, jsonTrue)
	return nil
}

// oauthErrorCode passes an IdP's error code on when it looks like one
// (RFC 6749 §4.1.2.1 codes are short lowercase words), else access_denied.
func oauthErrorCode(s string) string {
	if len(s) > 64 {
		return "access_denied"
	}
	for i := 0; i < len(s); i++ {
		if (s[i] < 'a' || s[i] > 'z') && s[i] != '_' {
			return "access_denied"
		}
	}
	return s
}

// microsoftToken serves POST /auth/sign_in/microsoft/token: the flow token
// from callback_url?token= for the token pair of a sign-in that did not
// prove a password.
func (a *Auth) microsoftToken(w http.ResponseWriter, r *http.Request) *apiError {
	var req exchangeRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("token", req.Token); e != nil {
		return e
	}
	if req.CodeVerifier != "" && !pkce.ValidVerifier(req.CodeVerifier) {
		return errBadVerifier
	}
	ctx := r.Context()
	f, err := a.store().ConsumeFlow(ctx, store.HashToken(req.Token), store.FlowMicrosoft, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return errInvalidToken
	}
	if err != nil {
		return a.internal(ctx, "consume exchange token", err)
	}
	var xf exchangeFlow
	if f.Data != "" {
		if err := json.Unmarshal([]byte(f.Data), &xf); err != nil {
			return a.internal(ctx, "decode exchange flow", err)
		}
	}
	if why := a.exchangeUnbound(xf, req.CodeVerifier); why != "" {
		// The flow is spent: a leaked token is not worth a second guess.
		a.log.InfoContext(ctx, "pbxauth: Microsoft exchange refused", "tenant", f.TenantID, "reason", why)
		a.emit(ctx, Event{Kind: EventMicrosoftSignInBad, UserID: f.UserID, TenantID: f.TenantID, ClientIP: a.clientIP(r), Method: methodMicrosoft, Reason: why})
		return errInvalidToken
	}
	u, err := a.store().User(ctx, f.UserID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (u.Disabled || u.TenantID != f.TenantID)) {
		return errInvalidToken
	}
	if err != nil {
		return a.internal(ctx, "read user", err)
	}
	if e := a.completeSignIn(w, r, signIn{user: u, epoch: f.Epoch, method: methodMicrosoft}, ""); e != nil {
		return e
	}
	a.emit(ctx, Event{Kind: EventMicrosoftSignIn, UserID: u.ID, TenantID: u.TenantID, Username: u.Username, ClientIP: a.clientIP(r), Method: methodMicrosoft})
	return nil
}

// exchangeRequest is the body of POST /auth/sign_in/microsoft/token.
type exchangeRequest struct {
	Token        string `json:"token"`
	CodeVerifier string `json:"code_verifier"`
}

// exchangeUnbound says why the verifier does not bind the exchange to the
// flow, or "" when it does: a flow started with a challenge needs its
// verifier; a verifier sent for a flow started without one means the
// client trades a flow it did not start (someone else's link), which must
// not sign it in; and with Config.RequireExchangeChallenge every exchange
// needs one.
func (a *Auth) exchangeUnbound(f exchangeFlow, verifier string) string {
	switch {
	case f.Challenge != "" && verifier == "":
		return "code_verifier missing for a flow started with a code_challenge"
	case f.Challenge != "" && !pkce.Matches(f.Challenge, verifier):
		return "code_verifier does not match the code_challenge"
	case f.Challenge == "" && verifier != "":
		return "code_verifier sent for a flow started without a code_challenge"
	case f.Challenge == "" && a.cfg.RequireExchangeChallenge:
		return "flow started without a code_challenge, which is required"
	}
	return ""
}

// redirectNoStore answers 302 to location. The location may carry a flow
// token or an error, so it is never cached, and the IdP's page is not
// named to the next site.
func redirectNoStore(w http.ResponseWriter, location string) {
	h := w.Header()
	h.Set("Location", location)
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(http.StatusFound)
}

// stateCookieName binds a cookie-mode state to the browser that started it:
// the state keeps the hash of its random value (msstate.go). Like the
// session cookie, it is Secure unless Config.InsecureCookies, and then
// carries the "__Host-" prefix so that no sibling subdomain can plant it.
const stateCookieName = "pbxauth_ms"

// stateCookie is the binding cookie; maxAge < 0 deletes it.
func (a *Auth) stateCookie(value string, maxAge int) *http.Cookie {
	c := &http.Cookie{Name: stateCookieName, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: !a.cfg.InsecureCookies}
	if c.Secure {
		c.Name = "__Host-" + stateCookieName
	}
	return c
}
