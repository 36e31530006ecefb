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
	e.changeUser(t, aliceID, func(u *pbxauth.User) { u.TwoFactorEnabled = true })
	flow := e.startTwoFactor(t, aliceCreds())
	if r := e.sendOTP(flow); r.Status != 503 || r.Code() != "UNAVAILABLE" {
		t.Errorf("send_otp without a mailer: %d %s", r.Status, r.Body)
	}
}
