package pbxauth_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// TestHashUpgradeOnSignIn: a hash made with weaker parameters is replaced
// by one with the configured parameters at the next correct sign-in, and the
// password still works.
func TestHashUpgradeOnSignIn(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.Argon2 = pbxauth.Argon2Params{Memory: 128, Time: 2, Threads: 1} })
	e.signIn(t, aliceCreds())
	u, err := e.store.User(t.Context(), aliceID)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.PasswordHash, "$argon2id$v=19$m=128,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %s", u.PasswordHash)
	}
	e.signIn(t, aliceCreds())
}

// TestPasswordNormalisation: a password typed in another Unicode form
// (NFKC-equivalent) is the same password.
func TestPasswordNormalisation(t *testing.T) {
	h, err := cheapHash("ﬁne-pässword")
	if err != nil {
		t.Fatal(err)
	}
	st := memstore.New()
	seed(t, st)
	if err := st.CreateUser(t.Context(), store.User{ID: "u-n", TenantID: acmeID, Username: "norm", Role: "StandardUser", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, st)
	e.signIn(t, map[string]any{"username": "norm", "password": "fine-pa\u0308ssword", "domain": acmeDomain})
	if _, err := e.auth.HashPassword(t.Context(), strings.Repeat("x", 1025)); !errors.Is(err, pbxauth.ErrInvalid) {
		t.Errorf("a password over 1024 bytes: %v, want ErrInvalid", err)
	}
}

func TestRequireRole(t *testing.T) {
	e := newEnv(t)
	h := e.auth.RequireRole("SystemAdmin")(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := pbxauth.PrincipalFrom(r.Context())
		if !ok {
			t.Error("no principal")
		}
		w.Write([]byte(p.Username))
	}))
	c := apitest.Serve(t, e.auth.Handler(), h)
	alice, _ := e.signIn(t, aliceCreds())
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	get := func(tok string) (int, string) {
		req, _ := http.NewRequest("GET", c.URL+"/extensions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		r := c.Send(req)
		return r.Status, string(r.Body)
	}
	if s, body := get(admin); s != 200 || body != "admin" {
		t.Errorf("admin: %d %s", s, body)
	}
	if s, _ := get(alice); s != 403 {
		t.Errorf("alice: %d", s)
	}
	if s, _ := get("nope"); s != 401 {
		t.Errorf("no token: %d", s)
	}
}
