package pbxauth_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// eventLog collects events for a test.
type eventLog struct {
	mu     sync.Mutex
	events []pbxauth.Event
}

func (l *eventLog) record(c *pbxauth.Config) {
	c.OnEvent = func(_ context.Context, ev pbxauth.Event) {
		l.mu.Lock()
		defer l.mu.Unlock()
		l.events = append(l.events, ev)
	}
}

func (l *eventLog) count(k pbxauth.EventKind) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.events {
		if e.Kind == k {
			n++
		}
	}
	return n
}

// waitFor polls cond until it holds, failing the test after smtptest.Timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(smtptest.Timeout)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}

// TestOutboxSlowRecipientDoesNotDelayOthers: while the server hangs on one
// recipient, another user's reset mail goes out; the hung one is retried
// after a temporary refusal and arrives too.
func TestOutboxSlowRecipientDoesNotDelayOthers(t *testing.T) {
	release := make(chan struct{})
	var bobTries atomic.Int32
	opts := smtptest.Options{Refuse: func(cmd, arg string) error {
		if cmd != "RCPT" || !strings.HasPrefix(arg, "bob@") {
			return nil
		}
		if bobTries.Add(1) == 1 {
			<-release
			return smtptest.Reply(452, "mailbox busy, try later")
		}
		return nil
	}}
	e := newMailEnvWith(t, opts)
	addBob(t, e.env)
	e.forget(t, "bob")
	waitFor(t, "the attempt at bob's mail", func() bool { return bobTries.Load() == 1 })
	e.forget(t, "alice")
	m := e.smtp.Receive(t) // alice's, while bob's attempt hangs
	if m.To[0] != aliceEmail {
		t.Fatalf("first mail to %v, want alice", m.To)
	}
	close(release)
	m = e.advanceUntilMail(t)
	if m.To[0] != "bob@acme.example.test" {
		t.Fatalf("retried mail to %v, want bob", m.To)
	}
}

// TestOutboxRetryVoidsEarlierLink: each attempt mints its own link and
// removes the previous attempt's, so of the two mails only the newer link
// works.
func TestOutboxRetryVoidsEarlierLink(t *testing.T) {
	var first atomic.Bool
	var firstMsg pbxauth.Message
	e := newMailEnv(t, func(c *pbxauth.Config) {
		real := c.Mailer
		c.Mailer = mailerFunc(func(ctx context.Context, m pbxauth.Message) error {
			if first.CompareAndSwap(false, true) {
				firstMsg = m // the server took it, but the answer was lost
				return errors.New("connection reset")
			}
			return real.Send(ctx, m)
		})
	})
	e.forget(t, "alice")
	newer := linkToken(t, e.advanceUntilMail(t), aliceEmail)
	older := linkToken(t, smtptest.Message{To: []string{aliceEmail}, Text: firstMsg.Text}, aliceEmail)
	if r := e.reset(t, older, "new-pass-456"); r.Status != 401 {
		t.Fatalf("the earlier attempt's link: %d %s", r.Status, r.Body)
	}
	if r := e.reset(t, newer, "new-pass-456"); r.Status != 200 {
		t.Fatalf("the newer link: %d %s", r.Status, r.Body)
	}
}

// mailerFunc is a Mailer from a function.
type mailerFunc func(context.Context, pbxauth.Message) error

func (f mailerFunc) Send(ctx context.Context, m pbxauth.Message) error { return f(ctx, m) }

// TestOutboxGivesUpAfterWindow: with the server down, a reset mail is
// retried until Config.MailRetryWindow is over, then dropped with the event
// mail_failed.
func TestOutboxGivesUpAfterWindow(t *testing.T) {
	var ev eventLog
	e := newMailEnv(t, ev.record)
	e.smtp.Stop()
	e.forget(t, "alice")
	deadline := time.Now().Add(smtptest.Timeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for ev.count(pbxauth.EventMailFailed) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the mail was never given up")
		}
		e.clock.Advance(5 * time.Minute)
		<-tick.C
	}
	e.waitOutboxEmpty(t)
	e.smtp.Restart(t)
	e.clock.Advance(time.Hour)
	e.forget(t, "bob-does-not-exist") // wakes a worker; nothing to send
	select {
	case m := <-e.smtp.Messages:
		t.Fatalf("a dropped mail arrived: %v", m.To)
	default:
	}
}

// TestVolatileMail: a store without the Outbox needs Config.VolatileMail,
// and then mails are still delivered, from memory.
func TestVolatileMail(t *testing.T) {
	st := struct{ store.Store }{memstore.New()}
	if _, err := pbxauth.New(pbxauth.Config{Store: st}); err == nil || !strings.Contains(err.Error(), "VolatileMail") {
		t.Fatalf("New with a store without Outbox: %v", err)
	}
	seed(t, st.Store)
	e := newMailEnv(t, func(c *pbxauth.Config) { c.Store, c.VolatileMail = st, true })
	e.forget(t, "alice")
	e.resetToken(t, aliceEmail)
}
