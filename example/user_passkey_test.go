package main

import (
	"encoding/base64"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/softauthn"
)

// TestPasskeyUserResetCommand: "user reset-passkeys" removes a user's
// passkeys on the server's database, and the sign-ins end with them.
func TestPasskeyUserResetCommand(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "pbxauth.db")
	base := startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-db", db)
	c := apitest.NewClient(t, base)
	signIn := func() string {
		r := c.Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "bob-pw-1234", "domain": "acme.example.test"})
		if r.Status != 200 {
			t.Fatalf("sign_in: %d %s", r.Status, r.Body)
		}
		return r.String("access_token")
	}
	access := signIn()
	o := c.Do("POST", "/auth/passkeys/options", nil, apitest.Bearer(access)...)
	var opts struct {
		Token     string `json:"token"`
		PublicKey struct {
			Challenge string `json:"challenge"`
			User      struct {
				ID string `json:"id"`
			} `json:"user"`
		} `json:"publicKey"`
	}
	if err := json.Unmarshal(o.Body, &opts); err != nil || o.Status != 200 {
		t.Fatalf("passkey options: %d %s", o.Status, o.Body)
	}
	challenge, _ := base64.RawURLEncoding.DecodeString(opts.PublicKey.Challenge)
	handle, _ := base64.RawURLEncoding.DecodeString(opts.PublicKey.User.ID)
	cred := softauthn.New("localhost", handle).Register(softauthn.Ceremony{Challenge: challenge, Origin: pageURL(base)})
	if r := c.Do("POST", "/auth/passkeys", map[string]any{"token": opts.Token, "credential": json.RawMessage(cred)}, apitest.Bearer(access)...); r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Body)
	}

	mustUser(t, db, "removed every passkey of bob@acme.example.test; every sign-in ended", "reset-passkeys", "-domain", "acme.example.test", "bob")
	if r := c.Do("GET", "/auth/passkeys", nil, apitest.Bearer(access)...); r.Status != 401 {
		t.Errorf("the sign-in after reset-passkeys: %d %s", r.Status, r.Body)
	}
	if r := c.Do("GET", "/auth/passkeys", nil, apitest.Bearer(signIn())...); r.Status != 200 || len(r.JSON()["passkeys"].([]any)) != 0 {
		t.Errorf("passkeys after reset-passkeys: %d %s", r.Status, r.Body)
	}
}
