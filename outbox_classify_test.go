package pbxauth_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/smtptest"
)

// TestOutboxClassifiedFailures: a 550 to RCPT drops the mail at once with
// mail_failed; 530 to MAIL (STARTTLS required) is a configuration error:
// reported at every attempt with mail_misconfigured, and retried until the
// server accepts.
func TestOutboxClassifiedFailures(t *testing.T) {
	var mode atomic.Int32 // the reply to MAIL: 0 accept, else the code
	opts := smtptest.Options{Refuse: func(cmd, arg string) error {
		switch c := int(mode.Load()); {
		case c == 550 && cmd == "RCPT":
			return smtptest.Reply(550, "no such mailbox")
		case c == 530 && cmd == "MAIL":
			return smtptest.Reply(530, "Must issue a STARTTLS command first")
		}
		return nil
	}}
	var ev eventLog
	e := newMailEnvWith(t, opts, ev.record)

	mode.Store(550)
	e.forget(t, "alice")
	waitFor(t, "mail_failed", func() bool { return ev.count(pbxauth.EventMailFailed) == 1 })
	e.waitOutboxEmpty(t)

	mode.Store(530)
	e.forget(t, "alice")
	waitFor(t, "mail_misconfigured", func() bool { return ev.count(pbxauth.EventMailMisconfigured) == 1 })
	e.clock.Advance(time.Minute)
	waitFor(t, "a second mail_misconfigured", func() bool { return ev.count(pbxauth.EventMailMisconfigured) >= 2 })
	if pbxauth.OutboxLen(e.auth) != 1 {
		t.Fatal("a misconfigured send dropped the mail")
	}
	mode.Store(0)
	linkToken(t, e.advanceUntilMail(t), aliceEmail)
	if n := ev.count(pbxauth.EventMailFailed); n != 1 {
		t.Fatalf("%d mail_failed events, want 1", n)
	}
}
