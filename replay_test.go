// Black-box tests that a one-time code accepted already — the same app
// step, a used recovery code, the same code submitted twice at once — is
// answered as a wrong code but never counted as one: not against the
// flow's 5, not against the user's 10.

package pbxauth_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// cookieless returns a client of e that keeps no cookies, so that no flow
// it begins goes through a known device: every code counts on the user.
func cookieless(t *testing.T, e *env) *apitest.Client {
	c := apitest.NewClient(t, e.c.URL)
	c.HTTP.Jar = nil
	return c
}

// flowOf signs alice in through c and returns the second-factor flow token.
func flowOf(t *testing.T, c *apitest.Client) string {
	t.Helper()
	r := c.Do("POST", "/auth/sign_in", aliceCreds())
	if r.Status != 200 || r.String("token") == "" {
		t.Fatalf("sign_in with a second factor: %d %s", r.Status, r.Body)
	}
	return r.String("token")
}

func verifyBy(c *apitest.Client, flow, code string) *apitest.Response {
	return c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
}

// wrongCodeAnswer is verify_otp's answer to a wrong code, from an Auth of
// its own: a replay must not be told apart from it.
func wrongCodeAnswer(t *testing.T) *apitest.Response {
	t.Helper()
	e, flow := aliceFlow(t)
	r := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": "000000"})
	if r.Status != 401 {
		t.Fatalf("a wrong code: %d %s", r.Status, r.Body)
	}
	return r
}

// sameAnswer reports whether r has the status and body of want.
func sameAnswer(r, want *apitest.Response) bool {
	return r.Status == want.Status && string(r.Body) == string(want.Body)
}

// codeFailures returns the two_factor_failed events from the n-th on and
// how many of them were replays; it fails t on a lockout.
func codeFailures(t *testing.T, ev *events, n int) (failed, replayed int) {
	t.Helper()
	ev.mu.Lock()
	defer ev.mu.Unlock()
	for _, e := range ev.list[n:] {
		switch e.Kind {
		case pbxauth.EventTwoFactorFailed:
			failed++
			if e.Reason == pbxauth.ReasonReplayed {
				replayed++
			}
		case pbxauth.EventLockout:
			t.Errorf("a lockout: %+v", e)
		}
	}
	return failed, replayed
}

func (ev *events) len() int {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	return len(ev.list)
}

// judgeRace checks the answers of a race of one correct code: exactly one
// signs in; every other is the wrong-code answer, a 429 of the code slots
// or (emailed code) the 401 of a flow gone meanwhile, with no token; each
// wrong-code answer is reported as a replay and nothing as a wrong code.
func judgeRace(t *testing.T, answers []*apitest.Response, ev *events, mark int) {
	t.Helper()
	wrong := wrongCodeAnswer(t)
	wins, wrongs := 0, 0
	for _, r := range answers {
		switch {
		case r.Status == 200 && r.String("access_token") != "":
			wins++
		case sameAnswer(r, wrong):
			wrongs++
		case r.Status == 429 || (r.Status == 401 && r.Code() == pbxauth.CodeUnauthorized):
		default:
			t.Errorf("answer %d %s", r.Status, r.Body)
		}
	}
	failed, replayed := codeFailures(t, ev, mark)
	t.Logf("%d racers: %d signed in, %d answered as a wrong code, %d refused otherwise", len(answers), wins, wrongs, len(answers)-wins-wrongs)
	if wins != 1 || wrongs == 0 || failed != replayed || replayed != wrongs {
		t.Fatalf("%d racers with one correct code: %d signed in, %d answered as a wrong code; %d two_factor_failed events, %d of them replays; want 1 sign-in and every other code check reported as a replay",
			len(answers), wins, wrongs, failed, replayed)
	}
}

// wantNotCounted checks that alice's code lock counted nothing before:
// nine wrong codes do not lock it (a correct code after them signs in),
// and ten from a fresh count do (any code is 429 then).
func wantNotCounted(t *testing.T, c *apitest.Client, e *env, correct func(flow string) string) {
	t.Helper()
	wrongs := func(n int) {
		for n > 0 {
			flow := flowOf(t, c)
			for range min(n, 4) {
				if r := verifyBy(c, flow, "000000"); r.Status != 401 {
					t.Fatalf("a wrong code after the race: %d %s", r.Status, r.Body)
				}
				n--
			}
		}
	}
	wrongs(9)
	e.clock.Advance(30 * time.Second)
	flow := flowOf(t, c)
	if r := verifyBy(c, flow, correct(flow)); r.Status != 200 {
		t.Fatalf("a correct code after nine wrong ones: %d %s; the race was counted against the lock", r.Status, r.Body)
	}
	wrongs(10)
	if r := verifyBy(c, flowOf(t, c), "000000"); r.Status != 429 {
		t.Fatalf("a code after ten wrong ones: %d %s, want 429", r.Status, r.Body)
	}
}

// TestConcurrentCorrectAppCode: the attacker's run — 20 sign-ins, then one
// correct app code submitted to all 20 flows at once.
func TestConcurrentCorrectAppCode(t *testing.T) {
	ev := &events{}
	e := newMailEnv(t, withKeys, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	secret, _ := enrolAlice(t, e)
	c := cookieless(t, e.env)
	flows := make([]string, 20)
	for i := range flows {
		flows[i] = flowOf(t, c)
	}
	mark := ev.len()
	code := apitest.TOTPCode(t, secret, e.clock.Now())
	answers := make([]*apitest.Response, len(flows))
	parallel(len(flows), func(i int) int {
		answers[i] = verifyBy(c, flows[i], code)
		return answers[i].Status
	})
	judgeRace(t, answers, ev, mark)
	wantNotCounted(t, c, e.env, func(string) string { return apitest.TOTPCode(t, secret, e.clock.Now()) })
}

// consumeBarrier holds the first consumption of a second-factor flow
// until a second request comes to consume it: two requests with the right
// code are then both past their check, as a burst makes them most of the
// time.
type consumeBarrier struct {
	store.Store
	arrived atomic.Int32
	both    chan struct{}
}

func (s *consumeBarrier) ConsumeFlow(ctx context.Context, h store.Hash, p store.FlowPurpose, now time.Time) (store.Flow, error) {
	if p == store.FlowTwoFactor {
		if s.arrived.Add(1) == 2 {
			close(s.both)
		}
		select {
		case <-s.both:
		case <-ctx.Done():
		}
	}
	return s.Store.ConsumeFlow(ctx, h, p, now)
}

// TestConcurrentCorrectEmailedCode: one emailed code submitted 20 times
// at once to its flow.
func TestConcurrentCorrectEmailedCode(t *testing.T) {
	ev := &events{}
	mem := memstore.New()
	seed(t, mem)
	st := &consumeBarrier{Store: mem, both: make(chan struct{})}
	e := &mailEnv{smtp: smtptest.Start(t, smtptest.Options{})}
	e.env = newEnvWith(t, st, volatileMail, func(c *pbxauth.Config) {
		c.Mailer, c.OnEvent = e.smtpMailer(t), ev.add
	})
	t.Cleanup(func() { e.auth.Close() })
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	c := cookieless(t, e.env)
	flow := flowOf(t, c)
	code := e.sendCode(t, flow, aliceEmail)
	mark := ev.len()
	answers := make([]*apitest.Response, 20)
	parallel(len(answers), func(i int) int {
		answers[i] = verifyBy(c, flow, code)
		return answers[i].Status
	})
	judgeRace(t, answers, ev, mark)
	wantNotCounted(t, c, e.env, func(flow string) string {
		if r := c.Do("POST", "/auth/send_otp", map[string]any{"token": flow}); r.Status != 200 {
			t.Fatalf("send_otp: %d %s", r.Status, r.Body)
		}
		return codeRE.FindString(e.smtp.Receive(t).Text)
	})
}

// TestReplayedCodesNotCounted: a used app code and a used recovery code,
// each submitted 12 times one after another on fresh flows, are each the
// wrong-code answer, reported as a replay, and lock nothing: a fresh code
// signs in afterwards.
func TestReplayedCodesNotCounted(t *testing.T) {
	for _, kind := range []string{"app code", "recovery code"} {
		t.Run(kind, func(t *testing.T) {
			ev := &events{}
			e := newMailEnv(t, withKeys, func(c *pbxauth.Config) { c.OnEvent = ev.add })
			secret, codes := enrolAlice(t, e)
			c := cookieless(t, e.env)
			used := codes[0]
			if kind == "app code" {
				used = apitest.TOTPCode(t, secret, e.clock.Now())
			}
			if r := verifyBy(c, flowOf(t, c), used); r.Status != 200 {
				t.Fatalf("first use: %d %s", r.Status, r.Body)
			}
			wrong := wrongCodeAnswer(t)
			mark := ev.len()
			for i := range 12 {
				if r := verifyBy(c, flowOf(t, c), used); !sameAnswer(r, wrong) {
					t.Fatalf("replay %d: %d %s, want the wrong-code answer %d %s", i+1, r.Status, r.Body, wrong.Status, wrong.Body)
				}
			}
			if failed, replayed := codeFailures(t, ev, mark); failed != 12 || replayed != 12 {
				t.Fatalf("12 replays reported as %d two_factor_failed, %d of them replays", failed, replayed)
			}
			e.clock.Advance(30 * time.Second)
			if r := verifyBy(c, flowOf(t, c), apitest.TOTPCode(t, secret, e.clock.Now())); r.Status != 200 {
				t.Fatalf("a fresh code after the replays: %d %s", r.Status, r.Body)
			}
		})
	}
}
