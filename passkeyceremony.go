// This file holds what every passkey ceremony shares: the state sealed in
// its flow token (internal/sealedstate) and spent once through the Store's
// UseOnce, the user as go-webauthn sees it, and the check of an assertion
// with pbxauth's own counter and backup-flag policy on top of go-webauthn's
// (DESIGN.md "Passkeys (WebAuthn)").

package pbxauth

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/protocol/webauthncose"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pbxauth/pbxauth/store"
)

// methodPasskey is the Method of a sign-in made with a passkey.
const methodPasskey = "passkey"

// Purposes of sealed passkey states, and of the records of their use.
const (
	purposePasskeyRegister = "passkey_register"
	purposePasskeySignIn   = "passkey_sign_in"
)

// passkeyTTL is the life of every passkey ceremony.
const passkeyTTL = 5 * time.Minute

// handleSize is the size of a user's WebAuthn handle.
const handleSize = 64

// passkeyAlgorithms are the algorithms a passkey may use: ES256, EdDSA and
// RS256, the WebAuthn L3 recommendation.
var passkeyAlgorithms = webauthn.CredentialParametersRecommendedL3()

var (
	errNoPasskeys = &apiError{status: http.StatusNotFound, code: CodeNotFound, message: "passkeys are not enabled on this server"}
	// errPasskeyState: a registration state that does not open, expired,
	// was used, or belongs to another sign-in.
	errPasskeyState = invalidArgument("token is unknown, expired or used: start again with POST /auth/passkeys/options")
	// errUnknownCredential is the one 401 with a reason: no user in any
	// tenant holds the credential, so a page may tell the browser to
	// forget it.
	errUnknownCredential = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized, reason: reasonUnknownCredential, message: "invalid credentials"}
	// errPasskeySuspicious: the passkey proved itself but looks cloned or
	// changed; the user was mailed what to do.
	errPasskeySuspicious = &apiError{status: http.StatusUnauthorized, code: CodeUnauthorized,
		message: "this passkey can no longer be used: remove it and register it again"}
)

// reasonUnknownCredential is the error reason of a credential nobody holds.
const reasonUnknownCredential = "unknown_credential"

// passkeyRoute is h behind the check every passkey route makes first:
// 404 while passkeys are off.
func (a *Auth) passkeyRoute(h apiHandler) apiHandler {
	return func(w http.ResponseWriter, r *http.Request) *apiError {
		if a.passkeys == nil {
			return errNoPasskeys
		}
		return h(w, r)
	}
}

// passkeyState is what a sealed passkey ceremony carries: its challenge
// and, for a registration, the user, the bearer's sign-in, the user's
// epoch and WebAuthn handle; for a sign-in, the tenant it is limited to.
type passkeyState struct {
	Challenge string `json:"c"`
	UserID    string `json:"u,omitempty"`
	FamilyID  string `json:"f,omitempty"`
	Epoch     int64  `json:"e,omitempty"`
	Handle    []byte `json:"h,omitempty"`
	TenantID  string `json:"t,omitempty"`
	Domain    bool   `json:"d,omitempty"` // a domain was given: TenantID limits the sign-in
	NoTenant  bool   `json:"n,omitempty"` // the domain given is no tenant's: nobody signs in
}

// passkeyAD binds sealed passkey states to this deployment and RP ID.
func (a *Auth) passkeyAD() []byte {
	return append(a.stateAD(), "\x00"+a.passkeys.rp.Config.RPID...)
}

// sealPasskeyState seals st for purpose, living passkeyTTL.
func (a *Auth) sealPasskeyState(ctx context.Context, purpose string, st passkeyState) (string, *apiError) {
	data, err := json.Marshal(st)
	if err != nil {
		return "", a.internal(ctx, "encode passkey state", err)
	}
	text, _, err := a.states.Seal(purpose, a.now().Add(passkeyTTL), data, a.passkeyAD())
	if err != nil {
		return "", a.internal(ctx, "seal passkey state", err)
	}
	return text, nil
}

// takePasskeyState opens a sealed state of purpose and, when accept (if
// not nil) takes it, spends it before any other effect; unknown (nil,
// nil) for one that does not open, expired, was used or is not accepted
// (which is not spent: the registration of another sign-in).
func (a *Auth) takePasskeyState(ctx context.Context, purpose, text string, accept func(passkeyState) bool) (*passkeyState, *apiError) {
	s, err := a.states.Open(purpose, text, a.passkeyAD(), a.now())
	if err != nil { // unknown, changed, another deployment's, its key gone, or expired
		return nil, nil
	}
	var st passkeyState
	if err := json.Unmarshal(s.Data, &st); err != nil {
		return nil, a.internal(ctx, "decode passkey state", err)
	}
	if accept != nil && !accept(st) {
		return nil, nil
	}
	err = a.store().UseOnce(ctx, purpose, s.ID, s.ExpiresAt)
	if errors.Is(err, store.ErrConflict) {
		return nil, nil
	}
	if err != nil {
		return nil, a.internal(ctx, "record the use of a passkey state", err)
	}
	return &st, nil
}

// webauthnUser is a user as go-webauthn sees them.
type webauthnUser struct {
	handle []byte
	name   string
	creds  []webauthn.Credential
}

func (u *webauthnUser) WebAuthnID() []byte                         { return u.handle }
func (u *webauthnUser) WebAuthnName() string                       { return u.name }
func (u *webauthnUser) WebAuthnDisplayName() string                { return u.name }
func (u *webauthnUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// webauthnName is the WebAuthn user.name: username@domain, the bare
// username for system users, so that a person with accounts in two
// tenants can tell them apart.
func (a *Auth) webauthnName(ctx context.Context, u store.User) string {
	if d := a.tenantDomain(ctx, u); d != "" {
		return u.Username + "@" + d
	}
	return u.Username
}

// userHandle returns the user's WebAuthn handle, made on first use.
func (a *Auth) userHandle(ctx context.Context, userID string) ([]byte, error) {
	fresh := make([]byte, handleSize)
	rand.Read(fresh)
	return a.passkeys.store.WebAuthnHandle(ctx, userID, fresh)
}

// credentialOf is a stored passkey as go-webauthn's credential.
func credentialOf(p store.Passkey) webauthn.Credential {
	transports := make([]protocol.AuthenticatorTransport, len(p.Transports))
	for i, t := range p.Transports {
		transports[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: p.CredentialID, PublicKey: p.PublicKey, AttestationType: "none", AttestationFormat: "none",
		Transport:     transports,
		Flags:         webauthn.CredentialFlags{BackupEligible: p.BackupEligible, BackupState: p.BackupState, UserPresent: true, UserVerified: true},
		Authenticator: webauthn.Authenticator{AAGUID: p.AAGUID, SignCount: p.SignCount},
	}
}

// descriptors lists passkeys for allowCredentials and excludeCredentials.
func descriptors(ps []store.Passkey) []protocol.CredentialDescriptor {
	out := make([]protocol.CredentialDescriptor, 0, len(ps))
	for _, p := range ps {
		c := credentialOf(p)
		out = append(out, c.Descriptor())
	}
	return out
}

// parseCredential reads the credential of an assertion; nil for one that
// is no AuthenticationResponseJSON.
func parseAssertion(raw json.RawMessage) *protocol.ParsedCredentialAssertionData {
	if len(raw) == 0 {
		return nil
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(raw)
	if err != nil {
		return nil
	}
	return parsed
}

// assertionCheck is an assertion to check against the passkey it names.
type assertionCheck struct {
	passkey store.Passkey
	user    store.User
	handle  []byte
	parsed  *protocol.ParsedCredentialAssertionData
	// challenge is the ceremony's; userBound: a second factor, whose user
	// is known (the user handle, if sent, must be theirs too).
	challenge string
	userBound bool
}

// verifyAssertion checks an assertion with go-webauthn — challenge, type,
// origin, RP ID hash, user presence and verification, signature, user
// handle — and reports whether it holds. The backup-state flag is hidden
// from it and the stored BE set to the one sent, so that pbxauth's own
// policy (checkPasskeyFlags), which needs a verified signature to blame the
// passkey, decides on the flags; the signature covers the flags as sent.
func (a *Auth) verifyAssertion(c assertionCheck) bool {
	flags := c.parsed.Response.AuthenticatorData.Flags
	cred := credentialOf(c.passkey)
	cred.Flags.BackupEligible = flags.HasBackupEligible()
	c.parsed.Response.AuthenticatorData.Flags = flags &^ protocol.FlagBackupState
	defer func() { c.parsed.Response.AuthenticatorData.Flags = flags }()
	user := &webauthnUser{handle: c.handle, creds: []webauthn.Credential{cred}}
	sess := webauthn.SessionData{
		Challenge: c.challenge, RelyingPartyID: a.passkeys.rp.Config.RPID,
		UserVerification: protocol.VerificationRequired,
	}
	var err error
	if c.userBound {
		sess.UserID = c.handle
		_, err = a.passkeys.rp.ValidateLogin(user, sess, c.parsed)
	} else {
		_, err = a.passkeys.rp.ValidateDiscoverableLogin(func(rawID, userHandle []byte) (webauthn.User, error) {
			return user, nil
		}, sess, c.parsed)
	}
	return err == nil
}

// usePasskey applies the counter and backup-flag policy to a verified
// assertion and records its use. A passkey whose BE differs from its
// registration, or that says BS=1 with BE=0, is refused; a count that
// does not advance (while either is non-zero) disables a device-bound
// passkey and is only reported for a synced one. Each refusal is
// reported as EventPasskeySuspicious and mailed.
func (a *Auth) usePasskey(r *http.Request, c assertionCheck) *apiError {
	ctx, now := r.Context(), a.now()
	p, flags := c.passkey, c.parsed.Response.AuthenticatorData.Flags
	ev := Event{Kind: EventPasskeySuspicious, UserID: c.user.ID, TenantID: c.user.TenantID, Username: c.user.Username,
		ClientIP: a.clientIP(r), Method: methodPasskey, PasskeyID: p.ID}
	if flags.HasBackupEligible() != p.BackupEligible || (flags.HasBackupState() && !flags.HasBackupEligible()) {
		ev.Reason = ReasonBackupEligibility
		a.emit(ctx, ev)
		a.mailNotice(ctx, c.user.ID, a.cfg.Mail.AccountChanged, func(m *MailData) {
			m.Change = "The passkey " + quoteName(p.Name) + " answered with different backup settings than when it was registered, so it was refused. Remove it and register it again"
		})
		return errPasskeySuspicious
	}
	count := c.parsed.Response.AuthenticatorData.Counter
	err := a.passkeys.store.UsePasskey(ctx, p.ID, count, flags.HasBackupState(), now)
	if errors.Is(err, store.ErrStale) {
		ev.Reason = ReasonCounter
		if p.BackupEligible {
			// A synced passkey's count is not meaningful: reported only.
			a.emit(ctx, ev)
			err = a.passkeys.store.TouchPasskey(ctx, p.ID, flags.HasBackupState(), now)
		} else {
			if derr := a.passkeys.store.DisablePasskey(ctx, p.ID, ReasonCounter, now); derr != nil && !errors.Is(derr, store.ErrNotFound) {
				return a.internal(ctx, "disable passkey", derr)
			}
			a.emit(ctx, ev)
			a.mailNotice(ctx, c.user.ID, a.cfg.Mail.AccountChanged, func(m *MailData) {
				m.Change = "The passkey " + quoteName(p.Name) + " was used with a signature counter that went back, which a copied key does, so it was disabled. Remove it and register it again"
			})
			return errPasskeySuspicious
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return errUnauthorized // deleted or disabled meanwhile
	}
	if err != nil {
		return a.internal(ctx, "record passkey use", err)
	}
	a.emit(ctx, Event{Kind: EventPasskeyUsed, UserID: c.user.ID, TenantID: c.user.TenantID, Username: c.user.Username,
		ClientIP: a.clientIP(r), Method: methodPasskey, PasskeyID: p.ID})
	return nil
}

// quoteName quotes a passkey's name in a mail.
func quoteName(name string) string { return "“" + name + "”" }

// algorithmOf is the COSE algorithm of a public key, 0 when unknown.
func algorithmOf(publicKey []byte) int {
	k, err := webauthncose.ParsePublicKey(publicKey)
	if err != nil {
		return 0
	}
	switch k := k.(type) {
	case webauthncose.EC2PublicKeyData:
		return int(k.Algorithm)
	case webauthncose.OKPPublicKeyData:
		return int(k.Algorithm)
	case webauthncose.RSAPublicKeyData:
		return int(k.Algorithm)
	}
	return 0
}

// handleOf checks that handle, sent with an assertion, is the WebAuthn
// handle of userID: 401 when it is not (or empty), the Store's failure
// otherwise.
func (a *Auth) handleOf(ctx context.Context, handle []byte, userID string) *apiError {
	if len(handle) == 0 {
		return errUnauthorized
	}
	owner, err := a.passkeys.store.UserByWebAuthnHandle(ctx, handle)
	if errors.Is(err, store.ErrNotFound) || (err == nil && owner != userID) {
		return errUnauthorized
	}
	if err != nil {
		return a.internal(ctx, "read WebAuthn handle", err)
	}
	return nil
}
