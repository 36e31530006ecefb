// This file serves the passkey as second factor inside PortSIP's
// {two_factor_enabled, token} step: POST /auth/verify_passkey/options keeps
// a challenge with the second-factor flow (at most 5 per flow), POST
// /auth/verify_passkey checks an assertion of one of the user's passkeys
// and answers what verify_otp answers. A failed assertion counts as a
// wrong code.

package pbxauth

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/pbxauth/pbxauth/store"
)

// passkeyChallengesPerFlow is how many challenges one second-factor flow
// may ask for.
const passkeyChallengesPerFlow = 5

var (
	errNoUserPasskeys  = invalidArgument("this account has no passkey: use a code")
	errNoPasskeyAsk    = invalidArgument("no passkey challenge for this token: ask POST /auth/verify_passkey/options first")
	errPasskeyFlowMode = invalidArgument("this sign-in began with a passkey: complete it with a code")
)

// flowPasskeyChallenge returns the passkey challenge kept in a
// second-factor flow's Data and how many were asked for.
func flowPasskeyChallenge(data string) (challenge string, n int) {
	_, pk, ok := strings.Cut(data, "|")
	if !ok {
		return "", 0
	}
	challenge, count, _ := strings.Cut(pk, " ")
	n, _ = strconv.Atoi(count)
	return challenge, n
}

// withPasskeyChallenge returns data keeping challenge as the n-th asked.
func withPasskeyChallenge(data, challenge string, n int) string {
	base, _, _ := strings.Cut(data, "|")
	return base + "|" + challenge + " " + strconv.Itoa(n)
}

// userPasskeys returns the passkeys of a user that may sign in.
func (a *Auth) userPasskeys(ctx context.Context, userID string) ([]store.Passkey, error) {
	ps, err := a.passkeys.store.Passkeys(ctx, userID)
	if err != nil {
		return nil, err
	}
	live := ps[:0]
	for _, p := range ps {
		if !p.Disabled {
			live = append(live, p)
		}
	}
	return live, nil
}

// startPasskeyVerification serves POST /auth/verify_passkey/options.
func (a *Auth) startPasskeyVerification(w http.ResponseWriter, r *http.Request) *apiError {
	token, e := decodeFlowToken(w, r)
	if e != nil {
		return e
	}
	ctx, now := r.Context(), a.now()
	h := store.HashToken(token)
	f, err := a.store().Flow(ctx, h, now)
	if e := a.flowError(ctx, err, f.Purpose != store.FlowTwoFactor || f.Attempts >= a.cfg.Limits.FlowCodeAttempts); e != nil {
		return e
	}
	if mode, _, _ := parseTwoFactorData(f.Data); mode == flowPasskey || mode == flowPasskeyCookie {
		return errPasskeyFlowMode
	}
	ps, err := a.userPasskeys(ctx, f.UserID)
	if err != nil {
		return a.internal(ctx, "read passkeys", err)
	}
	if len(ps) == 0 {
		return errNoUserPasskeys
	}
	if _, n := flowPasskeyChallenge(f.Data); n >= passkeyChallengesPerFlow {
		return tooManyRequests(f.ExpiresAt.Sub(now))
	}
	// The options carry no user handle: none is needed, nor written.
	assertion, sess, err := a.passkeys.rp.BeginLogin(&webauthnUser{creds: credentialsOf(ps)},
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return a.internal(ctx, "begin passkey verification", err)
	}
	assertion.Response.Timeout = int(min(passkeyTTL, f.ExpiresAt.Sub(now)) / time.Millisecond)
	_, err = a.changeFlow(ctx, h, now, func(f *store.Flow) error {
		_, n := flowPasskeyChallenge(f.Data)
		if n >= passkeyChallengesPerFlow {
			return tooManyRequests(f.ExpiresAt.Sub(now))
		}
		f.Data = withPasskeyChallenge(f.Data, sess.Challenge, n+1)
		return nil
	})
	if e := a.flowError(ctx, err, false); e != nil {
		return e
	}
	writeSecret(w, passkeyOptions{PublicKey: assertion.Response})
	return nil
}

// credentialsOf is passkeys as go-webauthn's credentials.
func credentialsOf(ps []store.Passkey) []webauthn.Credential {
	out := make([]webauthn.Credential, len(ps))
	for i, p := range ps {
		out[i] = credentialOf(p)
	}
	return out
}

// verifyPasskey serves POST /auth/verify_passkey. As verify_otp, it
// counts the attempt (the user's code lock and the flow's attempts)
// before checking; the flow that is consumed must still hold the
// challenge that was signed, and only the request that consumes it
// records the passkey's use, so a replayed assertion neither signs in
// twice nor trips the counter check.
func (a *Auth) verifyPasskey(w http.ResponseWriter, r *http.Request) *apiError {
	var req assertionRequest
	if e := decodeJSON(w, r, &req); e != nil {
		return e
	}
	if e := checkTokenField("token", req.Token); e != nil {
		return e
	}
	ctx, now := r.Context(), a.now()
	h := store.HashToken(req.Token)
	var challenge string
	f, t, e := a.chargeSecondFactor(ctx, h, now, func(f store.Flow) *apiError {
		if mode, _, _ := parseTwoFactorData(f.Data); mode == flowPasskey || mode == flowPasskeyCookie {
			return errPasskeyFlowMode
		}
		if challenge, _ = flowPasskeyChallenge(f.Data); challenge == "" {
			return errNoPasskeyAsk
		}
		return nil
	})
	if e != nil {
		return e
	}
	ev := Event{UserID: f.UserID, TenantID: f.TenantID, ClientIP: a.clientIP(r), Method: methodPasskey}
	wrong := func() *apiError { return a.wrongSecondFactor(ctx, t, h, f, ev, now, "record wrong passkey") }
	u, e := a.flowUser(ctx, f)
	if e != nil {
		t.refund(context.WithoutCancel(ctx))
		return e
	}
	parsed := parseAssertion(req.Credential)
	if parsed == nil {
		return wrong()
	}
	ps, err := a.userPasskeys(ctx, u.ID)
	if err != nil {
		t.refund(context.WithoutCancel(ctx))
		return a.internal(ctx, "read passkeys", err)
	}
	var pk store.Passkey
	for _, p := range ps {
		if string(p.CredentialID) == string(parsed.RawID) {
			pk = p
		}
	}
	if pk.ID == "" {
		return wrong()
	}
	// A user handle sent (authenticators may leave it out here) must be
	// the user's; go-webauthn compares it with the one given.
	handle := parsed.Response.UserHandle
	if len(handle) > 0 {
		if e := a.handleOf(ctx, handle, u.ID); e == errUnauthorized {
			return wrong()
		} else if e != nil {
			t.refund(context.WithoutCancel(ctx))
			return e
		}
	}
	c := assertionCheck{passkey: pk, user: u, handle: handle, parsed: parsed, challenge: challenge, userBound: true}
	if !a.verifyAssertion(c) {
		return wrong()
	}
	got, err := a.store().ConsumeFlow(ctx, h, store.FlowTwoFactor, now)
	if errors.Is(err, store.ErrNotFound) {
		// A concurrent request with the same assertion completed it first.
		return a.replayedCode(ctx, t, h, ev, now)
	}
	if got2, _ := flowPasskeyChallenge(got.Data); err == nil && got2 != challenge {
		// A newer challenge replaced the signed one: this flow is spent
		// for nothing, as a resend racing verify_otp would leave it.
		t.refund(context.WithoutCancel(ctx))
		return errInvalidToken
	}
	if e := a.flowError(ctx, err, false); e != nil {
		t.refund(context.WithoutCancel(ctx))
		return e
	}
	if err := t.succeed(ctx, now); err != nil {
		return a.internal(ctx, "reset code lock", err)
	}
	if e := a.usePasskey(r, c); e != nil {
		return e
	}
	mode, stamp, _ := parseTwoFactorData(got.Data)
	if stamp != passwordStamp(u.PasswordHash) {
		return errInvalidToken // the password changed since it was proved
	}
	ev.Kind, ev.Username = EventTwoFactorVerified, u.Username
	a.emit(ctx, ev)
	s, mode := flowSignIn(u, got, mode)
	s.passkeyID = pk.ID
	return a.completeSignIn(w, r, s, mode)
}
