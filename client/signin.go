// This file holds the sign-in steps: a password, then a second factor when
// the account asks for one; a stored refresh token; and signing out.

package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
)

// SignIn signs in with a username and password (and Config.Domain). It
// returns nil, nil when signed in, or a *SecondFactor to complete when
// the account asks for one. A wrong password is an *APIError with Status
// 401.
func (c *Client) SignIn(ctx context.Context, username, password string) (*SecondFactor, error) {
	body := map[string]string{"username": username, "password": password}
	if c.cfg.Domain != "" {
		body["domain"] = c.cfg.Domain
	}
	var p tokenPair
	if err := c.call(ctx, c.hc, http.MethodPost, "/auth/sign_in", body, &p); err != nil {
		return nil, err
	}
	if p.AccessToken == "" && p.Token != "" {
		return &SecondFactor{c: c, token: p.Token}, nil
	}
	return nil, c.signedIn(ctx, p)
}

// signedIn makes a sign-in's first pair the client's, saved first.
func (c *Client) signedIn(ctx context.Context, p tokenPair) error {
	if p.AccessToken == "" {
		return errors.New("client: the answer carries no access token")
	}
	c.replace(ctx, p.token(c.cfg.Now(), ""))
	return nil
}

// replace makes t (a new sign-in, or none) the client's, saved first under
// the store's lock when it has one, so that no refresh in another process
// overwrites it with the sign-in it replaces.
func (c *Client) replace(ctx context.Context, t Token) {
	if ls, ok := c.cfg.Tokens.(LockingTokenStore); ok {
		if unlock, err := ls.Lock(ctx); err == nil {
			defer unlock()
		}
	}
	c.adopt(ctx, t)
}

// SecondFactor is a sign-in waiting for its second factor: an emailed
// code, an authenticator app's code or a recovery code (Verify), or a
// passkey (PasskeyOptions, VerifyPasskey). Its flow ends 10 minutes after
// the password was proved.
type SecondFactor struct {
	c     *Client
	token string
}

// SendCode asks for a code: the server mails one and answers "email", or
// answers "app" when the user's authenticator app gives it (nothing is
// mailed); a server that does not say (PortSIP) gives "". A 503 or 429
// carries RetryAfter.
func (s *SecondFactor) SendCode(ctx context.Context) (factor string, err error) {
	var a struct {
		Factor string `json:"factor"`
	}
	err = s.c.call(ctx, s.c.hc, http.MethodPost, "/auth/send_otp", map[string]string{"token": s.token}, &a)
	return a.Factor, err
}

// Verify completes the sign-in with an emailed, app or recovery code. A
// wrong code is an *APIError with Status 401; the flow allows a few.
func (s *SecondFactor) Verify(ctx context.Context, code string) error {
	var p tokenPair
	if err := s.c.call(ctx, s.c.hc, http.MethodPost, "/auth/verify_otp", map[string]string{"token": s.token, "code": code}, &p); err != nil {
		return err
	}
	return s.c.signedIn(ctx, p)
}

// PasskeyOptions asks for a passkey challenge and returns the WebAuthn
// request options (PublicKeyCredentialRequestOptionsJSON, the answer's
// "publicKey") to hand to an authenticator. A user without passkeys is an
// *APIError with Status 400.
func (s *SecondFactor) PasskeyOptions(ctx context.Context) (json.RawMessage, error) {
	var a struct {
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if err := s.c.call(ctx, s.c.hc, http.MethodPost, "/auth/verify_passkey/options", map[string]string{"token": s.token}, &a); err != nil {
		return nil, err
	}
	if len(a.PublicKey) == 0 {
		return nil, errors.New("client: the answer carries no publicKey")
	}
	return a.PublicKey, nil
}

// VerifyPasskey completes the sign-in with the authenticator's assertion
// (AuthenticationResponseJSON) for the options of PasskeyOptions. An
// assertion the server refuses (another origin or challenge, no user
// verification) is an *APIError with Status 401, as a wrong code is; the
// flow allows a few, and the same options may be signed again.
func (s *SecondFactor) VerifyPasskey(ctx context.Context, credential json.RawMessage) error {
	var p tokenPair
	body := struct {
		Token      string          `json:"token"`
		Credential json.RawMessage `json:"credential"`
	}{s.token, credential}
	if err := s.c.call(ctx, s.c.hc, http.MethodPost, "/auth/verify_passkey", body, &p); err != nil {
		return err
	}
	return s.c.signedIn(ctx, p)
}

// SignInWithRefreshToken signs in with a refresh token kept elsewhere: it
// is traded at once for a new pair, which is saved and used. A dead token
// is ErrSignedOut (OnSignedOut is not called: no sign-in was held). The
// trade runs to its end even if ctx is done first, so that its rotation is
// not lost.
func (c *Client) SignInWithRefreshToken(ctx context.Context, refreshToken string) error {
	type result struct {
		t   Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		t, err := c.post(ctx, refreshToken)
		if errors.Is(err, errEnded) {
			err = ErrSignedOut
		}
		if err == nil {
			c.replace(ctx, t)
		}
		done <- result{t, err}
	}()
	select {
	case r := <-done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Scopes of SignOut.
const (
	// ScopeOwn ends the client's sign-in only.
	ScopeOwn = ""
	// ScopeOthers ends every sign-in of the user but the client's.
	ScopeOthers = "others"
	// ScopeGlobal ends every sign-in of the user, the client's included,
	// and the user's browser sessions (a pbxauth extension).
	ScopeGlobal = "global"
)

// SignOut ends sign-ins at the server (see ScopeOwn, ScopeOthers,
// ScopeGlobal) and, unless scope is ScopeOthers, forgets the client's
// pair and clears Config.Tokens. OnSignedOut is not called for it (only if
// the server had already ended the sign-in). Without a sign-in it does
// nothing and returns nil.
func (c *Client) SignOut(ctx context.Context, scope string) error {
	route := "/auth/sign_out"
	if scope != ScopeOwn {
		route += "?scope=" + url.QueryEscape(scope)
	}
	err := c.call(ctx, c.HTTPClient(), http.MethodPost, route, nil, nil)
	if errors.Is(err, ErrSignedOut) {
		return nil
	}
	if err != nil || scope == ScopeOthers {
		return err
	}
	c.replace(ctx, Token{})
	return nil
}
