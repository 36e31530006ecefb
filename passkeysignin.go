// This file serves the passkey as first factor, without a username: POST
// /auth/sign_in/passkey/options seals a challenge in a flow token and
// stores nothing; POST /auth/sign_in/passkey answers the token pair and
// POST /login/passkey the cookie session, exactly as POST /auth/sign_in and
// POST /login do. The user is the passkey's owner; the epoch is read once
// the credential is resolved.

package pbxauth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pbxauth/pbxauth/store"
)

// passkeyStartRequest is the body of POST /auth/sign_in/passkey/options.
type passkeyStartRequest struct {
	Domain string `json:"domain"`
}

// startPasskeySignIn serves POST /auth/sign_in/passkey/options.
func (a *Auth) startPasskeySignIn(w http.ResponseWriter, r *http.Request) *apiError {
	var req passkeyStartRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if ok, wait := a.passkeyStarts.Allow(a.addressKey(r), a.now()); !ok {
		return tooManyRequests(wait)
	}
	ctx := r.Context()
	st := passkeyState{}
	if req.Domain != "" {
		if e := checkDomain(req.Domain, false); e != nil {
			return e
		}
		// An unknown domain is not told apart: its sign-in fails at the end.
		t, err := a.store().TenantByDomain(ctx, req.Domain)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return a.internal(ctx, "read tenant", err)
		}
		// An unknown domain limits the sign-in to no tenant at all (not
		// to system users, whose TenantID is empty too).
		st.Domain, st.TenantID, st.NoTenant = true, t.ID, t.ID == ""
	}
	assertion, sess, err := a.passkeys.rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return a.internal(ctx, "begin passkey sign-in", err)
	}
	assertion.Response.Timeout = int(passkeyTTL / time.Millisecond)
	st.Challenge = sess.Challenge
	tok, e := a.sealPasskeyState(ctx, purposePasskeySignIn, st)
	if e != nil {
		return e
	}
	writeSecret(w, passkeyOptions{Token: tok, PublicKey: discoverableOptions{PublicKeyCredentialRequestOptions: assertion.Response,
		AllowCredentials: []protocol.CredentialDescriptor{}}})
	return nil
}

// discoverableOptions are the options of a sign-in without a username.
// go-webauthn leaves an empty allowCredentials out; browsers read an
// absent one as empty too, but the API says so explicitly: this field,
// shallower than the embedded one of the same JSON name, replaces it.
type discoverableOptions struct {
	protocol.PublicKeyCredentialRequestOptions
	AllowCredentials []protocol.CredentialDescriptor `json:"allowCredentials"`
}

// assertionRequest is the body of POST /auth/sign_in/passkey, POST
// /login/passkey and POST /auth/verify_passkey.
type assertionRequest struct {
	Token      string          `json:"token"`
	Credential json.RawMessage `json:"credential"`
}

// signInWithPasskey serves POST /auth/sign_in/passkey.
func (a *Auth) signInWithPasskey(w http.ResponseWriter, r *http.Request) *apiError {
	return a.passkeySignIn(w, r, "")
}

// loginWithPasskey serves POST /login/passkey.
func (a *Auth) loginWithPasskey(w http.ResponseWriter, r *http.Request) *apiError {
	return a.passkeySignIn(w, r, flowCookie)
}

// passkeySignIn checks a discoverable assertion and answers as a password
// sign-in would: the token pair (mode ""), the cookie session (flowCookie),
// or, when the tenant does not count a passkey as two factors and the
// user needs a second one, a second-factor flow.
func (a *Auth) passkeySignIn(w http.ResponseWriter, r *http.Request, mode string) *apiError {
	var req assertionRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("token", req.Token); e != nil {
		return e
	}
	ctx := r.Context()
	ev := Event{Kind: EventSignInFailed, ClientIP: a.clientIP(r), Method: methodPasskey}
	fail := func(reason string, e *apiError) *apiError {
		ev.Reason = reason
		a.emit(ctx, ev)
		return e
	}
	st, e := a.takePasskeyState(ctx, purposePasskeySignIn, req.Token, nil)
	if e != nil {
		return e
	}
	if st == nil {
		return fail("unknown_state", errInvalidToken)
	}
	parsed := parseAssertion(req.Credential)
	if parsed == nil {
		return fail("malformed", errUnauthorized)
	}
	pk, err := a.passkeys.store.PasskeyByCredentialID(ctx, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) {
		// Nobody in any tenant holds it: the page may have the browser
		// forget it.
		return fail(reasonUnknownCredential, errUnknownCredential)
	}
	if err != nil {
		return a.internal(ctx, "read passkey", err)
	}
	// The epoch is read with the user, once the credential is resolved.
	u, err := a.store().User(ctx, pk.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return fail("unknown_user", errUnauthorized)
	}
	if err != nil {
		return a.internal(ctx, "read user", err)
	}
	ev.UserID, ev.TenantID, ev.Username, ev.PasskeyID = u.ID, u.TenantID, u.Username, pk.ID
	switch {
	case u.Disabled:
		return fail("disabled", errUnauthorized)
	case st.Domain && (st.NoTenant || u.TenantID != st.TenantID):
		return fail("other_tenant", errUnauthorized)
	case pk.Disabled:
		return fail("passkey_disabled", errUnauthorized)
	}
	// The user handle must be the owner's: a read, so that a sign-in
	// writes nothing before its assertion is checked.
	handle := parsed.Response.UserHandle
	if e := a.handleOf(ctx, handle, u.ID); e != nil {
		if e == errUnauthorized {
			return fail("user_handle", e)
		}
		return e
	}
	c := assertionCheck{passkey: pk, user: u, handle: handle, parsed: parsed, challenge: st.Challenge}
	if !a.verifyAssertion(c) {
		return fail("assertion", errUnauthorized)
	}
	if e := a.usePasskey(r, c); e != nil {
		if e == errPasskeySuspicious || e == errUnauthorized {
			return fail("passkey_refused", e)
		}
		return e
	}
	s := signIn{user: u, epoch: u.Epoch, method: methodPasskey, passkeyID: pk.ID}
	need, err := a.passkeyNeedsSecondFactor(ctx, u)
	if err != nil {
		return a.internal(ctx, "read second-factor settings", err)
	}
	if need {
		data := flowPasskey
		if mode == flowCookie {
			data = flowPasskeyCookie
		}
		tok, err := a.newFlow(ctx, store.Flow{Purpose: store.FlowTwoFactor, UserID: u.ID, TenantID: u.TenantID, Epoch: u.Epoch,
			Data: twoFactorData(data, u.PasswordHash, nil)})
		if err != nil {
			return a.issueFailed(r, s, err)
		}
		a.emit(ctx, Event{Kind: EventSecondFactorRequired, UserID: u.ID, TenantID: u.TenantID, Username: u.Username,
			ClientIP: a.clientIP(r), Method: methodPasskey})
		writeSecret(w, secondFactor{TwoFactorEnabled: true, Token: tok})
		return nil
	}
	if mode == flowCookie {
		return a.loginSession(w, r, s)
	}
	return a.completeSignIn(w, r, s, mode)
}

// Modes of a second-factor flow begun by a passkey, in a tenant that does
// not count a passkey as two factors: it ends as a passkey sign-in, with
// the token pair or the cookie session.
const (
	flowPasskey       = "passkey"
	flowPasskeyCookie = "passkey_cookie"
)

// passkeyNeedsSecondFactor reports whether a passkey sign-in still needs
// another factor: only when the user needs a second factor and the tenant
// does not count a passkey with user verification as two.
func (a *Auth) passkeyNeedsSecondFactor(ctx context.Context, u store.User) (bool, error) {
	if u.TenantID == "" {
		return false, nil // system users: no tenant setting, a passkey is two factors
	}
	t, err := a.store().Tenant(ctx, u.TenantID)
	if err != nil || !t.PasskeyNotTwoFactor {
		return false, err
	}
	return a.needsSecondFactor(ctx, u)
}
