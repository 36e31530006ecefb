// Black-box tests that a request refused by a limit (429) writes nothing
// to the Store: a flood of refused requests must not become a flood of
// writes (SQLite has one writer). Each floods the way the attacker did.

package pbxauth_test

import (
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/store"
)

// TestRefusedFlowStartsWriteNothing: once an address has used its 20 flow
// starts of the minute, 100 more forget_password requests from it at once
// are all 429 and write nothing to the Store; the limit still counts: the
// next minute is open again, and another address is not affected.
func TestRefusedFlowStartsWriteNothing(t *testing.T) {
	st := newWriteCounter(t)
	e := newEnvWith(t, st, proxied, volatileMail, func(c *pbxauth.Config) { c.CallbackOrigins = []string{"http://127.0.0.1:9999"} })
	// An unknown user: the mail worker then looks up and writes nothing.
	forget := map[string]any{"domain": acmeDomain, "username": "nobody", "callback_url": callbackURL}
	for i := range 20 {
		if r := e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.5")...); r.Status != 200 {
			t.Fatalf("flow start %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	st.reset()
	n := tally(parallel(100, func(int) int {
		return e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.5")...).Status
	}))
	if n[429] != 100 {
		t.Fatalf("100 flow starts over the limit: %v, want 100 of 429", n)
	}
	st.wantNoWrites(t, "100 refused forget_password requests")
	if r := e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.6")...); r.Status != 200 {
		t.Fatalf("another address: %d", r.Status)
	}
	e.clock.Advance(time.Minute)
	if r := e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.5")...); r.Status != 200 {
		t.Fatalf("the next minute: %d", r.Status)
	}
}

// TestRefusedSignInsWriteNothing: sign-ins refused because the account is
// locked, the address is locked, or every attempt slot of the account is
// taken by attempts being checked, are 429 and write nothing — 40 at once,
// wrong and right passwords mixed.
func TestRefusedSignInsWriteNothing(t *testing.T) {
	flood := func(t *testing.T, e *env, st *writeCounter, what string, hdr ...string) {
		t.Helper()
		st.reset()
		n := tally(parallel(40, func(i int) int {
			creds := wrongAlice()
			if i%4 == 0 {
				creds = aliceCreds()
			}
			return e.c.Do("POST", "/auth/sign_in", creds, hdr...).Status
		}))
		if n[429] != 40 {
			t.Fatalf("40 sign-ins, %s: %v, want 40 of 429", what, n)
		}
		st.wantNoWrites(t, "40 sign-ins refused because "+what)
	}

	t.Run("locked account", func(t *testing.T) {
		st := newWriteCounter(t)
		e := newEnvWith(t, st, volatileMail)
		for range 5 {
			if r := e.c.Do("POST", "/auth/sign_in", wrongAlice()); r.Status != 401 {
				t.Fatalf("wrong password: %d", r.Status)
			}
		}
		flood(t, e, st, "the account is locked")
	})

	t.Run("locked address", func(t *testing.T) {
		st := newWriteCounter(t)
		e := newEnvWith(t, st, volatileMail, proxied)
		failFrom(t, e, "198.51.100.7", 10)
		flood(t, e, st, "the address is locked", from("198.51.100.7")...)
	})

	// Through a known device: its own lock, and its sign-ins per minute.
	t.Run("locked device", func(t *testing.T) {
		st := newWriteCounter(t)
		e := newEnvWith(t, st, volatileMail, plainHTTP)
		dev := deviceCookie(withDevice(t, e, "", aliceCreds())).Value
		for range 5 {
			if r := withDevice(t, e, dev, wrongAlice()); r.Status != 401 {
				t.Fatalf("wrong password through the device: %d", r.Status)
			}
		}
		flood(t, e, st, "the device is locked", "Cookie", pbxauth.DeviceCookieName+"="+dev)
	})

	t.Run("device over its sign-ins", func(t *testing.T) {
		st := newWriteCounter(t)
		e := newEnvWith(t, st, volatileMail, plainHTTP)
		dev := deviceCookie(withDevice(t, e, "", aliceCreds())).Value
		for i := range 10 {
			r := withDevice(t, e, dev, aliceCreds())
			if r.Status != 200 {
				t.Fatalf("device sign-in %d: %d", i+1, r.Status)
			}
			dev = deviceCookie(r).Value
		}
		flood(t, e, st, "the device made its 10 sign-ins of the minute", "Cookie", pbxauth.DeviceCookieName+"="+dev)
	})

	t.Run("every slot taken", func(t *testing.T) {
		st := newWriteCounter(t)
		e := newEnvWith(t, st, volatileMail, func(c *pbxauth.Config) { c.MaxConcurrentHashes, c.HashQueue = 1, 10 })
		// Five wrong passwords take the account's five slots and wait
		// for hashing, which the test holds.
		queued, release := pbxauth.HoldHashing(e.auth)
		var wg sync.WaitGroup
		defer wg.Wait()
		var once sync.Once
		defer once.Do(release) // also when the flood fails
		statuses := make([]int, 5)
		for i := range 5 {
			wg.Go(func() { statuses[i] = e.c.Do("POST", "/auth/sign_in", wrongAlice()).Status })
		}
		queued(5)
		flood(t, e, st, "every slot is taken")
		once.Do(release)
		wg.Wait()
		if n := tally(statuses); n[401] != 5 {
			t.Fatalf("the five that held the slots: %v, want 5 of 401", n)
		}
	})
}

// TestRefusedCodeRequestsWriteNothing: send_otp refused by the 30 s
// between two codes of a flow or by the user's 10 code mails an hour, and
// verify_otp and send_otp refused by the second factor's lock, are 429
// and write nothing — 20 at once each.
func TestRefusedCodeRequestsWriteNothing(t *testing.T) {
	st := newWriteCounter(t)
	e := &mailEnv{smtp: smtptest.Start(t, smtptest.Options{})}
	e.env = newEnvWith(t, st, volatileMail, func(c *pbxauth.Config) { c.Mailer = e.smtpMailer(t) })
	t.Cleanup(func() { e.auth.Close() })
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	flood := func(what string, do func() int) {
		t.Helper()
		st.reset()
		if n := tally(parallel(20, func(int) int { return do() })); n[429] != 20 {
			t.Fatalf("20 requests, %s: %v, want 20 of 429", what, n)
		}
		st.wantNoWrites(t, "20 requests refused because "+what)
	}

	flow := e.startTwoFactor(t, aliceCreds())
	e.sendCode(t, flow, aliceEmail)
	flood("a code was sent less than 30 s ago", func() int { return e.sendOTP(flow).Status })

	for range 9 {
		e.sendCode(t, e.startTwoFactor(t, aliceCreds()), aliceEmail)
	}
	flow = e.startTwoFactor(t, aliceCreds())
	flood("the user had 10 code mails this hour", func() int { return e.sendOTP(flow).Status })

	wrongCodes(t, e, 10)
	flood("the second factor is locked", func() int { return e.verify(t, flow, "123456") })
	flood("the second factor is locked", func() int { return e.sendOTP(flow).Status })
}

// TestRacingCodeSendsWriteOnce: 20 send_otp at once on one flow, each
// held until all have read the flow (a barrierStore at Flow), so that all
// pass what the flow tells: one code is sent, the other 19 are 429, and
// they take no place in the user's code mails nor in the flow's failed
// sends — not even one given back after — so that a double click cannot
// use up the mails of the user's other flows meanwhile. Their only
// writes are the flow's compare-and-swaps they lose.
func TestRacingCodeSendsWriteOnce(t *testing.T) {
	bs := newBarrierStore(t, "Flow")
	st := &writeCounter{Store: bs, writes: map[string]int{}}
	e := &mailEnv{smtp: smtptest.Start(t, smtptest.Options{})}
	e.env = newEnvWith(t, st, volatileMail, func(c *pbxauth.Config) { c.Mailer = e.smtpMailer(t) })
	t.Cleanup(func() { e.auth.Close() })
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	flow := e.startTwoFactor(t, aliceCreds())

	before := st.snapshot()
	bs.arm(20)
	if n := tally(parallel(20, func(int) int { return e.sendOTP(flow).Status })); n[200] != 1 || n[429] != 19 {
		t.Fatalf("20 send_otp at once on one flow: %v, want one 200 and 19 of 429", n)
	}
	want := map[string]int{
		"AddCounterBelow code-mails": 1, "AddCounter code-mails": 1, // the sent code's place, and its window's anchor
		"AddCounterBelow otp-send-failed": 1, "AddCounter otp-send-failed": 1, // its failed-send slot, given back once sent
	}
	if got := st.since(before, "UpdateFlow"); !maps.Equal(got, want) {
		t.Errorf("20 send_otp at once wrote %v besides the flow, want only the sent code's %v", got, want)
	}
	e.smtp.Receive(t)
}

// TestRacingCodeSendsAcrossFlows: 8 send_otp at once, each on a flow of
// its own of one user who may be mailed 3 codes, each held until all have
// reserved their flows (a barrierStore at UpdateFlow): 3 are sent and 5
// lose the user's code mails — and give their flows' reservations back:
// sent again, each is refused by the user's mails (until the hour is
// over), not by the 30 s between two codes of its flow, and the user's
// count of code mails holds the 3 sent only.
func TestRacingCodeSendsAcrossFlows(t *testing.T) {
	bs := newBarrierStore(t, "UpdateFlow")
	e := &mailEnv{smtp: smtptest.Start(t, smtptest.Options{})}
	e.env = newEnvWith(t, bs, volatileMail, func(c *pbxauth.Config) {
		c.Mailer = e.smtpMailer(t)
		c.Limits.CodeMails = 3
		c.Limits.DeviceSignIns = 100 // the 8 sign-ins come from one browser
	})
	t.Cleanup(func() { e.auth.Close() })
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	flows := make([]string, 8)
	for i := range flows {
		flows[i] = e.startTwoFactor(t, aliceCreds())
	}
	bs.arm(len(flows))
	statuses := parallel(len(flows), func(i int) int { return e.sendOTP(flows[i]).Status })
	if n := tally(statuses); n[200] != 3 || n[429] != 5 {
		t.Fatalf("8 send_otp at once on 8 flows of a user with 3 code mails: %v, want 3 of 200 and 5 of 429", n)
	}
	for range 3 {
		e.smtp.Receive(t)
	}
	for i, s := range statuses {
		if s != 429 {
			continue
		}
		r := e.sendOTP(flows[i])
		if retry, _ := strconv.Atoi(r.Header.Get("Retry-After")); r.Status != 429 || retry <= 30 {
			t.Errorf("a refused flow sent again: %d, Retry-After %q: want 429 until the user's hour of mails is over, not the 30 s of its own last code", r.Status, r.Header.Get("Retry-After"))
		}
	}
	e.clock.Advance(time.Hour)
	if s := e.sendOTP(e.startTwoFactor(t, aliceCreds())).Status; s != 200 {
		t.Errorf("a send in the next hour: %d", s)
	}
}
