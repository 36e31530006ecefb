// This file keeps the OAuth state of a Microsoft sign-in between its start
// and its callback. With Config.EncryptionKeys the state travels sealed in
// the state parameter (internal/sealedstate) and the start stores nothing;
// the callback opens it and records its single use with the Store's
// UseOnce. Without keys the state is a flow in the Store, as before, and
// flowlimit.go bounds how many there are. The cookie flow also binds the
// state to the browser that started it, by the hash of a random cookie.

package pbxauth

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/internal/sealedstate"
	"github.com/pbxauth/pbxauth/store"
)

// purposeMicrosoftState is the purpose of a Microsoft sign-in's sealed
// state and of the record of its use.
const purposeMicrosoftState = string(store.FlowOIDCState)

// maxSealedState is the longest sealed state a start hands out: Entra ID
// refuses long query strings.
const maxSealedState = 1500

// storedStateLen is the length of a stored state (newToken). A sealed
// state is always longer, so a callback can tell them apart while keys are
// being introduced.
const storedStateLen = 43

var errSealedTooLong = invalidArgument("callback_url is too long for a Microsoft sign-in: the sign-in's state would exceed 1,500 characters")

// initStates makes the sealing keys of Microsoft states and the in-memory
// count of the starts that store nothing, or warns that without keys
// every start is stored.
func (a *Auth) initStates() error {
	if len(a.cfg.EncryptionKeys) == 0 {
		a.log.Warn("pbxauth: without Config.EncryptionKeys every Microsoft sign-in start is stored until it returns or expires: Limits.PendingStates bounds them and each client network may hold 1% of it, but enough networks together can still fill it and make Microsoft sign-in unavailable; set EncryptionKeys so that starts store nothing")
		return nil
	}
	keys, err := sealedstate.New(a.cfg.EncryptionKeys)
	if err != nil {
		return fmt.Errorf("pbxauth: Config.EncryptionKeys: %w", err)
	}
	l := a.cfg.Limits
	a.states, a.starts = keys, newStartCounter(l.FlowStarts, l.FlowStartWindow)
	return nil
}

// stateAD binds a sealed state to this deployment: a state made by a
// staging server that shares the keys does not open in production.
func (a *Auth) stateAD() []byte {
	return []byte(a.cfg.PublicURL + "\x00" + a.cfg.MicrosoftRedirectURL)
}

// newStateCookie returns the value of a cookie-flow's state cookie and
// the hash the state keeps of it.
func newStateCookie() (value, hash string) {
	value = newToken()
	sum := sha256.Sum256([]byte(value))
	return value, base64.RawURLEncoding.EncodeToString(sum[:])
}

// stateCookieMatches reports whether the browser at the callback holds the
// cookie of the cookie-flow state st.
func (a *Auth) stateCookieMatches(r *http.Request, st oidcState) bool {
	c, err := r.Cookie(a.stateCookie("", 0).Name)
	if err != nil || st.Cookie == "" || len(c.Value) > maxTokenBytes {
		return false
	}
	sum := sha256.Sum256([]byte(c.Value))
	want, err := base64.RawURLEncoding.DecodeString(st.Cookie)
	return err == nil && subtle.ConstantTimeCompare(sum[:], want) == 1
}

// errStateCookie: a cookie-flow callback from a browser that did not start
// the sign-in. A callback link made by someone else must not sign this
// browser in to their account (RFC 6749 §10.12); nor is the state spent,
// so the browser that did start it can still finish.
var errStateCookie = invalidArgument("this browser did not start the sign-in of this state")

// saveState keeps st, the state of a new sign-in at tenantID, and returns
// the text of the state parameter with st's PKCE verifier and nonce set.
func (a *Auth) saveState(r *http.Request, tenantID string, st oidcState) (string, oidcState, *apiError) {
	ctx := r.Context()
	if a.states == nil {
		return a.storeState(r, tenantID, st)
	}
	st.Tenant = tenantID
	var data bytes.Buffer
	enc := json.NewEncoder(&data)
	enc.SetEscapeHTML(false) // a callback_url's & would take six bytes each
	if err := enc.Encode(st); err != nil {
		return "", st, a.internal(ctx, "encode OAuth state", err)
	}
	text, s, err := a.states.Seal(purposeMicrosoftState, a.now().Add(a.cfg.FlowTTL), data.Bytes(), a.stateAD())
	if err != nil {
		return "", st, a.internal(ctx, "seal OAuth state", err)
	}
	if len(text) > maxSealedState {
		return "", st, errSealedTooLong
	}
	derive(s, &st)
	return text, st, nil
}

// derive sets the PKCE verifier and the nonce of a sealed state: derived
// from its key and ID, never carried.
func derive(s sealedstate.State, st *oidcState) {
	st.Verifier = base64.RawURLEncoding.EncodeToString(s.Derive("pkce verifier", 32))
	st.Nonce = base64.RawURLEncoding.EncodeToString(s.Derive("oidc nonce", 32))
}

// storeState stores st as a flow, within Limits.PendingStates and its
// network's share of it.
func (a *Auth) storeState(r *http.Request, tenantID string, st oidcState) (string, oidcState, *apiError) {
	ctx := r.Context()
	st.Verifier = oauth2.GenerateVerifier()
	st.Nonce = newToken()
	st.Network = a.networkKey(r)
	data, err := json.Marshal(st)
	if err != nil {
		return "", st, a.internal(ctx, "encode OAuth state", err)
	}
	if e := a.reserveState(ctx, st.Network); e != nil {
		return "", st, e
	}
	state, err := a.newFlow(ctx, store.Flow{Purpose: store.FlowOIDCState, TenantID: tenantID, Data: string(data)})
	if err != nil {
		a.releaseStateAt(ctx, a.now(), st.Network)
		return "", st, a.internal(ctx, "store OAuth state", err)
	}
	return state, st, nil
}

// takeState reads the state of a callback, checks that the browser started
// it (cookie flow), and spends it: of several callbacks with one state one
// gets past here. The Flow it returns names the tenant (a sealed state has
// none stored).
func (a *Auth) takeState(r *http.Request) (store.Flow, oidcState, *apiError) {
	ctx := r.Context()
	state := r.URL.Query().Get("state")
	switch {
	case state == "" || len(state) > maxSealedState:
		return store.Flow{}, oidcState{}, errUnknownState
	case a.states == nil || len(state) == storedStateLen:
		return a.takeStoredState(ctx, r, state)
	}
	s, err := a.states.Open(purposeMicrosoftState, state, a.stateAD(), a.now())
	if err != nil { // unknown, changed, another deployment's, its key gone, or expired
		return store.Flow{}, oidcState{}, errUnknownState
	}
	var st oidcState
	if err := json.Unmarshal(s.Data, &st); err != nil {
		return store.Flow{}, oidcState{}, a.internal(ctx, "decode OAuth state", err)
	}
	derive(s, &st)
	if st.Mode == modeCookie && !a.stateCookieMatches(r, st) {
		return store.Flow{}, oidcState{}, errStateCookie
	}
	// Before any other effect: a state sent twice at once reaches the IdP
	// once.
	err = a.store().UseOnce(ctx, purposeMicrosoftState, s.ID, s.ExpiresAt)
	if errors.Is(err, store.ErrConflict) {
		return store.Flow{}, oidcState{}, errUnknownState
	}
	if err != nil {
		return store.Flow{}, oidcState{}, a.internal(ctx, "record the use of an OAuth state", err)
	}
	return store.Flow{Purpose: store.FlowOIDCState, TenantID: st.Tenant, ExpiresAt: s.ExpiresAt}, st, nil
}

// takeStoredState reads a stored state, checks its cookie, and consumes it.
func (a *Auth) takeStoredState(ctx context.Context, r *http.Request, state string) (store.Flow, oidcState, *apiError) {
	h := store.HashToken(state)
	f, err := a.store().Flow(ctx, h, a.now())
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Purpose != store.FlowOIDCState) {
		return store.Flow{}, oidcState{}, errUnknownState
	}
	if err != nil {
		return store.Flow{}, oidcState{}, a.internal(ctx, "read OAuth state", err)
	}
	var st oidcState
	if err := json.Unmarshal([]byte(f.Data), &st); err != nil {
		return store.Flow{}, oidcState{}, a.internal(ctx, "decode OAuth state", err)
	}
	if st.Mode == modeCookie && !a.stateCookieMatches(r, st) {
		return store.Flow{}, oidcState{}, errStateCookie
	}
	f, err = a.store().ConsumeFlow(ctx, h, store.FlowOIDCState, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return store.Flow{}, oidcState{}, errUnknownState
	}
	if err != nil {
		return store.Flow{}, oidcState{}, a.internal(ctx, "consume OAuth state", err)
	}
	a.releaseState(ctx, f, st.Network)
	return f, st, nil
}
