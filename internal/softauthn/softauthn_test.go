package softauthn

import (
	"bytes"
	"crypto/rand"
	"testing"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
)

// user is a go-webauthn user holding the credentials registered so far.
type user struct {
	handle []byte
	creds  []webauthn.Credential
}

func (u *user) WebAuthnID() []byte                         { return u.handle }
func (u *user) WebAuthnName() string                       { return "alice@acme.example.test" }
func (u *user) WebAuthnDisplayName() string                { return "alice" }
func (u *user) WebAuthnCredentials() []webauthn.Credential { return u.creds }

const (
	rpID   = "pbx.example.test"
	origin = "https://pbx.example.test"
)

func newRP(t *testing.T) *webauthn.WebAuthn {
	t.Helper()
	w, err := webauthn.New(&webauthn.Config{RPID: rpID, RPDisplayName: "PBX", RPOrigins: []string{origin},
		AuthenticatorSelection: protocol.AuthenticatorSelection{UserVerification: protocol.VerificationRequired}})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// register makes a credential and has go-webauthn accept its registration.
func register(t *testing.T, w *webauthn.WebAuthn, u *user, c *Credential) {
	t.Helper()
	opts, sess, err := w.BeginRegistration(u)
	if err != nil {
		t.Fatal(err)
	}
	body := c.Register(Ceremony{Challenge: opts.Response.Challenge, Origin: origin})
	parsed, err := protocol.ParseCredentialCreationResponseBytes(body)
	if err != nil {
		t.Fatalf("parse registration: %v", err)
	}
	cred, err := w.CreateCredential(u, *sess, parsed)
	if err != nil {
		t.Fatalf("registration refused: %v", err)
	}
	if !bytes.Equal(cred.ID, c.ID) || cred.Flags.BackupEligible != c.BackupEligible || cred.AttestationFormat != "none" {
		t.Fatalf("credential %+v", cred)
	}
	u.creds = append(u.creds, *cred)
}

// login runs an assertion through go-webauthn.
func login(w *webauthn.WebAuthn, u *user, c *Credential, change func(*Ceremony)) (*webauthn.Credential, error) {
	opts, sess, err := w.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, err
	}
	cer := Ceremony{Challenge: opts.Response.Challenge, Origin: origin}
	if change != nil {
		change(&cer)
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(c.Assert(cer))
	if err != nil {
		return nil, err
	}
	return w.ValidateDiscoverableLogin(func(rawID, handle []byte) (webauthn.User, error) { return u, nil }, *sess, parsed)
}

func TestAcceptedByGoWebAuthn(t *testing.T) {
	w := newRP(t)
	handle := make([]byte, 64)
	rand.Read(handle)
	u := &user{handle: handle}
	c := New(rpID, handle)
	register(t, w, u, c)
	got, err := login(w, u, c, nil)
	if err != nil {
		t.Fatalf("assertion refused: %v", err)
	}
	if got.Authenticator.SignCount != 1 || !got.Flags.UserVerified {
		t.Fatalf("credential after login: %+v", got)
	}
	s := New(rpID, handle).Synced()
	register(t, w, u, s)
	if _, err := login(w, u, s, nil); err != nil {
		t.Fatalf("synced assertion refused: %v", err)
	}
}

// TestEveryChangeIsRefused proves each knob reaches what the RP checks.
func TestEveryChangeIsRefused(t *testing.T) {
	w := newRP(t)
	handle := []byte("0123456789abcdef0123456789abcdef")
	u := &user{handle: handle}
	c := New(rpID, handle)
	register(t, w, u, c)
	for name, change := range map[string]func(*Ceremony){
		"origin":      func(c *Ceremony) { c.Origin = "https://evil.example" },
		"rp id":       func(c *Ceremony) { c.RPID = "evil.example" },
		"rp id hash":  func(c *Ceremony) { c.RPIDHash = make([]byte, 32) },
		"no uv":       func(c *Ceremony) { c.NoUV = true },
		"no up":       func(c *Ceremony) { c.NoUP = true },
		"type":        func(c *Ceremony) { c.Type = "webauthn.create" },
		"challenge":   func(c *Ceremony) { c.Challenge = bytes.Repeat([]byte{1}, 32) },
		"user handle": func(c *Ceremony) { c.UserHandle = []byte("someone else") },
		"cred type":   func(c *Ceremony) { c.CredentialType = "password" },
	} {
		if _, err := login(w, u, c, change); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	c.BackupEligible = true
	if _, err := login(w, u, c, nil); err == nil {
		t.Error("BE changed: accepted")
	}
}
