package pbxauth_test

import (
	"bytes"
	"testing"

	"github.com/pbxauth/pbxauth"
)

// TestFailuresLookAlike: unknown user, unknown domain, wrong password and a
// disabled account answer the same status and body, and each costs exactly
// one argon2id hash — counted, not timed.
func TestFailuresLookAlike(t *testing.T) {
	e := newEnv(t)
	var first []byte
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"wrong password", map[string]any{"username": "alice", "password": "wrong-pw-123", "domain": acmeDomain}},
		{"unknown user", map[string]any{"username": "nobody", "password": "wrong-pw-123", "domain": acmeDomain}},
		{"unknown domain", map[string]any{"username": "alice", "password": alicePW, "domain": "nope.example.test"}},
		{"disabled user, right password", map[string]any{"username": "dave", "password": "dave-pw-123", "domain": acmeDomain}},
		{"tenant user without domain", map[string]any{"username": "alice", "password": alicePW}},
		{"unknown system user", map[string]any{"username": "root", "password": "wrong-pw-123"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := pbxauth.HashCount(e.auth)
			r := e.c.Do("POST", "/auth/sign_in", tc.body)
			if r.Status != 401 || r.Code() != pbxauth.CodeUnauthorized {
				t.Fatalf("got %d %s", r.Status, r.Body)
			}
			if first == nil {
				first = r.Body
			} else if !bytes.Equal(r.Body, first) {
				t.Errorf("body %s differs from %s", r.Body, first)
			}
			if n := pbxauth.HashCount(e.auth) - before; n != 1 {
				t.Errorf("%d hashes, want 1", n)
			}
		})
	}
}

// TestLockout: 5 failures lock the submitted account key for a minute (429
// with Retry-After, no hashing, a right password does not bypass it), the
// next lock lasts twice as long, and success resets the key.
func TestLockout(t *testing.T) {
	e := newEnv(t)
	wrong := map[string]any{"username": "alice", "password": "wrong-pw-123", "domain": acmeDomain}
	fail5 := func() {
		t.Helper()
		for i := range 5 {
			if r := e.c.Do("POST", "/auth/sign_in", wrong); r.Status != 401 {
				t.Fatalf("failure %d: %d %s", i+1, r.Status, r.Body)
			}
		}
	}
	fail5()
	before := pbxauth.HashCount(e.auth)
	r := e.c.Do("POST", "/auth/sign_in", aliceCreds())
	if r.Status != 429 || r.Code() != pbxauth.CodeTooManyRequests || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("locked: %d %s Retry-After=%q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if pbxauth.HashCount(e.auth) != before {
		t.Error("a locked key was hashed")
	}
	// Case does not dodge the key; an unknown user is throttled the same way.
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "ALICE", "password": alicePW, "domain": "Acme.Example.Test"}); r.Status != 429 {
		t.Errorf("other case: %d", r.Status)
	}
	e.clock.Advance(61e9)
	fail5()
	r = e.c.Do("POST", "/auth/sign_in", aliceCreds())
	if r.Status != 429 || r.Header.Get("Retry-After") != "120" {
		t.Fatalf("second lock: %d Retry-After=%q", r.Status, r.Header.Get("Retry-After"))
	}
	e.clock.Advance(121e9)
	e.signIn(t, aliceCreds())
	// The success reset the key: four failures do not lock.
	for range 4 {
		e.c.Do("POST", "/auth/sign_in", wrong)
	}
	e.signIn(t, aliceCreds())

	ghost := map[string]any{"username": "ghost", "password": "wrong-pw-123", "domain": acmeDomain}
	for range 5 {
		e.c.Do("POST", "/auth/sign_in", ghost)
	}
	if r := e.c.Do("POST", "/auth/sign_in", ghost); r.Status != 429 {
		t.Errorf("unknown user not throttled alike: %d", r.Status)
	}
}

// TestAddressThrottle: 100 failures from one address in 15 minutes lock
// that address for every account.
func TestAddressThrottle(t *testing.T) {
	e := newEnv(t)
	for i := range 100 {
		body := map[string]any{"username": "user" + string(rune('a'+i%26)) + string(rune('a'+i/26)), "password": "wrong-pw-123", "domain": acmeDomain}
		if r := e.c.Do("POST", "/auth/sign_in", body); r.Status != 401 {
			t.Fatalf("failure %d: %d", i, r.Status)
		}
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 429 {
		t.Fatalf("address not locked: %d", r.Status)
	}
	e.clock.Advance(15*60e9 + 1)
	e.signIn(t, aliceCreds())
}
