// Fixtures of the tests that send mail: an env whose Auth mails through a
// real SMTP server on loopback, and helpers to read codes and links.

package pbxauth_test

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/store"
)

// Where the mail tests send links, and alice's address.
const (
	callbackURL = "http://127.0.0.1:9999/reset?lang=en"
	aliceEmail  = "alice@acme.example.test"
)

// mailEnv is an env whose mails go to smtp.
type mailEnv struct {
	*env
	smtp *smtptest.Server
}

// newMailEnv serves an Auth that mails through a fresh smtptest server
// (plain SMTP, as the example server's "-smtp host:port"). Reset mails are
// retried after 10 ms, doubling.
func newMailEnv(t *testing.T, configure ...func(*pbxauth.Config)) *mailEnv {
	t.Helper()
	return newMailEnvWith(t, smtptest.Options{}, configure...)
}

// newMailEnvWith is newMailEnv with a server started with opts.
func newMailEnvWith(t *testing.T, opts smtptest.Options, configure ...func(*pbxauth.Config)) *mailEnv {
	t.Helper()
	srv := smtptest.Start(t, opts)
	e := &mailEnv{smtp: srv}
	base := func(c *pbxauth.Config) {
		c.Mailer = e.smtpMailer(t)
		c.CallbackOrigins = []string{"https://allowed.example", "http://127.0.0.1:9999"}
		c.MailRetryDelay = 10 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(t.Output(), nil)) // shown with -v or on failure
	}
	e.env = newEnv(t, append([]func(*pbxauth.Config){base}, configure...)...)
	t.Cleanup(func() { e.auth.Close() })
	return e
}

// smtpMailer returns a mailer for e's SMTP server.
func (e *mailEnv) smtpMailer(t *testing.T) *pbxauth.SMTPMailer {
	t.Helper()
	m, err := pbxauth.ParseSMTP(e.smtp.Addr, "PBX <pbx@pbxauth.test>")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 5 * time.Second
	return m
}

// changeUser edits a stored user.
func (e *env) changeUser(t *testing.T, id string, change func(*store.User)) {
	t.Helper()
	ctx := context.Background()
	u, err := e.store.User(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	change(&u)
	if err := e.store.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
}

// startTwoFactor signs in with creds and returns the second-factor flow token.
func (e *env) startTwoFactor(t *testing.T, creds map[string]any) string {
	t.Helper()
	r := e.c.Do("POST", "/auth/sign_in", creds)
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true || r.String("token") == "" || r.String("access_token") != "" {
		t.Fatalf("sign_in with a second factor: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("flow token answer Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	return r.String("token")
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// sendCode asks for a code for flow and returns it as read from the mail,
// which must go to to.
func (e *mailEnv) sendCode(t *testing.T, flow, to string) string {
	t.Helper()
	// The answer says where the code went, so a page can word its prompt.
	if r := e.sendOTP(flow); r.Status != 200 || r.String("factor") != "email" {
		t.Fatalf("send_otp: %d %s, want 200 {\"factor\":\"email\"}", r.Status, r.Body)
	}
	m := e.smtp.Receive(t)
	code := codeRE.FindString(m.Text)
	if len(m.To) != 1 || m.To[0] != to || code == "" || !codeRE.MatchString(m.HTML) || m.Subject == "" {
		t.Fatalf("second-factor mail: %+v", m)
	}
	return code
}

// verify posts a code for flow.
func (e *env) verify(t *testing.T, flow, code string) int {
	t.Helper()
	return e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code}).Status
}

// forget posts a forget_password request for a user of acme and checks the
// empty 200.
func (e *env) forget(t *testing.T, username string) {
	t.Helper()
	r := e.c.Do("POST", "/auth/forget_password", map[string]any{"domain": acmeDomain, "username": username, "callback_url": callbackURL})
	if r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("forget_password %s: %d %s", username, r.Status, r.Body)
	}
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// resetToken receives the next mail, which must be a reset mail to to, and
// returns its link's token, once the worker has deleted the mail's record.
func (e *mailEnv) resetToken(t *testing.T, to string) string {
	t.Helper()
	m := e.smtp.Receive(t)
	e.waitOutboxEmpty(t)
	return linkToken(t, m, to)
}

// linkToken returns the token of the link in m, a reset mail to to.
func linkToken(t *testing.T, m smtptest.Message, to string) string {
	t.Helper()
	link := linkRE.FindString(m.Text)
	u, err := url.Parse(link)
	if err != nil || len(m.To) != 1 || m.To[0] != to {
		t.Fatalf("reset mail: %+v", m)
	}
	tok := u.Query().Get("token")
	if tok == "" || !strings.HasPrefix(link, callbackURL) || u.Query().Get("lang") != "en" {
		t.Fatalf("reset link %q", link)
	}
	return tok
}

// waitOutboxEmpty waits until every outbox record is dealt with, so that a
// test may move the fake clock past a lease without a second delivery.
func (e *env) waitOutboxEmpty(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(smtptest.Timeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for pbxauth.OutboxLen(e.auth) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox records left", pbxauth.OutboxLen(e.auth))
		}
		<-tick.C
	}
}

// advanceUntilMail moves the fake clock on by a minute at a time until a
// mail arrives (a retry waits for its due time by the Auth's clock).
func (e *mailEnv) advanceUntilMail(t *testing.T) smtptest.Message {
	t.Helper()
	deadline := time.After(smtptest.Timeout)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case m := <-e.smtp.Messages:
			return m
		case <-tick.C:
			e.clock.Advance(time.Minute)
		case <-deadline:
			t.Fatalf("no mail arrived within %v", smtptest.Timeout)
		}
	}
}
