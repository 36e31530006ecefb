// Black-box tests of known devices: the cookie, its rotation, its own lock
// key, its rate, its eviction and deletion, and its hashing lane.

package pbxauth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// deviceCookie returns the device cookie an answer set, or nil.
func deviceCookie(r *apitest.Response) *http.Cookie {
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == pbxauth.DeviceCookieName || c.Name == "__Host-"+pbxauth.DeviceCookieName {
			return c
		}
	}
	return nil
}

// withDevice sends a sign-in from a client without cookies, with the device
// cookie value (if any), and returns the answer.
func withDevice(t *testing.T, e *env, device string, body map[string]any) *apitest.Response {
	t.Helper()
	c := apitest.NewClient(t, e.c.URL)
	h := []string{}
	if device != "" {
		h = []string{"Cookie", pbxauth.DeviceCookieName + "=" + device}
	}
	return c.Do("POST", "/auth/sign_in", body, h...)
}

// TestDeviceCookie: a sign-in that issues tokens sets the device cookie
// (HttpOnly, SameSite=Lax, Path=/, 400 days; __Host- and Secure unless
// InsecureCookies); one that presents it gets it rotated in place.
func TestDeviceCookie(t *testing.T) {
	secure := newEnv(t)
	c := deviceCookie(secure.c.Do("POST", "/auth/sign_in", aliceCreds()))
	if c == nil || c.Name != "__Host-pbxauth_device" || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode ||
		c.Path != "/" || c.MaxAge != 400*24*3600 || c.Domain != "" || len(c.Value) < 43 {
		t.Fatalf("device cookie: %+v", c)
	}

	e := newEnv(t, plainHTTP)
	first := deviceCookie(withDevice(t, e, "", aliceCreds()))
	if first == nil || first.Name != pbxauth.DeviceCookieName || first.Secure {
		t.Fatalf("device cookie without Secure: %+v", first)
	}
	second := deviceCookie(withDevice(t, e, first.Value, aliceCreds()))
	if second == nil || second.Value == first.Value {
		t.Fatalf("rotation: %+v after %+v", second, first)
	}
	// The old value is spent: it makes a new device, not a rotation.
	lockAccount(t, e)
	if r := withDevice(t, e, first.Value, aliceCreds()); r.Status != 429 {
		t.Fatalf("a rotated-away cookie during the account's lock: %d", r.Status)
	}
	if r := withDevice(t, e, second.Value, aliceCreds()); r.Status != 200 {
		t.Fatalf("the current cookie during the account's lock: %d %s", r.Status, r.Body)
	}
	// A flow token is no sign-in: no cookie.
	e.clock.Advance(time.Minute)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	if r := withDevice(t, e, "", aliceCreds()); r.String("token") == "" || deviceCookie(r) != nil {
		t.Fatalf("the flow answer: %s, cookie %+v", r.Body, deviceCookie(r))
	}
}

// lockAccount locks alice's account key with five wrong passwords from a
// client without a device.
func lockAccount(t *testing.T, e *env) {
	t.Helper()
	for i := range 5 {
		if r := withDevice(t, e, "", wrongAlice()); r.Status != 401 {
			t.Fatalf("attacker's failure %d: %d", i+1, r.Status)
		}
	}
	if r := withDevice(t, e, "", aliceCreds()); r.Status != 429 {
		t.Fatalf("account not locked: %d", r.Status)
	}
}

// TestDeviceHasItsOwnLock: the account's lock, which other clients caused,
// does not refuse a known device of the account (nor another account's
// device); a device's failures lock only the device, never the account;
// 40 concurrent wrong passwords through one device check at most 5.
func TestDeviceHasItsOwnLock(t *testing.T) {
	e := newEnv(t, plainHTTP, slowHashes)
	dev := deviceCookie(withDevice(t, e, "", aliceCreds())).Value
	lockAccount(t, e)
	r := withDevice(t, e, dev, aliceCreds())
	if r.Status != 200 {
		t.Fatalf("known device during the account's lock: %d %s", r.Status, r.Body)
	}
	dev = deviceCookie(r).Value
	adminDev := deviceCookie(withDevice(t, e, "", map[string]any{"username": "admin", "password": adminPW})).Value
	if r := withDevice(t, e, adminDev, aliceCreds()); r.Status != 429 {
		t.Fatalf("another user's device during alice's lock: %d", r.Status)
	}

	e.clock.Advance(time.Minute) // the account's lock ends
	n := tally(parallel(40, func(int) int { return withDevice(t, e, dev, wrongAlice()).Status }))
	if n[401] == 0 || n[401] > 5 || n[401]+n[429]+n[503] != 40 {
		t.Fatalf("40 concurrent wrong passwords through a device: %v", n)
	}
	if r := withDevice(t, e, dev, aliceCreds()); r.Status != 429 {
		t.Fatalf("the device after its own failures: %d", r.Status)
	}
	// The account key saw none of them.
	e.signIn(t, aliceCreds())
}

// TestDeviceSignInsPerMinute: at most 10 sign-ins per device per minute,
// rotations notwithstanding.
func TestDeviceSignInsPerMinute(t *testing.T) {
	e := newEnv(t, plainHTTP)
	dev := deviceCookie(withDevice(t, e, "", aliceCreds())).Value
	for i := range 10 {
		r := withDevice(t, e, dev, aliceCreds())
		if r.Status != 200 {
			t.Fatalf("device sign-in %d: %d", i+1, r.Status)
		}
		dev = deviceCookie(r).Value
	}
	r := withDevice(t, e, dev, aliceCreds())
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("11th sign-in of the device within a minute: %d", r.Status)
	}
	e.clock.Advance(time.Minute)
	if r := withDevice(t, e, dev, aliceCreds()); r.Status != 200 {
		t.Fatalf("the next minute: %d", r.Status)
	}
}

// TestDevicesEvictedAndForgotten: a user keeps Limits.DevicesPerUser
// devices, the least recently used evicted; an unlock forgets them all (a
// password reset too: TestResetForgetsDevices).
func TestDevicesEvictedAndForgotten(t *testing.T) {
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.Limits.DevicesPerUser = 3 })
	var devs []string
	for range 4 {
		devs = append(devs, deviceCookie(withDevice(t, e, "", aliceCreds())).Value)
		e.clock.Advance(time.Second)
	}
	lockAccount(t, e)
	if r := withDevice(t, e, devs[0], aliceCreds()); r.Status != 429 {
		t.Fatalf("the evicted device: %d", r.Status)
	}
	r := withDevice(t, e, devs[1], aliceCreds())
	if r.Status != 200 {
		t.Fatalf("a kept device: %d", r.Status)
	}
	kept := deviceCookie(r).Value
	// An unlock forgets every device (their locks are their own).
	if err := pbxauth.ClearLimits(e.auth, acmeDomain, "alice", aliceID); err != nil {
		t.Fatal(err)
	}
	lockAccount(t, e)
	if r := withDevice(t, e, kept, aliceCreds()); r.Status != 429 {
		t.Fatalf("a device after an unlock forgot it: %d", r.Status)
	}
}

// TestKnownDeviceLane: while requests without a known device saturate their
// half of the hashing slots and their queue, a known device still signs in;
// one without gets 503.
func TestKnownDeviceLane(t *testing.T) {
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.MaxConcurrentHashes, c.HashQueue = 4, 4 })
	dev := deviceCookie(withDevice(t, e, "", aliceCreds())).Value
	release := pbxauth.SaturateOrdinaryLane(e.auth)
	defer release()
	if r := withDevice(t, e, "", aliceCreds()); r.Status != 503 {
		t.Fatalf("without a device: %d", r.Status)
	}
	for range 3 {
		r := withDevice(t, e, dev, aliceCreds())
		if r.Status != 200 {
			t.Fatalf("known device with the ordinary lane saturated: %d %s", r.Status, r.Body)
		}
		dev = deviceCookie(r).Value
	}
}

// TestResetForgetsDevices: a password reset deletes the user's known
// devices: their cookies no longer pass the account's lock.
func TestResetForgetsDevices(t *testing.T) {
	e := newMailEnv(t, plainHTTP)
	dev := deviceCookie(withDevice(t, e.env, "", aliceCreds())).Value
	e.forget(t, "alice")
	if r := e.reset(t, e.resetToken(t, aliceEmail), "new-pass-456"); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	newCreds := map[string]any{"username": "alice", "password": "new-pass-456", "domain": acmeDomain}
	for range 5 {
		withDevice(t, e.env, "", wrongAlice())
	}
	if r := withDevice(t, e.env, dev, newCreds); r.Status != 429 {
		t.Fatalf("a device from before the reset during the account's lock: %d", r.Status)
	}
}
