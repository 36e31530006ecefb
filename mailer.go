// This file holds how pbxauth sends mail: the Mailer interface a host may
// implement, an SMTP mailer on github.com/wneessen/go-mail, and a mailer that
// only logs, for development. What the mails say lives in mailtext.go.

package pbxauth

import (
	"cmp"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/wneessen/go-mail"
)

// Message is one mail to one recipient: a plain-text body and, when HTML is
// not empty, an HTML alternative.
type Message struct {
	To      string
	Subject string
	Text    string
	HTML    string
}

// Mailer sends mail. Send must be safe for concurrent use and should give up
// when ctx is done.
//
// Error contract: nil when the mail was handed over for delivery. An error
// that wraps [ErrMailRejected] is permanent (an address or content the server
// refuses): the mail is dropped. One that wraps [ErrMailMisconfigured] is a
// configuration error (credentials, TLS): it is retried like a temporary one
// but logged at ERROR every time. Any other error is temporary (the server is
// unreachable or busy): POST /auth/send_otp answers 503, and password-reset
// mails are tried again.
type Mailer interface {
	Send(ctx context.Context, m Message) error
}

// ErrMailRejected marks a permanent failure of [Mailer.Send]: retrying the
// same mail cannot succeed.
var ErrMailRejected = errors.New("pbxauth: mail rejected")

// ErrMailMisconfigured marks a failure of [Mailer.Send] that the operator
// must fix: the server refused the credentials (535, 534), requires
// STARTTLS (530), or the TLS handshake or certificate failed.
var ErrMailMisconfigured = errors.New("pbxauth: mail configuration error")

// errNoMailer is what sending fails with when Config.Mailer is nil. It is
// permanent: retrying a reset mail cannot help.
var errNoMailer = fmt.Errorf("%w: no Config.Mailer configured", ErrMailRejected)

// noMailer stands in for a missing Config.Mailer: every send fails, so a
// second factor answers 503 instead of pretending a code went out.
type noMailer struct{}

func (noMailer) Send(context.Context, Message) error { return errNoMailer }

// LogMailer writes every mail, code or link included, to a logger instead of
// sending it. It is for development only: with it the log holds secrets.
// When it is Config.Mailer (as a value or a pointer), its mails count as
// outcome "logged" in pbxauth.mails, not "sent".
type LogMailer struct {
	// Logger receives the mails at level Info. Default slog.Default().
	Logger *slog.Logger
}

// Send implements [Mailer]; it never fails.
func (m LogMailer) Send(ctx context.Context, msg Message) error {
	l := m.Logger
	if l == nil {
		l = slog.Default()
	}
	l.InfoContext(ctx, "pbxauth: mail (logged, not sent)", "to", msg.To, "subject", msg.Subject, "text", msg.Text)
	return nil
}

// SMTPSecurity says how an [SMTPMailer] protects its connection.
type SMTPSecurity int

// SMTP connection security. The zero value, SMTPStartTLS, is the safe
// default: a server that does not offer STARTTLS gets nothing.
const (
	// SMTPStartTLS upgrades a plain connection with STARTTLS and refuses
	// to go on without it (no silent downgrade). Default port 587.
	SMTPStartTLS SMTPSecurity = iota
	// SMTPImplicitTLS speaks TLS from the first byte ("smtps"). Default
	// port 465.
	SMTPImplicitTLS
	// SMTPPlain sends everything in the clear: for a local relay or a
	// development server only. Default port 25.
	SMTPPlain
)

// SMTPMailer sends mail through an SMTP server, opening one connection per
// mail (pbxauth sends few mails; a pool would only hold idle sockets). Set
// its fields before first use; it is safe for concurrent use afterwards.
type SMTPMailer struct {
	// Host is the server's name or address. Required.
	Host string
	// Port is the server's port. Default by Security: 587, 465 or 25.
	Port int
	// Security is the connection's protection. Default SMTPStartTLS.
	Security SMTPSecurity
	// TLSConfig, when set, is used for TLS (for example to trust a private
	// CA). Default: the system roots, with ServerName Host.
	TLSConfig *tls.Config
	// Username and Password, when Username is set, authenticate with the
	// strongest mechanism the server offers. go-mail refuses to send them
	// over a connection that is not encrypted.
	Username string
	Password string
	// From is the sender address, for example "PBX <pbx@example.com>". Required.
	From string
	// HELO is the name the mailer gives in EHLO. Default: the domain of
	// From (strict servers refuse a machine's short host name), which
	// also names the Message-ID.
	HELO string
	// Timeout bounds connecting and each step of the dialogue. Default 10 s.
	Timeout time.Duration
}

// ParseSMTP builds an SMTPMailer from the example server's -smtp value:
//
//   - "host:port" (or just "host", port 25): plain SMTP without
//     authentication, for a development server on the same machine;
//   - "smtp://[user:pass@]host[:port]": STARTTLS, required (a server that
//     does not offer it is refused rather than sent credentials in the
//     clear), default port 587;
//   - "smtps://[user:pass@]host[:port]": implicit TLS, default port 465.
//
// User and password are URL-decoded. from is the sender address.
func ParseSMTP(spec, from string) (*SMTPMailer, error) {
	if _, err := netmail.ParseAddress(from); err != nil {
		return nil, fmt.Errorf("pbxauth: mail sender %q: %w", from, err)
	}
	m := &SMTPMailer{From: from, Security: SMTPPlain}
	hostport := spec
	if u, err := url.Parse(spec); err == nil && (u.Scheme == "smtp" || u.Scheme == "smtps") {
		if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("pbxauth: SMTP URL %q: only scheme, user, password, host and port are allowed", u.Redacted())
		}
		m.Security = SMTPStartTLS
		if u.Scheme == "smtps" {
			m.Security = SMTPImplicitTLS
		}
		if u.User != nil {
			m.Username = u.User.Username()
			m.Password, _ = u.User.Password()
		}
		hostport = u.Host
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = hostport, "" // no port: the default of the security mode
	}
	if port != "" {
		if m.Port, err = strconv.Atoi(port); err != nil || m.Port < 1 || m.Port > 65535 {
			return nil, fmt.Errorf("pbxauth: SMTP server %q: bad port", hostport)
		}
	}
	if host == "" {
		return nil, fmt.Errorf("pbxauth: SMTP server %q: no host", hostport)
	}
	m.Host = host
	return m, nil
}

// Send implements [Mailer]. Every mail carries Auto-Submitted:
// auto-generated and a Message-ID in the sender's domain. Failures are
// classified as the [Mailer] contract says: a 5xx reply to MAIL, RCPT or
// DATA wraps [ErrMailRejected]; a refused login (535, 534), "STARTTLS
// required" (530), any other 5xx before MAIL, and TLS or certificate
// failures wrap [ErrMailMisconfigured]; 4xx replies and network errors are
// temporary.
func (m *SMTPMailer) Send(ctx context.Context, msg Message) error {
	em := mail.NewMsg(mail.WithNoDefaultUserAgent())
	if err := em.From(m.From); err != nil {
		return fmt.Errorf("%w: sender: %w", ErrMailMisconfigured, err)
	}
	if err := em.To(msg.To); err != nil {
		return fmt.Errorf("%w: recipient: %w", ErrMailRejected, err)
	}
	domain := m.domain()
	em.SetMessageIDWithValue(newID() + "@" + domain)
	em.SetGenHeader(mail.Header("Auto-Submitted"), "auto-generated")
	em.Subject(msg.Subject)
	em.SetBodyString(mail.TypeTextPlain, msg.Text)
	if msg.HTML != "" {
		em.AddAlternativeString(mail.TypeTextHTML, msg.HTML)
	}
	c, err := mail.NewClient(m.Host, m.options(domain)...)
	if err != nil {
		return fmt.Errorf("%w: SMTP client: %w", ErrMailMisconfigured, err)
	}
	return classifySMTP(c.DialAndSendWithContext(ctx, em))
}

// domain is the sender address's domain, for EHLO and the Message-ID;
// "localhost" when From has none.
func (m *SMTPMailer) domain() string {
	if a, err := netmail.ParseAddress(m.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok && d != "" {
			return d
		}
	}
	return "localhost"
}

// options translates the mailer's fields into go-mail's.
func (m *SMTPMailer) options(domain string) []mail.Option {
	opts := []mail.Option{mail.WithTimeout(cmp.Or(m.Timeout, 10*time.Second)), mail.WithHELO(cmp.Or(m.HELO, domain))}
	switch m.Security {
	case SMTPImplicitTLS:
		opts = append(opts, mail.WithSSL(), mail.WithPort(cmp.Or(m.Port, mail.DefaultPortSSL)))
	case SMTPPlain:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS), mail.WithPort(cmp.Or(m.Port, mail.DefaultPort)))
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory), mail.WithPort(cmp.Or(m.Port, mail.DefaultPortTLS)))
	}
	if m.TLSConfig != nil {
		tc := m.TLSConfig.Clone()
		if tc.ServerName == "" {
			tc.ServerName = m.Host
		}
		opts = append(opts, mail.WithTLSConfig(tc))
	}
	if m.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover),
			mail.WithUsername(m.Username), mail.WithPassword(m.Password))
	}
	return opts
}
