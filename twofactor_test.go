package pbxauth_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"text/template"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// aliceFlow serves a mail env in which alice has her own second factor,
// signs her in and returns the env and the second-factor flow token.
func aliceFlow(t *testing.T, configure ...func(*pbxauth.Config)) (*mailEnv, string) {
	t.Helper()
	e := newMailEnv(t, configure...)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	return e, e.startTwoFactor(t, aliceCreds())
}

// sendOTP posts send_otp for flow.
func (e *env) sendOTP(flow string) *apitest.Response {
	return e.c.Do("POST", "/auth/send_otp", map[string]any{"token": flow})
}

// otherCode returns a well-formed code that is not code.
func otherCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1000000)
}

func TestSecondFactorFlow(t *testing.T) {
	e, flow := aliceFlow(t)

	// A flow token is neither a bearer token nor a refresh token.
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(flow)...); r.Status != 401 {
		t.Errorf("flow token as bearer: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": flow}); r.Status != 401 {
		t.Errorf("flow token as refresh token: %d %s", r.Status, r.Body)
	}

	code := e.sendCode(t, flow, aliceEmail)
	r := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
	if r.Status != 200 || r.String("token_type") != "Bearer" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("verify_otp: %d %s", r.Status, r.Body)
	}
	u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...)
	if u.Status != 200 || u.String("role") != "Admin" || u.JSON()["password_verified"] != true {
		t.Fatalf("user after the second factor: %d %s", u.Status, u.Body)
	}
	if n := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": r.String("refresh_token")}); n.Status != 200 {
		t.Errorf("refresh after the second factor: %d %s", n.Status, n.Body)
	}

	// The code, and the flow, work once.
	if s := e.verify(t, flow, code); s != 401 {
		t.Errorf("the code a second time: %d", s)
	}
	if r := e.sendOTP(flow); r.Status != 401 {
		t.Errorf("send_otp on a finished flow: %d", r.Status)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(flow)...); r.Status != 401 {
		t.Errorf("flow token as bearer after the flow: %d", r.Status)
	}
}

func TestSecondFactorMailText(t *testing.T) {
	e, flow := aliceFlow(t, func(c *pbxauth.Config) {
		c.Mail.SecondFactor.Subject = template.Must(template.New("s").Parse("Code {{.Code}} for {{.Username}}\nat {{.Domain}}"))
	})
	e.clock.Advance(time.Minute) // the code lives until the flow ends: 9 minutes now
	if r := e.sendOTP(flow); r.Status != 200 {
		t.Fatalf("send_otp: %d %s", r.Status, r.Body)
	}
	m := e.smtp.Receive(t)
	code := codeRE.FindString(m.Text)
	if m.Subject != "Code "+code+" for alice at "+acmeDomain {
		t.Errorf("overridden subject = %q", m.Subject)
	}
	if !strings.Contains(m.Text, "code is "+code) || !strings.Contains(m.Text, "valid for 9 minutes") || !strings.Contains(m.HTML, ">"+code+"<") {
		t.Errorf("default bodies:\n%s\n%s", m.Text, m.HTML)
	}
}

func TestSecondFactorResendReplacesCode(t *testing.T) {
	e, flow := aliceFlow(t)
	old := e.sendCode(t, flow, aliceEmail)
	var code string
	for code = old; code == old; { // one chance in a million that they are equal
		e.clock.Advance(30 * time.Second)
		code = e.sendCode(t, flow, aliceEmail)
	}
	if s := e.verify(t, flow, old); s != 401 {
		t.Errorf("the older code after a resend: %d", s)
	}
	if s := e.verify(t, flow, code); s != 200 {
		t.Errorf("the newest code: %d", s)
	}
}

func TestSecondFactorWrongCodesEndFlow(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	// Malformed codes are refused without costing an attempt.
	for _, bad := range []string{"", "12345", "1234567", "12a456", " 12345"} {
		if r := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": bad}); r.Status != 400 || r.Code() != "INVALID_ARGUMENT" {
			t.Errorf("code %q: %d %s", bad, r.Status, r.Body)
		}
	}
	for i := range 5 {
		r := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": otherCode(code)})
		if r.Status != 401 || r.Code() != "UNAUTHORIZED" {
			t.Fatalf("wrong code %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	if s := e.verify(t, flow, code); s != 401 {
		t.Errorf("the right code after 5 wrong ones: %d", s)
	}
	if r := e.sendOTP(flow); r.Status != 401 {
		t.Errorf("send_otp after 5 wrong codes: %d", r.Status)
	}
}

// TestSecondFactorConcurrentGuesses: attempts are counted before the
// comparison, so a burst of guesses cannot get past the limit.
func TestSecondFactorConcurrentGuesses(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if s := e.verify(t, flow, otherCode(code)); s != 401 {
				t.Errorf("wrong code: %d", s)
			}
		})
	}
	wg.Wait()
	if s := e.verify(t, flow, code); s != 401 {
		t.Errorf("the right code after 20 concurrent wrong ones: %d", s)
	}
}

func TestSecondFactorSendLimits(t *testing.T) {
	e, flow := aliceFlow(t)
	e.sendCode(t, flow, aliceEmail)
	for _, wait := range []string{"30", "10"} {
		r := e.sendOTP(flow)
		if r.Status != 429 || r.Code() != "TOO_MANY_REQUESTS" || r.Header.Get("Retry-After") != wait {
			t.Fatalf("send within 30 s: %d %s Retry-After %q, want %s", r.Status, r.Body, r.Header.Get("Retry-After"), wait)
		}
		e.clock.Advance(20 * time.Second)
	}
	var last string
	for range 4 { // sends 2 to 5
		last = e.sendCode(t, flow, aliceEmail)
		e.clock.Advance(30 * time.Second)
	}
	r := e.sendOTP(flow)
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("a sixth send: %d %s Retry-After %q", r.Status, r.Body, r.Header.Get("Retry-After"))
	}
	if len(e.smtp.Messages) != 0 {
		t.Error("a refused send mailed a code")
	}
	// The flow itself still works with the last code.
	if s := e.verify(t, flow, last); s != 200 {
		t.Errorf("the last code after the send limit: %d", s)
	}
}

// TestSecondFactorMailDown: a failed send is a 503 that costs nothing; once
// the server is back, the same flow works at once.
func TestSecondFactorMailDown(t *testing.T) {
	e, flow := aliceFlow(t)
	e.smtp.Stop()
	for range 6 { // more than the send budget, faster than the 30 s gap
		r := e.sendOTP(flow)
		if r.Status != 503 || r.Code() != "UNAVAILABLE" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("send_otp with the mail server down: %d %s %v", r.Status, r.Body, r.Header)
		}
	}
	e.smtp.Restart(t)
	code := e.sendCode(t, flow, aliceEmail)
	if s := e.verify(t, flow, code); s != 200 {
		t.Fatalf("verify after the mail server came back: %d", s)
	}
}

// TestSecondFactorFailedSendsBounded: a flow fails at most 10 sends to a
// dead server (503), also under 40 concurrent sends; every send after is
// 429, also once the server is back.
func TestSecondFactorFailedSendsBounded(t *testing.T) {
	e, flow := aliceFlow(t)
	e.smtp.Stop()
	statuses := make(chan int, 40)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 40 {
		wg.Go(func() {
			<-start
			statuses <- e.sendOTP(flow).Status
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	n := map[int]int{}
	for s := range statuses {
		n[s]++
	}
	if n[503] < 1 || n[503] > 10 || n[503]+n[429] != 40 {
		t.Fatalf("statuses %v, want 1 to 10 × 503, the rest 429", n)
	}
	failed := n[503]
	for range 20 {
		if e.sendOTP(flow).Status == 503 {
			failed++
		}
	}
	if failed != 10 {
		t.Fatalf("%d failed sends, want 10", failed)
	}
	e.smtp.Restart(t)
	if r := e.sendOTP(flow); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("send_otp after 10 failed sends: %d %s", r.Status, r.Body)
	}
}

// TestSecondFactorMailDownKeepsOldCode: a resend that fails leaves the
// code already mailed valid.
func TestSecondFactorMailDownKeepsOldCode(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	e.clock.Advance(30 * time.Second)
	e.smtp.Stop()
	if r := e.sendOTP(flow); r.Status != 503 {
		t.Fatalf("send_otp with the mail server down: %d %s", r.Status, r.Body)
	}
	if s := e.verify(t, flow, code); s != 200 {
		t.Fatalf("the mailed code after a failed resend: %d", s)
	}
}

func TestSecondFactorExpires(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	e.clock.Advance(10 * time.Minute)
	if s := e.verify(t, flow, code); s != 401 {
		t.Errorf("a code after 10 minutes: %d", s)
	}
}

// TestSecondFactorDisabledMeanwhile: verify_otp reloads the user.
func TestSecondFactorDisabledMeanwhile(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	e.changeUser(t, aliceID, func(u *store.User) { u.Disabled = true })
	if s := e.verify(t, flow, code); s != 401 {
		t.Errorf("verify for a user disabled meanwhile: %d", s)
	}
}

// TestSecondFactorSwitches: the tenant-wide and system-wide switches
// require the second factor of users whose own flag is off.
func TestSecondFactorSwitches(t *testing.T) {
	ctx := context.Background()
	e := newMailEnv(t)

	acme, err := e.store.Tenant(ctx, acmeID)
	if err != nil {
		t.Fatal(err)
	}
	acme.EnableTwoFactor = true
	if err := e.store.UpdateTenant(ctx, acme); err != nil {
		t.Fatal(err)
	}
	flow := e.startTwoFactor(t, aliceCreds())
	if s := e.verify(t, flow, e.sendCode(t, flow, aliceEmail)); s != 200 {
		t.Fatalf("tenant-wide second factor: verify %d", s)
	}
	// The other tenant and system users are not concerned.
	e.signIn(t, map[string]any{"username": "alice", "password": "other-pw-123", "domain": "other.example.test"})
	e.signIn(t, map[string]any{"username": "admin", "password": adminPW})

	sys, err := e.store.System(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sys.EnableTwoFactor = true
	if err := e.store.PutSystem(ctx, sys); err != nil {
		t.Fatal(err)
	}
	flow = e.startTwoFactor(t, map[string]any{"username": "admin", "password": adminPW})
	if s := e.verify(t, flow, e.sendCode(t, flow, "root@example.test")); s != 200 {
		t.Fatalf("system-wide second factor: verify %d", s)
	}
	// System-wide means system users: a tenant without the switch is not concerned.
	e.signIn(t, map[string]any{"username": "alice", "password": "other-pw-123", "domain": "other.example.test"})
}

// TestFlowPurposes: each flow token works for its own step only.
func TestFlowPurposes(t *testing.T) {
	e := newMailEnv(t)
	e.changeUser(t, "user-alice-other", func(u *store.User) {
		u.TwoFactorEnabled, u.Email = true, "alice@other.example.test"
	})
	e.forget(t, "alice")
	reset := e.resetToken(t, aliceEmail)
	twoFactor := e.startTwoFactor(t, map[string]any{"username": "alice", "password": "other-pw-123", "domain": "other.example.test"})

	if r := e.sendOTP(reset); r.Status != 401 {
		t.Errorf("reset token on send_otp: %d", r.Status)
	}
	if s := e.verify(t, reset, "123456"); s != 401 {
		t.Errorf("reset token on verify_otp: %d", s)
	}
	if r := e.c.Do("POST", "/auth/reset_password", map[string]any{"token": twoFactor, "new_password": "brand-new-pw-1"}); r.Status != 401 {
		t.Errorf("second-factor token on reset_password: %d", r.Status)
	}
	// Both still work for their own step.
	if s := e.verify(t, twoFactor, e.sendCode(t, twoFactor, "alice@other.example.test")); s != 200 {
		t.Errorf("second-factor flow after misuse: %d", s)
	}
	if r := e.c.Do("POST", "/auth/reset_password", map[string]any{"token": reset, "new_password": "brand-new-pw-1"}); r.Status != 200 {
		t.Errorf("reset flow after misuse: %d %s", r.Status, r.Body)
	}
}

func TestSecondFactorNoEmail(t *testing.T) {
	e := newMailEnv(t)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled, u.Email = true, "" })
	flow := e.startTwoFactor(t, aliceCreds())
	if r := e.sendOTP(flow); r.Status != 403 || r.Code() != "FORBIDDEN" {
		t.Errorf("send_otp without an address: %d %s", r.Status, r.Body)
	}
}

// TestSecondFactorVoidedByReset: a password reset while a second-factor
// flow waits for its code voids the flow, code or not: it proved the old
// password.
func TestSecondFactorVoidedByReset(t *testing.T) {
	e, flow := aliceFlow(t)
	code := e.sendCode(t, flow, aliceEmail)
	e.forget(t, "alice")
	token := e.resetToken(t, aliceEmail)
	if r := e.reset(t, token, "brand-new-pw-1"); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if s := e.verify(t, flow, code); s != 401 {
		t.Errorf("verify_otp of a flow begun before the reset: %d", s)
	}
}

// TestSecondFactorAfterHashUpgrade: a sign-in that upgrades the password
// hash still completes its second factor.
func TestSecondFactorAfterHashUpgrade(t *testing.T) {
	e, flow := aliceFlow(t, func(c *pbxauth.Config) { c.Argon2 = pbxauth.Argon2Params{Memory: 128, Time: 2, Threads: 1} })
	code := e.sendCode(t, flow, aliceEmail)
	if s := e.verify(t, flow, code); s != 200 {
		t.Errorf("verify_otp after an upgrade: %d", s)
	}
}
