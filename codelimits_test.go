// Black-box tests of the second-factor limits: the per-user wrong-code lock
// across flows and the per-user mail budget.

package pbxauth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// wrongCodes spends n wrong codes on fresh flows of alice (at most 4 per
// flow, so no flow ends by its own limit) and checks each is 401.
func wrongCodes(t *testing.T, e *mailEnv, n int) {
	t.Helper()
	for n > 0 {
		flow := e.startTwoFactor(t, aliceCreds())
		for range min(n, 4) {
			if s := e.verify(t, flow, "000000"); s != 401 {
				t.Fatalf("wrong code: %d", s)
			}
			n--
		}
	}
}

// TestCodeLockAcrossFlows: fresh sign-ins do not reset the count of wrong
// codes. The 10th consecutive wrong code locks alice's second factor for 15
// minutes — verify_otp and send_otp are 429, also for the right code — and
// she is mailed once; the next lock lasts twice as long; a correct code
// resets the count.
func TestCodeLockAcrossFlows(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	wrongCodes(t, e, 10)
	r := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
	if r.Status != 429 || r.Header.Get("Retry-After") != "900" {
		t.Fatalf("the right code during the lock: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if r := e.sendOTP(flow); r.Status != 429 {
		t.Fatalf("send_otp during the lock: %d", r.Status)
	}
	m := e.smtp.Receive(t)
	if len(m.To) != 1 || m.To[0] != aliceEmail || !strings.Contains(m.Text, "locked for 15 minutes") {
		t.Fatalf("lock mail: %+v", m)
	}

	e.clock.Advance(15 * time.Minute)
	wrongCodes(t, e, 10)
	flow = e.startTwoFactor(t, aliceCreds())
	if r := e.sendOTP(flow); r.Status != 429 || r.Header.Get("Retry-After") != "1800" {
		t.Fatalf("second lock: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	e.clock.Advance(30 * time.Minute)
	flow = e.startTwoFactor(t, aliceCreds())
	if s := e.verify(t, flow, e.sendCode(t, flow, aliceEmail)); s != 200 {
		t.Fatalf("the right code after the lock: %d", s)
	}
	// Reset: nine wrong codes do not lock, and the doubling starts over.
	wrongCodes(t, e, 9)
	flow = e.startTwoFactor(t, aliceCreds())
	if s := e.verify(t, flow, e.sendCode(t, flow, aliceEmail)); s != 200 {
		t.Fatalf("after nine wrong codes: %d", s)
	}
	wrongCodes(t, e, 10)
	flow = e.startTwoFactor(t, aliceCreds())
	if r := e.sendOTP(flow); r.Status != 429 || r.Header.Get("Retry-After") != "900" {
		t.Fatalf("a lock after a reset: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Subject, "locked") {
		t.Fatalf("the first lock after a reset is mailed again: %+v", m)
	}
	// An unlock lifts it (for flows begun after it).
	if err := pbxauth.ClearLimits(e.auth, acmeDomain, "alice", aliceID); err != nil {
		t.Fatal(err)
	}
	flow = e.startTwoFactor(t, aliceCreds())
	if s := e.verify(t, flow, e.sendCode(t, flow, aliceEmail)); s != 200 {
		t.Fatalf("after an unlock: %d", s)
	}
}

// TestCodeLockForever: after 100 consecutive wrong codes the second factor
// stays locked until an unlock.
func TestCodeLockForever(t *testing.T) {
	e, _ := aliceFlow(t, func(c *pbxauth.Config) { c.Limits.CodeMails = 1000 })
	for range 10 {
		wrongCodes(t, e, 10)
		e.clock.Advance(24*time.Hour + time.Minute)
	}
	e.clock.Advance(365 * 24 * time.Hour)
	flow := e.startTwoFactor(t, aliceCreds())
	if r := e.sendOTP(flow); r.Status != 429 {
		t.Fatalf("a year after 100 wrong codes: %d", r.Status)
	}
	if err := pbxauth.ClearLimits(e.auth, acmeDomain, "alice", aliceID); err != nil {
		t.Fatal(err)
	}
	e.smtp.Receive(t) // the mail of the first lock
	flow = e.startTwoFactor(t, aliceCreds())
	if s := e.verify(t, flow, e.sendCode(t, flow, aliceEmail)); s != 200 {
		t.Fatalf("after an unlock: %d", s)
	}
}

// TestConcurrentWrongCodes: 40 wrong codes at once over 8 flows are at
// most 10 checks (401); the rest are 429.
func TestConcurrentWrongCodes(t *testing.T) {
	e, _ := aliceFlow(t)
	var flows []string
	for range 8 {
		flows = append(flows, e.startTwoFactor(t, aliceCreds()))
	}
	n := tally(parallel(40, func(i int) int { return e.verify(t, flows[i%8], "000000") }))
	if n[401] == 0 || n[401] > 10 || n[401]+n[429] != 40 {
		t.Fatalf("40 concurrent wrong codes: %v, want at most 10 of 401 and the rest 429", n)
	}
}

// TestCodeMailsPerUser: at most 10 second-factor mails per user per hour,
// across flows; a failed send does not count.
func TestCodeMailsPerUser(t *testing.T) {
	e, _ := aliceFlow(t)
	for range 10 {
		flow := e.startTwoFactor(t, aliceCreds())
		e.sendCode(t, flow, aliceEmail)
	}
	flow := e.startTwoFactor(t, aliceCreds())
	r := e.sendOTP(flow)
	if r.Status != 429 || r.Header.Get("Retry-After") != "3600" {
		t.Fatalf("11th mail within the hour: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	e.clock.Advance(time.Hour)
	flow = e.startTwoFactor(t, aliceCreds())
	e.sendCode(t, flow, aliceEmail)
}

// TestCodeLockOfADevice: wrong codes of flows begun without a device lock
// the user's second factor, but not a flow begun through one of the user's
// known devices, which counts its own wrong codes on that device.
func TestCodeLockOfADevice(t *testing.T) {
	e := newMailEnv(t, plainHTTP)
	dev := deviceCookie(withDevice(t, e.env, "", aliceCreds())).Value
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	attacker := apitest.NewClient(t, e.c.URL) // knows the password, has no device
	for range 3 {
		flow := attacker.Do("POST", "/auth/sign_in", aliceCreds()).String("token")
		for range 4 {
			attacker.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": "000000"})
		}
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Subject, "locked") {
		t.Fatalf("lock mail: %+v", m)
	}
	user := apitest.NewClient(t, e.c.URL)
	device := []string{"Cookie", pbxauth.DeviceCookieName + "=" + dev}
	flow := user.Do("POST", "/auth/sign_in", aliceCreds(), device...).String("token")
	if r := user.Do("POST", "/auth/send_otp", map[string]any{"token": flow}); r.Status != 200 {
		t.Fatalf("send_otp through the device during the user's code lock: %d %s", r.Status, r.Body)
	}
	code := codeRE.FindString(e.smtp.Receive(t).Text)
	if r := user.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code}); r.Status != 200 || deviceCookie(r) == nil {
		t.Fatalf("verify_otp through the device: %d %s", r.Status, r.Body)
	}
	// The attacker is still locked out.
	flow = attacker.Do("POST", "/auth/sign_in", aliceCreds()).String("token")
	if r := attacker.Do("POST", "/auth/send_otp", map[string]any{"token": flow}); r.Status != 429 {
		t.Fatalf("send_otp without the device: %d", r.Status)
	}
}
