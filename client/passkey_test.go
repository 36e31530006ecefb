// Tests of the passkey second factor against the real pbxauth handler over
// loopback: bob (second factor by mail) registers a passkey through the
// API's own routes, then completes sign-ins with it through
// SecondFactor.PasskeyOptions and VerifyPasskey, signed by the software
// authenticator internal/softauthn.

package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/client"
	"github.com/pbxauth/pbxauth/internal/softauthn"
)

// The relying party passkeys are bound to: the host of the server's
// PublicURL, which the client never dials (it speaks to loopback).
const (
	pkRPID   = "pbx.acme.example.test"
	pkOrigin = "http://" + pkRPID
)

// withPasskeys turns passkeys on: an RP ID (from PublicURL, as loopback
// is an IP address) and the keys that seal their ceremony state; mail
// goes to mail.
func withPasskeys(mail mailbox) func(*pbxauth.Config) {
	return func(c *pbxauth.Config) {
		c.PublicURL = pkOrigin + "/api"
		c.EncryptionKeys = [][]byte{bytes.Repeat([]byte{7}, 32)}
		c.Mailer = mail
	}
}

// nextCode returns the next code mailed, skipping mails without one.
func nextCode(t *testing.T, mail mailbox) string {
	t.Helper()
	for code := range mail {
		if code != "" {
			return code
		}
	}
	t.Fatal("the mailbox closed")
	return ""
}

// pkOptions is what the tests read of WebAuthn options, creation or
// request (PublicKeyCredentialCreationOptionsJSON, ...RequestOptionsJSON).
type pkOptions struct {
	Challenge        string `json:"challenge"`
	RPID             string `json:"rpId"`
	UserVerification string `json:"userVerification"`
	User             struct {
		ID string `json:"id"`
	} `json:"user"`
	AllowCredentials []struct {
		ID string `json:"id"`
	} `json:"allowCredentials"`
}

func readOptions(t *testing.T, raw json.RawMessage) pkOptions {
	t.Helper()
	var o pkOptions
	if err := json.Unmarshal(raw, &o); err != nil || o.Challenge == "" {
		t.Fatalf("options: %s (%v)", raw, err)
	}
	return o
}

func b64d(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// postJSON posts body to route (under /api) through c's HTTPClient, the
// bearer on, and decodes a 2xx answer into out; it returns the status.
func postJSON(t *testing.T, c *client.Client, s *server, route string, body, out any) int {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTPClient().Post(s.base()+route, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	got, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 == 2 && out != nil {
		if err := json.Unmarshal(got, out); err != nil {
			t.Fatalf("POST %s: %s: %v", route, got, err)
		}
	}
	if resp.StatusCode/100 != 2 {
		t.Logf("POST %s: %d %s", route, resp.StatusCode, got)
	}
	return resp.StatusCode
}

// registerPasskey signs bob in by password and mailed code through c,
// then registers a new passkey for him with POST /auth/passkeys/options
// and POST /auth/passkeys, as a browser would.
func registerPasskey(t *testing.T, s *server, c *client.Client, mail mailbox) *softauthn.Credential {
	t.Helper()
	ctx := context.Background()
	sf, err := c.SignIn(ctx, "bob", bobPW)
	if err != nil || sf == nil {
		t.Fatalf("SignIn: %v, %v", sf, err)
	}
	if _, err := sf.SendCode(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sf.Verify(ctx, nextCode(t, mail)); err != nil {
		t.Fatal(err)
	}
	var answer struct {
		Token     string          `json:"token"`
		PublicKey json.RawMessage `json:"publicKey"`
	}
	if st := postJSON(t, c, s, "/auth/passkeys/options", map[string]any{}, &answer); st != 200 {
		t.Fatalf("POST /auth/passkeys/options: %d", st)
	}
	o := readOptions(t, answer.PublicKey)
	cred := softauthn.New(pkRPID, b64d(t, o.User.ID))
	reg := cred.Register(softauthn.Ceremony{Challenge: b64d(t, o.Challenge), Origin: pkOrigin})
	if st := postJSON(t, c, s, "/auth/passkeys", map[string]any{"token": answer.Token, "credential": json.RawMessage(reg)}, nil); st != 201 {
		t.Fatalf("POST /auth/passkeys: %d", st)
	}
	return cred
}

// TestPasskeySecondFactor: a user with a second factor signs in with his
// password, then his passkey; assertions the server refuses are
// *APIErrors with its code and leave the flow to complete.
func TestPasskeySecondFactor(t *testing.T) {
	ctx := context.Background()
	mail := make(mailbox, 16)
	s := newServer(t, withPasskeys(mail))

	// Before bob has a passkey: 400, and the flow goes on with a code.
	setup := s.newClient(t)
	sf, err := setup.SignIn(ctx, "bob", bobPW)
	if err != nil || sf == nil {
		t.Fatalf("SignIn: %v, %v", sf, err)
	}
	var ae *client.APIError
	if _, err := sf.PasskeyOptions(ctx); !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "INVALID_ARGUMENT" {
		t.Fatalf("PasskeyOptions without a passkey: %v", err)
	}
	if _, err := sf.SendCode(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sf.Verify(ctx, nextCode(t, mail)); err != nil {
		t.Fatal(err)
	}
	cred := registerPasskey(t, s, s.newClient(t), mail)

	c := s.newClient(t)
	sf, err = c.SignIn(ctx, "bob", bobPW)
	if err != nil || sf == nil {
		t.Fatalf("SignIn: %v, %v", sf, err)
	}
	opts, err := sf.PasskeyOptions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	o := readOptions(t, opts)
	if o.RPID != pkRPID || o.UserVerification != "required" || len(o.AllowCredentials) != 1 || !bytes.Equal(b64d(t, o.AllowCredentials[0].ID), cred.ID) {
		t.Fatalf("request options: %s", opts)
	}
	challenge := b64d(t, o.Challenge)

	// Assertions the server refuses: a wrong code, the flow still open.
	for what, cer := range map[string]softauthn.Ceremony{
		"no user verification": {Challenge: challenge, Origin: pkOrigin, NoUV: true},
		"another origin":       {Challenge: challenge, Origin: "http://evil.example.test"},
		"another challenge":    {Challenge: bytes.Repeat([]byte{1}, 32), Origin: pkOrigin},
	} {
		err := sf.VerifyPasskey(ctx, cred.Assert(cer))
		if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "UNAUTHORIZED" || ae.Reason != "" {
			t.Fatalf("%s: %v", what, err)
		}
	}
	if _, err := c.User(ctx); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("signed in after refused assertions: %v", err)
	}

	assertion := cred.Assert(softauthn.Ceremony{Challenge: challenge, Origin: pkOrigin})
	if err := sf.VerifyPasskey(ctx, assertion); err != nil {
		t.Fatal(err)
	}
	if tok, err := c.Token(ctx); err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("Token: %+v, %v", tok, err)
	}
	if u, err := c.User(ctx); err != nil || u.Username != "bob" || !u.PasswordVerified {
		t.Fatalf("User: %+v, %v", u, err)
	}
	if status, body, err := getText(ctx, c, s, "/extensions"); err != nil || status != 200 || body != "extensions of bob" {
		t.Fatalf("GET /api/extensions: %d %q %v", status, body, err)
	}

	// The flow is spent: the same assertion again is refused, and the
	// client keeps its sign-in.
	if err := sf.VerifyPasskey(ctx, assertion); !errors.As(err, &ae) || ae.Status != 401 {
		t.Fatalf("the flow again: %v", err)
	}
	if u, err := c.User(ctx); err != nil || u.Username != "bob" {
		t.Fatalf("User after a refused replay: %+v, %v", u, err)
	}
}
