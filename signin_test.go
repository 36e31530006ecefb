package pbxauth_test

import (
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestSignInUserRefreshSignOut(t *testing.T) {
	e := newEnv(t)
	r := e.c.Do("POST", "/auth/sign_in", aliceCreds())
	if r.Status != 200 || r.String("token_type") != "Bearer" || r.JSON()["expires_in"] != float64(3600) {
		t.Fatalf("sign_in: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	access, refresh := r.String("access_token"), r.String("refresh_token")
	if len(access) < 43 || len(refresh) < 43 || access == refresh {
		t.Fatalf("tokens %q %q", access, refresh)
	}
	u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...)
	if u.Status != 200 || u.String("role") != "Admin" || u.JSON()["password_verified"] != true || u.JSON()["password_force_reset"] != false {
		t.Fatalf("user: %d %s", u.Status, u.Body)
	}
	n := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": refresh})
	if n.Status != 200 {
		t.Fatalf("refresh: %d %s", n.Status, n.Body)
	}
	access2 := n.String("access_token")
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access2)...); u.Status != 200 || u.JSON()["password_verified"] != true {
		t.Fatalf("user after refresh: %d %s", u.Status, u.Body)
	}
	if s := e.c.Do("POST", "/auth/sign_out", nil, apitest.Bearer(access2)...); s.Status != 200 {
		t.Fatalf("sign_out: %d %s", s.Status, s.Body)
	}
	for _, tok := range []string{access, access2} {
		if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(tok)...); u.Status != 401 {
			t.Errorf("token after sign_out: %d", u.Status)
		}
	}
	if n := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": n.String("refresh_token")}); n.Status != 401 {
		t.Errorf("refresh after sign_out: %d", n.Status)
	}
}

// TestTokenPairOrder: the token pair starts with access_token, as PortSIP's
// sample answers do, for clients that take the first JSON value as the token.
func TestTokenPairOrder(t *testing.T) {
	e := newEnv(t)
	r := e.c.Do("POST", "/auth/sign_in", aliceCreds())
	if !strings.HasPrefix(string(r.Body), `{"access_token":"`) {
		t.Errorf("sign_in answer %s, want access_token first", r.Body)
	}
	n := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": r.String("refresh_token")})
	if !strings.HasPrefix(string(n.Body), `{"access_token":"`) || !strings.Contains(string(n.Body), `"token_type":"Bearer"}`) {
		t.Errorf("refresh answer %s, want access_token first and token_type last", n.Body)
	}
}
