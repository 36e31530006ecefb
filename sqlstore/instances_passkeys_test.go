// Passkeys on two pbxauth instances sharing one PostgreSQL database, driven
// over HTTP with the software authenticator: a passkey registered at one
// signs in at the other, one assertion sent to both at once signs in once,
// a sealed state spent at one is spent at the other, and a count that went
// back at one disables the passkey for both.

package sqlstore_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/softauthn"
)

const pkOrigin = "http://pbxauth.test"

// withPasskeys gives an instance the public URL and key passkeys need.
func withPasskeys(c *pbxauth.Config) {
	c.PublicURL = pkOrigin + "/api"
	c.EncryptionKeys = [][]byte{bytes.Repeat([]byte{7}, 32)}
}

// optionsOf reads an options answer's token and challenge (and user.id).
func optionsOf(t *testing.T, r *apitest.Response) (tok string, challenge, handle []byte) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("options: %d %s", r.Status, r.Body)
	}
	var o struct {
		Token     string
		PublicKey struct {
			Challenge string
			User      struct{ ID string }
		}
	}
	if err := json.Unmarshal(r.Body, &o); err != nil {
		t.Fatal(err)
	}
	challenge, _ = base64.RawURLEncoding.DecodeString(o.PublicKey.Challenge)
	handle, _ = base64.RawURLEncoding.DecodeString(o.PublicKey.User.ID)
	return o.Token, challenge, handle
}

// assertionBody starts a passkey sign-in at c and answers it with cred.
func assertionBody(t *testing.T, c *apitest.Client, cred *softauthn.Credential) map[string]any {
	t.Helper()
	tok, ch, _ := optionsOf(t, c.Do("POST", "/auth/sign_in/passkey/options", map[string]any{}))
	return map[string]any{"token": tok, "credential": json.RawMessage(cred.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
}

func TestPasskeysOnTwoInstances(t *testing.T) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	a, b := instance(t, stA, withPasskeys), instance(t, stB, withPasskeys)

	access, _ := signInBob(t, a)
	tok, ch, handle := optionsOf(t, a.Do("POST", "/auth/passkeys/options", map[string]any{}, apitest.Bearer(access)...))
	cred := softauthn.New("pbxauth.test", handle)
	reg := a.Do("POST", "/auth/passkeys", map[string]any{"token": tok, "credential": json.RawMessage(cred.Register(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}, apitest.Bearer(access)...)
	if reg.Status != 201 {
		t.Fatalf("register at A: %d %s", reg.Status, reg.Body)
	}
	if r := b.Do("POST", "/auth/sign_in/passkey", assertionBody(t, b, cred)); r.Status != 200 {
		t.Fatalf("sign in at B: %d %s", r.Status, r.Body)
	}

	// One assertion, started at A, sent 20 times to A and B at once.
	body := assertionBody(t, a, cred)
	counts := apitest.Race(20, func(i int) *apitest.Response {
		return []*apitest.Client{a, b}[i%2].Do("POST", "/auth/sign_in/passkey", body)
	})
	if counts[200] != 1 || counts[401] != 19 {
		t.Fatalf("20 finishes on two instances: %v", counts)
	}

	// A copy of the key behind the original, at B: refused and disabled,
	// and then the original is refused at A too.
	clone := *cred
	clone.Count = 1
	if r := b.Do("POST", "/auth/sign_in/passkey", assertionBody(t, b, &clone)); r.Status != 401 {
		t.Fatalf("count gone back at B: %d %s", r.Status, r.Body)
	}
	if r := a.Do("POST", "/auth/sign_in/passkey", assertionBody(t, a, cred)); r.Status != 401 {
		t.Fatalf("the disabled passkey at A: %d %s", r.Status, r.Body)
	}
}
