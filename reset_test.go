package pbxauth_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// addBob adds a second acme user with an address: mails to him mark a
// point in the worker's queue, which sends in order.
func addBob(t *testing.T, e *env) {
	t.Helper()
	h, err := cheapHash("bob-pw-1234")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.CreateUser(context.Background(), store.User{ID: "user-bob", TenantID: acmeID, Username: "bob", Email: "bob@acme.example.test", Role: "StandardUser", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
}

func (e *env) reset(t *testing.T, token, password string) *apitest.Response {
	t.Helper()
	return e.c.Do("POST", "/auth/reset_password", map[string]any{"token": token, "new_password": password})
}

func TestPasswordResetFlow(t *testing.T) {
	e := newMailEnv(t)
	e.changeUser(t, aliceID, func(u *store.User) { u.PasswordForceReset = true })
	access, refresh := e.signIn(t, aliceCreds())

	e.forget(t, "alice")
	tok := e.resetToken(t, aliceEmail)
	if r := e.reset(t, tok, "new-pass-456"); r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("reset_password: %d %s", r.Status, r.Body)
	}

	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 401 {
		t.Errorf("old password after the reset: %d", r.Status)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 401 {
		t.Errorf("access token from before the reset: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": refresh}); r.Status != 401 {
		t.Errorf("refresh token from before the reset: %d", r.Status)
	}
	if r := e.reset(t, tok, "newer-pass-789"); r.Status != 401 {
		t.Errorf("the reset token a second time: %d", r.Status)
	}
	newAccess, _ := e.signIn(t, map[string]any{"username": "alice", "password": "new-pass-456", "domain": acmeDomain})
	u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(newAccess)...)
	if u.Status != 200 || u.JSON()["password_force_reset"] != false {
		t.Errorf("user after the reset: %d %s", u.Status, u.Body)
	}
}

// TestPasswordResetRace: of two resets with one token, exactly one wins and
// its password is the one set.
func TestPasswordResetRace(t *testing.T) {
	e := newMailEnv(t)
	e.forget(t, "alice")
	tok := e.resetToken(t, aliceEmail)
	passwords := []string{"racer-one-111", "racer-two-222"}
	status := make([]int, len(passwords))
	var wg sync.WaitGroup
	for i, pw := range passwords {
		wg.Go(func() { status[i] = e.reset(t, tok, pw).Status })
	}
	wg.Wait()
	winner := -1
	for i, s := range status {
		switch {
		case s == 200 && winner < 0:
			winner = i
		case s != 401:
			t.Fatalf("racing resets answered %v", status)
		}
	}
	if winner < 0 {
		t.Fatalf("racing resets answered %v", status)
	}
	e.signIn(t, map[string]any{"username": "alice", "password": passwords[winner], "domain": acmeDomain})
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "alice", "password": passwords[1-winner], "domain": acmeDomain}); r.Status != 401 {
		t.Errorf("the losing password: %d", r.Status)
	}
}

// TestForgetPasswordLooksTheSame: unknown users, unknown domains, users
// without an address and disabled users get the answer of a real user, and
// no mail. The worker sends in order, so the real user's mail, asked for
// last, is the first to arrive only if the others sent none.
func TestForgetPasswordLooksTheSame(t *testing.T) {
	e := newMailEnv(t)
	ask := func(domain, username string) *apitest.Response {
		return e.c.Do("POST", "/auth/forget_password", map[string]any{"domain": domain, "username": username, "callback_url": callbackURL})
	}
	var answers []*apitest.Response
	for _, who := range [][2]string{
		{acmeDomain, "nobody"},
		{"unknown.example.test", "alice"},
		{"other.example.test", "alice"}, // no address
		{acmeDomain, "dave"},            // disabled
	} {
		answers = append(answers, ask(who[0], who[1]))
	}
	known := ask(acmeDomain, "alice")
	for i, r := range answers {
		if r.Status != known.Status || !bytes.Equal(r.Body, known.Body) || r.Header.Get("Content-Type") != known.Header.Get("Content-Type") {
			t.Errorf("answer %d: %d %q, known user: %d %q", i, r.Status, r.Body, known.Status, known.Body)
		}
	}
	if known.Status != 200 {
		t.Fatalf("known user: %d %s", known.Status, known.Body)
	}
	e.resetToken(t, aliceEmail)
}

// TestForgetPasswordCallbackRefused: only allowed origins receive a link.
func TestForgetPasswordCallbackRefused(t *testing.T) {
	e := newMailEnv(t)
	for _, cb := range []string{
		"https://evil.example/reset",
		"//evil.example/reset",
		"http://127.0.0.1:9998/reset", // an allowed host on another port
		"javascript:alert(1)",
		"https://allowed.example@evil.example/",
		"",
	} {
		r := e.c.Do("POST", "/auth/forget_password", map[string]any{"domain": acmeDomain, "username": "alice", "callback_url": cb})
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), "callback_url") {
			t.Errorf("callback_url %q: %d %s", cb, r.Status, r.Body)
		}
	}
	e.forget(t, "alice") // the first mail to arrive must be this one's
	e.resetToken(t, aliceEmail)
}

func TestForgetPasswordBadFields(t *testing.T) {
	e := newMailEnv(t)
	for _, body := range []map[string]any{
		{"username": "alice", "callback_url": callbackURL},
		{"domain": acmeDomain, "callback_url": callbackURL},
		{"domain": acmeDomain, "username": "admin", "callback_url": callbackURL}, // reserved for system users
		{"domain": acmeDomain, "username": ".alice", "callback_url": callbackURL},
		{"domain": 7, "username": "alice", "callback_url": callbackURL},
	} {
		if r := e.c.Do("POST", "/auth/forget_password", body); r.Status != 400 {
			t.Errorf("%v: %d %s", body, r.Status, r.Body)
		}
	}
}

// TestForgetPasswordMailLimit: 3 mails per user per 15 minutes; beyond,
// the same 200 and no mail.
func TestForgetPasswordMailLimit(t *testing.T) {
	e := newMailEnv(t)
	addBob(t, e.env)
	for range 3 {
		e.forget(t, "alice")
		e.resetToken(t, aliceEmail)
	}
	e.forget(t, "alice")
	e.clock.Advance(14 * time.Minute)
	e.forget(t, "alice")
	e.forget(t, "bob") // the limit is per user
	e.resetToken(t, "bob@acme.example.test")
	e.clock.Advance(time.Minute)
	e.forget(t, "alice")
	e.resetToken(t, aliceEmail)
}

// observedMailer reports every failed send.
type observedMailer struct {
	pbxauth.Mailer
	failed chan error
}

func (m observedMailer) Send(ctx context.Context, msg pbxauth.Message) error {
	err := m.Mailer.Send(ctx, msg)
	if err != nil {
		select {
		case m.failed <- err:
		default:
		}
	}
	return err
}

// TestForgetPasswordRetries: with the mail server down, forget_password
// still answers 200, and the mail arrives once the server is back.
func TestForgetPasswordRetries(t *testing.T) {
	failed := make(chan error, 16)
	e := newMailEnv(t, func(c *pbxauth.Config) { c.Mailer = observedMailer{Mailer: c.Mailer, failed: failed} })
	e.smtp.Stop()
	e.forget(t, "alice")
	select {
	case <-failed:
	case <-time.After(10 * time.Second):
		t.Fatal("the reset mail was not tried")
	}
	e.smtp.Restart(t)
	tok := linkToken(t, e.advanceUntilMail(t), aliceEmail)
	if r := e.reset(t, tok, "new-pass-456"); r.Status != 200 {
		t.Fatalf("reset with the retried mail's link: %d %s", r.Status, r.Body)
	}
}

// TestResetPasswordPolicy: a refused password does not consume the token.
func TestResetPasswordPolicy(t *testing.T) {
	e := newMailEnv(t, func(c *pbxauth.Config) {
		c.PasswordPolicy = func(username, password string) error {
			if !strings.ContainsAny(password, "0123456789") {
				return errors.New("needs a digit")
			}
			return nil
		}
	})
	e.forget(t, "alice")
	tok := e.resetToken(t, aliceEmail)
	for _, pw := range []string{"", "short1", "no-digits-here", strings.Repeat("x1", 129)} {
		r := e.reset(t, tok, pw)
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || !strings.Contains(string(r.Body), "new_password") {
			t.Errorf("new_password %q: %d %s", pw, r.Status, r.Body)
		}
	}
	if r := e.reset(t, tok, "has-a-digit-1"); r.Status != 200 {
		t.Fatalf("reset after refused passwords: %d %s", r.Status, r.Body)
	}
}

// TestResetLinksEndTogether: once one link has set a password, the user's
// other links stop working; and a link lives 10 minutes.
func TestResetLinksEndTogether(t *testing.T) {
	e := newMailEnv(t)
	e.forget(t, "alice")
	first := e.resetToken(t, aliceEmail)
	e.forget(t, "alice")
	second := e.resetToken(t, aliceEmail)
	if r := e.reset(t, second, "new-pass-456"); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	if r := e.reset(t, first, "other-pass-789"); r.Status != 401 {
		t.Errorf("an older link after a reset: %d", r.Status)
	}
	e.forget(t, "alice")
	third := e.resetToken(t, aliceEmail)
	e.clock.Advance(10 * time.Minute)
	if r := e.reset(t, third, "other-pass-789"); r.Status != 401 {
		t.Errorf("a link after 10 minutes: %d", r.Status)
	}
}

// TestResetLiftsSignInLock: proving the mailbox ends a sign-in lock.
func TestResetLiftsSignInLock(t *testing.T) {
	e := newMailEnv(t)
	wrong := map[string]any{"username": "alice", "password": "wrong-pw-000", "domain": acmeDomain}
	for range 5 {
		e.c.Do("POST", "/auth/sign_in", wrong)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 429 {
		t.Fatalf("sign-in of a locked account: %d", r.Status)
	}
	e.forget(t, "alice")
	if r := e.reset(t, e.resetToken(t, aliceEmail), "new-pass-456"); r.Status != 200 {
		t.Fatalf("reset: %d %s", r.Status, r.Body)
	}
	e.signIn(t, map[string]any{"username": "alice", "password": "new-pass-456", "domain": acmeDomain})
}

// TestCloseKeepsResetMails: after Close, forget_password still answers 200
// and records the request, which an instance started later on the same
// store delivers.
func TestCloseKeepsResetMails(t *testing.T) {
	e := newMailEnv(t)
	e.forget(t, "alice")
	e.resetToken(t, aliceEmail)
	if err := e.auth.Close(); err != nil {
		t.Fatal(err)
	}
	e.forget(t, "alice")
	if err := e.auth.Close(); err != nil {
		t.Fatal(err)
	}
	if n := pbxauth.OutboxLen(e.auth); n != 1 {
		t.Fatalf("outbox holds %d records after Close, want 1", n)
	}
	next := newEnvWith(t, e.store, func(c *pbxauth.Config) {
		c.Mailer = e.smtpMailer(t)
		c.CallbackOrigins = []string{"http://127.0.0.1:9999"}
	})
	t.Cleanup(func() { next.auth.Close() })
	linkToken(t, e.smtp.Receive(t), aliceEmail)
}
