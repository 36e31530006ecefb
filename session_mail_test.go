package pbxauth_test

import (
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// The verify_otp that completes a flow started by POST /login sets the
// session cookie — a renewed one — and answers the token pair; one that
// completes a POST /auth/sign_in flow touches no cookie.
func TestSecondFactorStartsSession(t *testing.T) {
	e := newMailEnv(t, plainHTTP)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	attacker := apitest.NewClient(t, e.c.URL)
	planted := sessionCookie(t, e.login(t, attacker, map[string]any{"username": "admin", "password": adminPW})).Value
	plant(t, e.c, planted)

	r := e.c.Do("POST", "/login", aliceCreds())
	flow := r.String("token")
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true || flow == "" || sessionCookie(t, r) != nil {
		t.Fatalf("POST /login: %d %s", r.Status, r.Body)
	}
	code := e.sendCode(t, flow, aliceEmail)
	v := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
	c := sessionCookie(t, v)
	if v.Status != 200 || v.String("token_type") != "Bearer" || v.String("refresh_token") == "" || c == nil || c.Value == planted {
		t.Fatalf("verify_otp: %d %s, cookie %+v", v.Status, v.Body, c)
	}
	s := e.c.Do("GET", "/login", nil)
	if s.Status != 200 || s.String("access_token") != v.String("access_token") || s.String("role") != "Admin" {
		t.Fatalf("GET /login after verify_otp: %d %s", s.Status, s.Body)
	}
	if r := withCookie(t, e.env, planted); r.Status != 401 {
		t.Errorf("the planted cookie after the second factor: %d", r.Status)
	}
	if r := e.c.Do("POST", "/logout", nil); r.Status != 204 {
		t.Fatalf("POST /logout: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": v.String("refresh_token")}); r.Status != 401 {
		t.Errorf("the pair's refresh token after logout: %d", r.Status)
	}

	other := apitest.NewClient(t, e.c.URL)
	flow = other.Do("POST", "/auth/sign_in", aliceCreds()).String("token")
	code = e.sendCode(t, flow, aliceEmail)
	if v := other.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code}); v.Status != 200 || sessionCookie(t, v) != nil {
		t.Errorf("verify_otp of a sign_in flow: %d, cookie %v", v.Status, sessionCookie(t, v))
	}
}
