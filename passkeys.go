// This file serves a user's own passkeys: POST /auth/passkeys/options and
// POST /auth/passkeys register one (a recent sign-in, the state sealed in
// the flow token, stored only while the user's sign-in epoch and the
// bearer's sign-in hold), GET /auth/passkeys lists them, PATCH renames and
// DELETE removes one; and [Auth.ResetPasskeys] for hosts. Every addition
// and removal is mailed to the user.

package pbxauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pbxauth/pbxauth/store"
)

// maxPasskeyName is the longest passkey name, in characters.
const maxPasskeyName = 64

var (
	errPasskeyTaken = invalidArgument("credential is registered already")
	errPasskeyLimit = invalidArgument("too many passkeys: remove one first")
	errBadPasskey   = invalidArgument("credential is not a valid passkey for this server")
)

// passkeyOptions is the answer of the options routes: the flow token (for
// the sign-in and registration routes) and the options a browser passes
// to PublicKeyCredential.parseCreationOptionsFromJSON or
// parseRequestOptionsFromJSON.
type passkeyOptions struct {
	Token     string `json:"token,omitempty"`
	PublicKey any    `json:"publicKey"`
}

// passkeyJSON is a passkey as the API shows it.
type passkeyJSON struct {
	ID            string  `json:"id"`
	Name          string  `json:"name"`
	CreatedAt     string  `json:"created_at"`
	LastUsedAt    *string `json:"last_used_at"`
	BackedUp      bool    `json:"backed_up"`
	Authenticator string  `json:"authenticator"`
	Disabled      bool    `json:"disabled"`
	// CredentialID lets a page tell the browser which passkeys still
	// count (the Signal API); it is no secret, the browser holds it.
	CredentialID string `json:"credential_id"`
}

func passkeyView(p store.Passkey) passkeyJSON {
	v := passkeyJSON{ID: p.ID, Name: p.Name, CreatedAt: p.CreatedAt.UTC().Format(time.RFC3339), BackedUp: p.BackupState,
		Authenticator: authenticatorName(p.AAGUID), Disabled: p.Disabled,
		CredentialID: base64.RawURLEncoding.EncodeToString(p.CredentialID)}
	if !p.LastUsedAt.IsZero() {
		s := p.LastUsedAt.UTC().Format(time.RFC3339)
		v.LastUsedAt = &s
	}
	return v
}

// startPasskeyRegistration serves POST /auth/passkeys/options.
func (a *Auth) startPasskeyRegistration(w http.ResponseWriter, r *http.Request) *apiError {
	p, e := a.recentCaller(w, r)
	if e != nil {
		return e
	}
	c, e := a.factorCaller(w, r, p)
	if e != nil {
		return e
	}
	ctx := r.Context()
	u, err := a.store().User(ctx, p.UserID)
	if err != nil {
		return a.internal(ctx, "read user", err)
	}
	handle, err := a.userHandle(ctx, p.UserID)
	if err != nil {
		return a.internal(ctx, "read WebAuthn handle", err)
	}
	ps, err := a.passkeys.store.Passkeys(ctx, p.UserID)
	if err != nil {
		return a.internal(ctx, "read passkeys", err)
	}
	if len(ps) >= a.cfg.Limits.PasskeysPerUser {
		return errPasskeyLimit
	}
	creation, sess, err := a.passkeys.rp.BeginRegistration(&webauthnUser{handle: handle, name: a.webauthnName(ctx, u)},
		webauthn.WithExclusions(descriptors(ps)), webauthn.WithCredentialParameters(passkeyAlgorithms),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return a.internal(ctx, "begin passkey registration", err)
	}
	creation.Response.Timeout = int(passkeyTTL / time.Millisecond)
	tok, e := a.sealPasskeyState(ctx, purposePasskeyRegister, passkeyState{
		Challenge: sess.Challenge, UserID: p.UserID, FamilyID: p.FamilyID, Epoch: c.epoch, Handle: handle})
	if e != nil {
		return e
	}
	writeSecret(w, passkeyOptions{Token: tok, PublicKey: creation.Response})
	return nil
}

// registerRequest is the body of POST /auth/passkeys.
type registerRequest struct {
	Token      string          `json:"token"`
	Credential json.RawMessage `json:"credential"`
	Name       *string         `json:"name"`
}

// registerPasskey serves POST /auth/passkeys: the state must be the
// caller's own sign-in's, spent once; the credential is checked by
// go-webauthn and stored under the state's epoch.
func (a *Auth) registerPasskey(w http.ResponseWriter, r *http.Request) *apiError {
	var req registerRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("token", req.Token); e != nil {
		return e
	}
	name := ""
	if req.Name != nil {
		var e *apiError
		if name, e = cleanPasskeyName(*req.Name); e != nil {
			return e
		}
	}
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	// Only the sign-in that began it may finish it.
	st, e := a.takePasskeyState(ctx, purposePasskeyRegister, req.Token, func(st passkeyState) bool {
		return st.FamilyID == p.FamilyID && st.UserID == p.UserID
	})
	if e != nil {
		return e
	}
	if st == nil {
		return errPasskeyState
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(req.Credential)
	if err != nil {
		return errBadPasskey
	}
	sess := webauthn.SessionData{Challenge: st.Challenge, RelyingPartyID: a.passkeys.rp.Config.RPID, UserID: st.Handle,
		UserVerification: protocol.VerificationRequired, CredParams: passkeyAlgorithms}
	cred, err := a.passkeys.rp.CreateCredential(&webauthnUser{handle: st.Handle}, sess, parsed)
	if err != nil {
		return errBadPasskey
	}
	now := a.now()
	if name == "" {
		name = authenticatorName(cred.Authenticator.AAGUID)
	}
	transports := make([]string, 0, len(cred.Transport))
	for _, t := range cred.Transport {
		transports = append(transports, string(t))
	}
	pk := store.Passkey{ID: newID(), UserID: p.UserID, CredentialID: cred.ID, PublicKey: cred.PublicKey,
		Algorithm: algorithmOf(cred.PublicKey), SignCount: cred.Authenticator.SignCount,
		BackupEligible: cred.Flags.BackupEligible, BackupState: cred.Flags.BackupState,
		Transports: transports, AAGUID: cred.Authenticator.AAGUID, Name: name, CreatedAt: now}
	err = a.passkeys.store.AddPasskey(ctx, pk, st.Epoch, st.FamilyID, a.cfg.Limits.PasskeysPerUser, now)
	switch {
	case errors.Is(err, store.ErrConflict):
		return errPasskeyTaken
	case errors.Is(err, store.ErrLimit):
		return errPasskeyLimit
	case err != nil:
		return a.factorFailed(w, r, factorCaller{Principal: p, epoch: st.Epoch}, "store passkey", err)
	}
	a.passkeyChanged(r, p, EventPasskeyAdded, pk, "The passkey "+quoteName(pk.Name)+" was added")
	writeJSON(w, http.StatusCreated, passkeyView(pk))
	return nil
}

// cleanPasskeyName removes control characters and checks the length.
func cleanPasskeyName(name string) (string, *apiError) {
	if !utf8.ValidString(name) {
		return "", invalidArgument("name must be UTF-8")
	}
	name = strings.TrimSpace(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name))
	if n := utf8.RuneCountInString(name); n == 0 || n > maxPasskeyName {
		return "", invalidArgument("name must be 1-64 characters")
	}
	return name, nil
}

// passkeyList is the answer of GET /auth/passkeys.
type passkeyList struct {
	UserHandle string        `json:"user_handle"`
	Passkeys   []passkeyJSON `json:"passkeys"`
}

// listPasskeys serves GET /auth/passkeys.
func (a *Auth) listPasskeys(w http.ResponseWriter, r *http.Request) *apiError {
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	handle, err := a.userHandle(ctx, p.UserID)
	if err != nil {
		return a.internal(ctx, "read WebAuthn handle", err)
	}
	ps, err := a.passkeys.store.Passkeys(ctx, p.UserID)
	if err != nil {
		return a.internal(ctx, "read passkeys", err)
	}
	out := passkeyList{UserHandle: base64.RawURLEncoding.EncodeToString(handle), Passkeys: make([]passkeyJSON, 0, len(ps))}
	for _, pk := range ps {
		out.Passkeys = append(out.Passkeys, passkeyView(pk))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// passkeyRenameRequest is the body of PATCH /auth/passkeys/{id}.
type passkeyRenameRequest struct {
	Name *string `json:"name"`
}

// renamePasskey serves PATCH /auth/passkeys/{id}.
func (a *Auth) renamePasskey(w http.ResponseWriter, r *http.Request) *apiError {
	var req passkeyRenameRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if req.Name == nil {
		return invalidArgument("name is required")
	}
	name, e := cleanPasskeyName(*req.Name)
	if e != nil {
		return e
	}
	ctx := r.Context()
	p, _ := PrincipalFrom(ctx)
	pk, err := a.passkeys.store.RenamePasskey(ctx, p.UserID, r.PathValue("id"), name)
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return a.internal(ctx, "rename passkey", err)
	}
	writeJSON(w, http.StatusOK, passkeyView(pk))
	return nil
}

// deletePasskey serves DELETE /auth/passkeys/{id}: the passkey goes, with
// every sign-in made with it.
func (a *Auth) deletePasskey(w http.ResponseWriter, r *http.Request) *apiError {
	p, e := a.recentCaller(w, r)
	if e != nil {
		return e
	}
	ctx, id := r.Context(), r.PathValue("id")
	ps, err := a.passkeys.store.Passkeys(ctx, p.UserID)
	if err != nil {
		return a.internal(ctx, "read passkeys", err)
	}
	var pk store.Passkey
	for _, x := range ps {
		if x.ID == id {
			pk = x
		}
	}
	if pk.ID == "" {
		return errNotFound
	}
	ended, err := a.passkeys.store.DeletePasskey(ctx, p.UserID, id, a.now())
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	}
	if err != nil {
		return a.internal(ctx, "delete passkey", err)
	}
	for _, f := range ended {
		a.emit(ctx, Event{Kind: EventSessionRevoked, UserID: p.UserID, TenantID: p.TenantID, SessionID: f, ClientIP: a.clientIP(r), PasskeyID: id})
	}
	a.passkeyChanged(r, p, EventPasskeyRemoved, pk, "The passkey "+quoteName(pk.Name)+" was removed")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// passkeyChanged reports an added or removed passkey: the event, and a
// notice mailed to the user.
func (a *Auth) passkeyChanged(r *http.Request, p *Principal, kind EventKind, pk store.Passkey, change string) {
	ctx := r.Context()
	a.emit(ctx, Event{Kind: kind, UserID: p.UserID, TenantID: p.TenantID, Username: p.Username, ClientIP: a.clientIP(r), Method: p.Method, PasskeyID: pk.ID})
	a.mailNotice(ctx, p.UserID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = change })
}

// ResetPasskeys deletes every passkey of the user and ends all their
// sign-ins (each reported as EventSessionRevoked), advancing the sign-in
// epoch so that none in flight survives; then EventPasskeyRemoved.
// ErrNotFound for an unknown user; an error when passkeys are off.
func (a *Auth) ResetPasskeys(ctx context.Context, userID string) error {
	ps, ok := a.cfg.Store.(store.PasskeyStore)
	if !ok {
		return errors.New("pbxauth: the Store keeps no passkeys")
	}
	u, err := a.store().User(ctx, userID)
	if err != nil {
		return err
	}
	ended, err := ps.ResetPasskeys(ctx, u.ID, a.now())
	if err != nil {
		return err
	}
	for _, f := range ended {
		a.emit(ctx, Event{Kind: EventSessionRevoked, UserID: u.ID, TenantID: u.TenantID, SessionID: f})
	}
	a.emit(ctx, Event{Kind: EventPasskeyRemoved, UserID: u.ID, TenantID: u.TenantID, Username: u.Username})
	a.mailNotice(ctx, u.ID, a.cfg.Mail.AccountChanged, func(m *MailData) { m.Change = "Every passkey was removed by an administrator" })
	return nil
}
