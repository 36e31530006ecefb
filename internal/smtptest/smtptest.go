// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on a
// loopback port for tests. It hands every received mail over on a channel,
// with its text and HTML parts decoded, and it can be stopped and started
// again on the same port to play a mail server that goes down and comes
// back. Optionally it offers STARTTLS or implicit TLS with a self-signed
// certificate, and requires AUTH PLAIN.
package smtptest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Timeout is how long Receive waits for a mail.
var Timeout = 10 * time.Second

// Message is one received mail.
type Message struct {
	Helo    string   // the name the client gave in EHLO or HELO
	From    string   // envelope sender
	To      []string // envelope recipients
	Header  mail.Header
	Subject string // decoded
	Text    string // the decoded text/plain part
	HTML    string // the decoded text/html part
	Raw     []byte
}

// Options configure a Server. The zero value is a plain server without
// authentication.
type Options struct {
	// StartTLS offers STARTTLS with a self-signed certificate for
	// 127.0.0.1 and localhost (trust it with ClientTLS).
	StartTLS bool
	// ImplicitTLS speaks TLS from the first byte, as "smtps" servers do.
	ImplicitTLS bool
	// Username and Password, when Username is set, are required through
	// AUTH PLAIN before a mail is accepted.
	Username, Password string
	// Refuse, when set, is asked at MAIL (arg: the sender), RCPT (arg: the
	// recipient) and DATA (arg: ""); an error it returns is the server's
	// reply (build it with Reply). It may block, to play a slow server.
	Refuse func(cmd, arg string) error
}

// Reply returns an SMTP reply with the given code, for Options.Refuse.
func Reply(code int, msg string) error {
	return &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCodeNotSet, Message: msg}
}

// refuse asks Options.Refuse.
func (ss *session) refuse(cmd, arg string) error {
	if ss.s.opts.Refuse == nil {
		return nil
	}
	return ss.s.opts.Refuse(cmd, arg)
}

// Server is a running test SMTP server; its methods are safe for concurrent use.
type Server struct {
	// Addr is the loopback host:port the server listens on; it stays the
	// same across Stop and Restart.
	Addr string
	// Messages receives every accepted mail (buffered; the server blocks
	// when 100 mails are left unread).
	Messages chan Message

	opts  Options
	tls   *tls.Config
	roots *x509.CertPool

	mu  sync.Mutex
	srv *smtp.Server
	l   net.Listener
}

// Start starts a server on 127.0.0.1 with a free port; it is stopped when
// the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := &Server{Addr: "127.0.0.1:0", Messages: make(chan Message, 100), opts: opts}
	if opts.StartTLS || opts.ImplicitTLS {
		var err error
		if s.tls, s.roots, err = selfSigned(); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Stop)
	return s
}

// Host is the host of Addr.
func (s *Server) Host() string {
	h, _, _ := net.SplitHostPort(s.Addr)
	return h
}

// Port is the port of Addr.
func (s *Server) Port() int {
	_, p, _ := net.SplitHostPort(s.Addr)
	n, _ := strconv.Atoi(p)
	return n
}

// ClientTLS returns a client configuration that trusts the server's
// certificate (nil without TLS options).
func (s *Server) ClientTLS() *tls.Config {
	if s.roots == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.roots, ServerName: s.Host()}
}

// Stop closes the listener and every connection: clients now get
// "connection refused". Stopping a stopped server does nothing.
func (s *Server) Stop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		// Close the listener too: the server only knows it once its
		// Serve goroutine has begun.
		s.l.Close()
		s.srv.Close()
		s.srv, s.l = nil, nil
	}
}

// Restart starts a stopped server again on the same address.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if err := s.listen(); err != nil {
		t.Fatal(err)
	}
}

// Receive returns the next mail, failing the test when none arrives within
// Timeout.
func (s *Server) Receive(t testing.TB) Message {
	t.Helper()
	select {
	case m := <-s.Messages:
		return m
	case <-time.After(Timeout):
		t.Fatalf("smtptest: no mail arrived at %s within %v", s.Addr, Timeout)
		return Message{}
	}
}

func (s *Server) listen() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv != nil {
		return errors.New("smtptest: server is running")
	}
	l, err := net.Listen("tcp", s.Addr)
	if err != nil {
		return err
	}
	if s.opts.ImplicitTLS {
		l = tls.NewListener(l, s.tls)
	}
	s.Addr = l.Addr().String()
	srv := smtp.NewServer(backend{s})
	srv.Domain = "smtptest.localhost"
	srv.ReadTimeout, srv.WriteTimeout = Timeout, Timeout
	srv.ErrorLog = log.New(io.Discard, "", 0)
	if s.opts.StartTLS {
		srv.TLSConfig = s.tls
	}
	s.srv, s.l = srv, l
	go srv.Serve(l)
	return nil
}

type backend struct{ s *Server }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: b.s, conn: c}, nil
}

// session collects one mail; it implements smtp.AuthSession.
type session struct {
	s      *Server
	conn   *smtp.Conn
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string {
	if ss.s.opts.Username == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (ss *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != ss.s.opts.Username || password != ss.s.opts.Password {
			return smtp.ErrAuthFailed
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if ss.s.opts.Username != "" && !ss.authed {
		return smtp.ErrAuthRequired
	}
	if err := ss.refuse("MAIL", from); err != nil {
		return err
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if err := ss.refuse("RCPT", to); err != nil {
		return err
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if err := ss.refuse("DATA", ""); err != nil {
		return err
	}
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m, err := parse(raw)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "smtptest: " + err.Error()}
	}
	m.From, m.To, m.Helo = ss.from, ss.to, ss.conn.Hostname()
	ss.s.Messages <- m
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// parse decodes a mail's subject and its text and HTML parts, at any
// depth of multipart nesting.
func parse(raw []byte) (Message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Message{}, err
	}
	m := Message{Header: msg.Header, Raw: raw}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return m, err
	}
	return m, m.part(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
}

func (m *Message) part(contentType, encoding string, body io.Reader) error {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "text/plain", nil
	}
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.part(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = string(b)
	case "text/html":
		m.HTML = string(b)
	}
	return nil
}

// selfSigned makes a certificate for 127.0.0.1 and localhost and a pool
// that trusts it.
func selfSigned() (*tls.Config, *x509.CertPool, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "smtptest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, roots, nil
}
