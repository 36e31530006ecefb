// Black-box tests of the password limits of Config.Limits over HTTP, with
// the concurrency an attacker would use.

package pbxauth_test

import (
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
)

// parallel runs fn(0) … fn(n-1) in n goroutines released together and
// returns their statuses by index.
func parallel(n int, fn func(i int) int) []int {
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			statuses[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return statuses
}

// tally counts statuses.
func tally(statuses []int) map[int]int {
	m := map[int]int{}
	for _, s := range statuses {
		m[s]++
	}
	return m
}

// slowHashes makes a wrong password cost some milliseconds, so that the
// requests of a burst really overlap the hashing, as they do in production.
func slowHashes(c *pbxauth.Config) {
	c.Argon2 = pbxauth.Argon2Params{Memory: 4096, Time: 2, Threads: 1}
	c.MaxConcurrentHashes, c.HashQueue = 8, 40
}

func wrongAlice() map[string]any {
	return map[string]any{"username": "alice", "password": "wrong-pw-123", "domain": acmeDomain}
}

// TestConcurrentWrongPasswords: of 40 concurrent wrong passwords for one
// account at most 5 are checked (401, and no more than 5 hashes); the rest
// are 429 or 503; then the correct password is 429 too. POST /auth/sign_in
// and POST /login share the limit.
func TestConcurrentWrongPasswords(t *testing.T) {
	for _, path := range []string{"/auth/sign_in", "/login"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			e := newEnv(t, slowHashes)
			before := pbxauth.HashCount(e.auth)
			st := parallel(40, func(i int) int {
				p := path
				if i%2 == 1 {
					p = "/auth/sign_in" // both routes at once
				}
				return e.c.Do("POST", p, wrongAlice(), "Sec-Fetch-Site", "same-origin").Status
			})
			n := tally(st)
			if n[401] == 0 || n[401] > 5 || n[401]+n[429]+n[503] != 40 {
				t.Fatalf("40 concurrent wrong passwords: %v, want at most 5 of 401 and the rest 429 or 503", n)
			}
			if h := pbxauth.HashCount(e.auth) - before; h > 5 {
				t.Fatalf("%d passwords hashed, want at most 5", h)
			}
			for _, p := range []string{"/auth/sign_in", "/login"} {
				if r := e.c.Do("POST", p, aliceCreds(), "Sec-Fetch-Site", "same-origin"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
					t.Fatalf("correct password after the burst on %s: %d %s", p, r.Status, r.Body)
				}
			}
		})
	}
}

// TestCorrectPasswordRacingALock: a correct password sent in the middle of
// a burst of wrong ones is either checked within the cycle's 5 slots (and
// succeeds) or refused — never checked as a sixth.
func TestCorrectPasswordRacingALock(t *testing.T) {
	e := newEnv(t, slowHashes)
	before := pbxauth.HashCount(e.auth)
	st := parallel(40, func(i int) int {
		if i == 20 {
			return e.c.Do("POST", "/auth/sign_in", aliceCreds()).Status
		}
		return e.c.Do("POST", "/auth/sign_in", wrongAlice()).Status
	})
	// A success frees every slot, so the wrong passwords after it count
	// anew: up to 5 before it and 5 after. (A success also rehashes the
	// password with the stronger parameters: one hash more.)
	n := tally(st)
	checked := n[401] + n[200]
	if checked > 10 || (st[20] != 200 && checked > 5) || n[401]+n[429]+n[503]+n[200] != 40 {
		t.Fatalf("the correct password answered %d; statuses %v", st[20], n)
	}
	if h := pbxauth.HashCount(e.auth) - before; h > uint64(checked+n[200]) {
		t.Fatalf("%d hashes for %d checked passwords", h, checked)
	}
}

// TestRefusedBeforeHashingFreesItsSlot: a sign-in that gets 503 because
// hashing is saturated was never checked, so it takes no slot: five wrong
// passwords afterwards are all checked, the sixth is refused.
func TestRefusedBeforeHashingFreesItsSlot(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.MaxConcurrentHashes, c.HashQueue = 2, 2 })
	release := pbxauth.SaturateHasher(e.auth)
	for range 10 {
		if r := e.c.Do("POST", "/auth/sign_in", wrongAlice()); r.Status != 503 {
			t.Fatalf("saturated: %d %s", r.Status, r.Body)
		}
	}
	release()
	for i := range 5 {
		if r := e.c.Do("POST", "/auth/sign_in", wrongAlice()); r.Status != 401 {
			t.Fatalf("failure %d after the 503s: %d %s", i+1, r.Status, r.Body)
		}
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 429 {
		t.Fatalf("after five failures: %d", r.Status)
	}
}

// TestPasswordLimitsConfigurable: Config.Limits replaces the defaults.
func TestPasswordLimitsConfigurable(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) {
		c.Limits.PasswordAttempts, c.Limits.PasswordLock, c.Limits.PasswordLockMax = 2, 10*time.Second, 15*time.Second
	})
	for range 2 {
		e.c.Do("POST", "/auth/sign_in", wrongAlice())
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 429 || r.Header.Get("Retry-After") != "10" {
		t.Fatalf("first lock: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	e.clock.Advance(10 * time.Second)
	for range 2 {
		e.c.Do("POST", "/auth/sign_in", wrongAlice())
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 429 || r.Header.Get("Retry-After") != "15" {
		t.Fatalf("second lock, capped: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
}

// proxied serves an env behind a trusted proxy (the test client's
// loopback), so tests choose the client address with X-Forwarded-For.
func proxied(c *pbxauth.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	c.Limits.AddressFailures = 10
	// Tests send their failures in parallel: none may be shed by a full
	// hashing queue (503, not counted) on a small machine.
	c.HashQueue = 64
}

func from(addr string) []string { return []string{"X-Forwarded-For", addr} }

// failFrom makes n failed sign-ins for distinct accounts from addr.
func failFrom(t *testing.T, e *env, addr string, n int) {
	t.Helper()
	for i := range n {
		body := map[string]any{"username": fmt.Sprintf("user%d", i), "password": "wrong-pw-123", "domain": acmeDomain}
		if r := e.c.Do("POST", "/auth/sign_in", body, from(addr)...); r.Status != 401 {
			t.Fatalf("failure %d from %s: %d %s", i+1, addr, r.Status, r.Body)
		}
	}
}

// TestAddressLimitGroupsIPv6: failures from many addresses of one IPv6 /64
// lock the whole /64, not a neighbouring one; an IPv4-mapped address is its
// IPv4 address.
func TestAddressLimitGroupsIPv6(t *testing.T) {
	e := newEnv(t, proxied)
	for i := range 10 {
		body := map[string]any{"username": fmt.Sprintf("user%d", i), "password": "wrong-pw-123", "domain": acmeDomain}
		if r := e.c.Do("POST", "/auth/sign_in", body, from(fmt.Sprintf("2001:db8:1:2:%x::%x", i, i+1))...); r.Status != 401 {
			t.Fatalf("failure %d: %d", i+1, r.Status)
		}
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("2001:db8:1:2:ffff::1")...); r.Status != 429 || r.Header.Get("Retry-After") != "900" {
		t.Fatalf("another address of the /64: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	e.signIn(t, aliceCreds()) // loopback itself is not locked
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("2001:db8:1:3::1")...); r.Status != 200 {
		t.Fatalf("the next /64: %d", r.Status)
	}

	failFrom(t, e, "::ffff:198.51.100.7", 10)
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("198.51.100.7")...); r.Status != 429 {
		t.Fatalf("IPv4 after failures from its IPv4-mapped form: %d", r.Status)
	}
	e.clock.Advance(15 * time.Minute)
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("198.51.100.7")...); r.Status != 200 {
		t.Fatalf("after the address lock: %d", r.Status)
	}
}

// TestAddressLimitPrefixConfigurable: Limits.IPv6Prefix 128 keys IPv6
// clients by their full address.
func TestAddressLimitPrefixConfigurable(t *testing.T) {
	e := newEnv(t, proxied, func(c *pbxauth.Config) { c.Limits.IPv6Prefix = 128 })
	failFrom(t, e, "2001:db8::1", 10)
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("2001:db8::2")...); r.Status != 200 {
		t.Fatalf("a neighbour with /128 keys: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("2001:db8::1")...); r.Status != 429 {
		t.Fatalf("the failing address: %d", r.Status)
	}
}

// TestForwardedFromUntrustedPeerWarns: forwarding headers from a peer that
// is not a trusted proxy are ignored and logged, at most once a minute.
func TestForwardedFromUntrustedPeerWarns(t *testing.T) {
	var log syncBuffer
	e := newEnv(t, func(c *pbxauth.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	const warning = "not in Config.TrustedProxies"
	parallel(10, func(i int) int {
		h := "X-Forwarded-For"
		if i%2 == 1 {
			h = "Forwarded"
		}
		return e.c.Do("POST", "/auth/sign_in", aliceCreds(), h, "for=203.0.113.9").Status
	})
	if n := log.count(warning); n != 1 {
		t.Fatalf("%d warnings for 10 requests within a minute, want 1:\n%s", n, log.String())
	}
	e.c.Do("POST", "/auth/sign_in", aliceCreds())
	e.clock.Advance(time.Minute)
	e.c.Do("POST", "/auth/sign_in", aliceCreds(), from("203.0.113.9")...)
	if n := log.count(warning); n != 2 {
		t.Fatalf("%d warnings after a minute more, want 2", n)
	}
}
