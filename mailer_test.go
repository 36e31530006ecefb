package pbxauth_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/store"
)

func TestParseSMTP(t *testing.T) {
	for _, tc := range []struct {
		spec string
		want pbxauth.SMTPMailer
	}{
		{"127.0.0.1:2525", pbxauth.SMTPMailer{Host: "127.0.0.1", Port: 2525, Security: pbxauth.SMTPPlain}},
		{"mail.example.com", pbxauth.SMTPMailer{Host: "mail.example.com", Security: pbxauth.SMTPPlain}},
		{"[::1]:25", pbxauth.SMTPMailer{Host: "::1", Port: 25, Security: pbxauth.SMTPPlain}},
		{"smtp://mail.example.com", pbxauth.SMTPMailer{Host: "mail.example.com", Security: pbxauth.SMTPStartTLS}},
		{"smtp://u%40x:p%3Ass@mail.example.com:2587", pbxauth.SMTPMailer{Host: "mail.example.com", Port: 2587, Security: pbxauth.SMTPStartTLS, Username: "u@x", Password: "p:ss"}},
		{"smtps://u:p@mail.example.com", pbxauth.SMTPMailer{Host: "mail.example.com", Security: pbxauth.SMTPImplicitTLS, Username: "u", Password: "p"}},
	} {
		m, err := pbxauth.ParseSMTP(tc.spec, "pbx@localhost")
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		tc.want.From = "pbx@localhost"
		if *m != tc.want {
			t.Errorf("%q: got %+v, want %+v", tc.spec, *m, tc.want)
		}
	}
	for _, spec := range []string{"", ":25", "host:0", "host:x", "smtp://host/path", "smtp://host?tls=no", "smtps://:465"} {
		if _, err := pbxauth.ParseSMTP(spec, "pbx@localhost"); err == nil {
			t.Errorf("%q accepted", spec)
		}
	}
	if _, err := pbxauth.ParseSMTP("host:25", "not an address"); err == nil {
		t.Error("bad sender accepted")
	}
}

// TestSMTPMailerSecurity sends through each kind of connection, with
// authentication where it is protected, to a real server on loopback.
func TestSMTPMailerSecurity(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opts   smtptest.Options
		scheme string
	}{
		{"plain", smtptest.Options{}, ""},
		{"starttls+auth", smtptest.Options{StartTLS: true, Username: "pbx", Password: "p@ss word"}, "smtp"},
		{"implicit+auth", smtptest.Options{ImplicitTLS: true, Username: "pbx", Password: "p@ss word"}, "smtps"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := smtptest.Start(t, tc.opts)
			spec := srv.Addr
			if tc.scheme != "" {
				spec = tc.scheme + "://pbx:p%40ss%20word@" + srv.Addr
			}
			m, err := pbxauth.ParseSMTP(spec, "PBX <pbx@pbxauth.test>")
			if err != nil {
				t.Fatal(err)
			}
			m.TLSConfig, m.Timeout = srv.ClientTLS(), 5*time.Second
			err = m.Send(context.Background(), pbxauth.Message{To: "alice@acme.example.test", Subject: "Héllo", Text: "code 123456\n", HTML: "<p>code 123456</p>"})
			if err != nil {
				t.Fatal(err)
			}
			got := srv.Receive(t)
			if got.From != "pbx@pbxauth.test" || len(got.To) != 1 || got.To[0] != "alice@acme.example.test" ||
				got.Subject != "Héllo" || !strings.Contains(got.Text, "code 123456") || !strings.Contains(got.HTML, "<p>code 123456</p>") {
				t.Errorf("received %+v", got)
			}
		})
	}
}

// TestSMTPMailerRefusals: STARTTLS is required, not hoped for; a wrong
// password and a refused server are errors; no mail arrives.
func TestSMTPMailerRefusals(t *testing.T) {
	plain := smtptest.Start(t, smtptest.Options{})
	authed := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "pbx", Password: "right"})
	down := smtptest.Start(t, smtptest.Options{})
	down.Stop()
	for name, spec := range map[string]string{
		"no STARTTLS offered": "smtp://" + plain.Addr,
		"wrong password":      "smtp://pbx:wrong@" + authed.Addr,
		"server down":         down.Addr,
	} {
		m, err := pbxauth.ParseSMTP(spec, "pbx@pbxauth.test")
		if err != nil {
			t.Fatal(err)
		}
		m.TLSConfig, m.Timeout = authed.ClientTLS(), 5*time.Second
		if err := m.Send(context.Background(), pbxauth.Message{To: "alice@acme.example.test", Subject: "s", Text: "t"}); err == nil {
			t.Errorf("%s: sent", name)
		}
	}
	if len(plain.Messages)+len(authed.Messages) != 0 {
		t.Error("a refused send delivered a mail")
	}
	m, _ := pbxauth.ParseSMTP(plain.Addr, "pbx@pbxauth.test")
	if err := m.Send(context.Background(), pbxauth.Message{To: "not an address", Subject: "s", Text: "t"}); !errors.Is(err, pbxauth.ErrMailRejected) {
		t.Errorf("bad recipient: %v, want ErrMailRejected", err)
	}
}

// TestNoMailer: without a Mailer, send_otp is a 503 and nothing breaks.
func TestNoMailer(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.Logger = slog.New(slog.NewTextHandler(t.Output(), nil)) })
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	flow := e.startTwoFactor(t, aliceCreds())
	if r := e.sendOTP(flow); r.Status != 503 || r.Code() != "UNAVAILABLE" {
		t.Errorf("send_otp without a mailer: %d %s", r.Status, r.Body)
	}
}

// TestSMTPMailerHeaders: EHLO and the Message-ID name the sender's domain,
// never the machine, and the mail says it was sent automatically.
func TestSMTPMailerHeaders(t *testing.T) {
	srv := smtptest.Start(t, smtptest.Options{})
	m, err := pbxauth.ParseSMTP(srv.Addr, "PBX <pbx@mail.pbxauth.test>")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(context.Background(), pbxauth.Message{To: "alice@acme.example.test", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	got := srv.Receive(t)
	if got.Helo != "mail.pbxauth.test" {
		t.Errorf("EHLO %q, want the sender's domain", got.Helo)
	}
	if id := got.Header.Get("Message-Id"); !strings.HasSuffix(id, "@mail.pbxauth.test>") {
		t.Errorf("Message-ID %q, want the sender's domain", id)
	}
	if v := got.Header.Get("Auto-Submitted"); v != "auto-generated" {
		t.Errorf("Auto-Submitted %q", v)
	}
	m.HELO = "relay.pbxauth.test"
	if err := m.Send(context.Background(), pbxauth.Message{To: "alice@acme.example.test", Subject: "s", Text: "t"}); err != nil {
		t.Fatal(err)
	}
	if got := srv.Receive(t); got.Helo != "relay.pbxauth.test" {
		t.Errorf("EHLO %q, want SMTPMailer.HELO", got.Helo)
	}
}

// TestSMTPMailerClassifies: 550 to RCPT is permanent; 452 is temporary;
// 535 (wrong password), 530 (STARTTLS required) and an untrusted
// certificate are configuration errors.
func TestSMTPMailerClassifies(t *testing.T) {
	refuse := func(cmd string, code int) smtptest.Options {
		return smtptest.Options{Refuse: func(c, _ string) error {
			if c == cmd {
				return smtptest.Reply(code, "refused")
			}
			return nil
		}}
	}
	authed := smtptest.Start(t, smtptest.Options{StartTLS: true, Username: "pbx", Password: "right"})
	for _, tc := range []struct {
		name  string
		srv   *smtptest.Server
		spec  func(addr string) string
		trust bool
		want  error // nil: temporary
	}{
		{"550 to RCPT", smtptest.Start(t, refuse("RCPT", 550)), plainSpec, false, pbxauth.ErrMailRejected},
		{"554 to DATA", smtptest.Start(t, refuse("DATA", 554)), plainSpec, false, pbxauth.ErrMailRejected},
		{"452 to RCPT", smtptest.Start(t, refuse("RCPT", 452)), plainSpec, false, nil},
		{"530 to MAIL", smtptest.Start(t, refuse("MAIL", 530)), plainSpec, false, pbxauth.ErrMailMisconfigured},
		{"535 to AUTH", authed, func(a string) string { return "smtp://pbx:wrong@" + a }, true, pbxauth.ErrMailMisconfigured},
		{"untrusted certificate", authed, func(a string) string { return "smtp://pbx:right@" + a }, false, pbxauth.ErrMailMisconfigured},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := pbxauth.ParseSMTP(tc.spec(tc.srv.Addr), "pbx@pbxauth.test")
			if err != nil {
				t.Fatal(err)
			}
			if tc.trust {
				m.TLSConfig = tc.srv.ClientTLS()
			}
			err = m.Send(context.Background(), pbxauth.Message{To: "alice@acme.example.test", Subject: "s", Text: "t"})
			if err == nil {
				t.Fatal("sent")
			}
			for _, class := range []error{pbxauth.ErrMailRejected, pbxauth.ErrMailMisconfigured} {
				if errors.Is(err, class) != (class == tc.want) {
					t.Errorf("%v: errors.Is(%v) = %v", err, class, errors.Is(err, class))
				}
			}
		})
	}
}

func plainSpec(addr string) string { return addr }
