// Authenticator apps on two instances sharing PostgreSQL: a recovery code
// raced through both is accepted once, and an app code used on one is a
// replay on the other.

package sqlstore_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestInstancesShareAuthenticatorApps(t *testing.T) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	// One browser makes every flow here: its device limits are raised.
	conf := func(c *pbxauth.Config) {
		c.EncryptionKeys = [][]byte{bytes.Repeat([]byte{9}, 32)}
		c.Limits.DeviceSignIns, c.Limits.CodeAttempts = 100, 100
	}
	a, b := instance(t, stA, conf), instance(t, stB, conf)
	access, _ := signInBob(t, a)
	r := a.Do("POST", "/auth/totp", nil, apitest.Bearer(access)...)
	secret := r.String("secret")
	now := time.Now()
	r = b.Do("POST", "/auth/totp/confirm", map[string]any{"code": apitest.TOTPCode(t, secret, now)}, apitest.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("confirm on the other instance: %d %s", r.Status, r.Body)
	}
	recovery := r.JSON()["recovery_codes"].([]any)[0].(string)
	flow := func(c *apitest.Client) string {
		r := c.Do("POST", "/auth/sign_in", bobCreds())
		if r.JSON()["two_factor_enabled"] != true {
			t.Fatalf("sign_in: %d %s", r.Status, r.Body)
		}
		return r.String("token")
	}
	next := apitest.TOTPCode(t, secret, now.Add(30*time.Second))
	if r := a.Do("POST", "/auth/verify_otp", map[string]any{"token": flow(a), "code": next}); r.Status != 200 {
		t.Fatalf("app code on A: %d %s", r.Status, r.Body)
	}
	if r := b.Do("POST", "/auth/verify_otp", map[string]any{"token": flow(b), "code": next}); r.Status != 401 {
		t.Errorf("the same app code on B: %d %s, want 401", r.Status, r.Body)
	}

	clients := []*apitest.Client{a, b}
	flows := make([]string, 20)
	for i := range flows {
		flows[i] = flow(clients[i%2])
	}
	counts := apitest.Race(len(flows), func(i int) *apitest.Response {
		return clients[i%2].Do("POST", "/auth/verify_otp", map[string]any{"token": flows[i], "code": recovery})
	})
	if counts[200] != 1 || counts[401] != len(flows)-1 {
		t.Errorf("answers %v to 20 sign-ins over two instances with one recovery code, want one 200 and 401 for the rest", counts)
	}
}
