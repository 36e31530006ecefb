// This file is how the PBX calls identity providers. Every call (discovery,
// signing keys, the code exchange, UserInfo) goes through a client that
// follows no redirect, so that the client credentials are sent nowhere but
// to the token endpoint discovery named. The IdP's own trouble (a 5xx,
// temporarily_unavailable, keys that cannot be fetched) is told apart from
// a refusal of the user: it lands as temporarily_unavailable, logged at
// WARN.
//
// What an IdP answers reaches the log only as this file words it: a status
// code, an OAuth error code and at most maxDescription characters of its
// error_description with the client secret removed in every form
// (internal/redact); any other answer body, a malformed answer's bytes or
// a redirect's target never. Events carry the error code only.

package pbxauth

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/internal/redact"
	"github.com/pbxauth/pbxauth/store"
)

// errIdPRedirect is a 3xx from an identity provider, which is an error.
var errIdPRedirect = errors.New("answered with a redirect, which is not followed")

// idpClient returns the client of calls to identity providers: a copy of
// Config.HTTPClient (the host's own is left as it is) that follows no
// redirect. When w is set, it notes how each call ended.
func (a *Auth) idpClient(w *idpWatch) *http.Client {
	c := *a.cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errIdPRedirect }
	if w != nil {
		next := c.Transport
		if next == nil {
			next = http.DefaultTransport
		}
		c.Transport = watchedTransport{next: next, w: w}
	}
	return &c
}

// idpWatch keeps how the last call through a client ended. A provider's
// discovery and signing keys go through one client with a watch, so that
// an ID token that cannot be checked because the keys cannot be fetched is
// told apart from a forged one (go-oidc's error says so only in words).
type idpWatch struct {
	mu   sync.Mutex
	last string // "" after a 2xx answer, else what went wrong
}

// trouble says what went wrong with the last call, or "".
func (w *idpWatch) trouble() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.last
}

func (w *idpWatch) note(resp *http.Response, err error) {
	var s string
	switch {
	case err != nil:
		s = "could not be reached: " + connTrouble(err)
	case resp.StatusCode/100 == 3:
		s = fmt.Sprintf("answered %d, a redirect, which is not followed", resp.StatusCode)
	case resp.StatusCode/100 != 2:
		s = fmt.Sprintf("answered %d %s", resp.StatusCode, http.StatusText(resp.StatusCode))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.last = s
}

// watchedTransport notes in w how each round trip ended.
type watchedTransport struct {
	next http.RoundTripper
	w    *idpWatch
}

func (t watchedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	t.w.note(resp, err)
	return resp, err
}

// idpUnavailable is a sign-in that failed by the IdP's trouble: what was
// called and what went wrong.
func idpUnavailable(what, trouble string) *msFailure {
	return &msFailure{code: "temporarily_unavailable", reason: fmt.Errorf("%s %s", what, trouble)}
}

// maxDescription bounds what of an IdP's error_description is logged.
const maxDescription = 200

// tokenFailure is the failure of a code exchange. A 5xx, or the OAuth
// error temporarily_unavailable or server_error, is the IdP's trouble; a
// refusal of the PBX itself is server_error (idpRefusal); any other
// refusal is access_denied. The reason names the status and the OAuth
// error code; the description, without the secret, goes to the log only.
func tokenFailure(m *store.MS365, err error) *msFailure {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return idpUnavailable("token endpoint", callTrouble(err))
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	secret := redact.New(m.ApplicationID, m.ClientSecret)
	code := secret.Remove(re.ErrorCode)
	if code == "" {
		fail := &msFailure{code: "access_denied", reason: fmt.Errorf("token endpoint answered %d, no OAuth error (the answer is not logged)", status)}
		if status >= 500 {
			fail.code = "temporarily_unavailable"
		}
		return fail
	}
	if oauthErrorCode(code) != code {
		code = "(not an OAuth error code)"
	}
	reason := fmt.Errorf("token endpoint answered %d: %s", status, code)
	fail := idpRefusal(code, "access_denied", reason)
	if status >= 500 || code == "temporarily_unavailable" || code == "server_error" {
		fail = &msFailure{code: "temporarily_unavailable", reason: reason}
	}
	fail.detail = redact.Cut(secret.Remove(re.ErrorDescription), maxDescription)
	return fail
}

// callTrouble says what went wrong with a call whose answer the OAuth or
// OIDC library could not use, in words of this side only: the library's
// own message may quote the answer's body.
func callTrouble(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return connTrouble(ue.Err)
	}
	return "answered what could not be used (the answer is not logged)"
}

// connTrouble says why a connection to an IdP failed: a refused or reset
// connection, a name that does not resolve, a certificate, a timeout, a
// redirect. Anything else (a malformed answer, whose error quotes its
// first bytes) is not spelled out.
func connTrouble(err error) string {
	var (
		dns  *net.DNSError
		op   *net.OpError
		cert *tls.CertificateVerificationError
		ne   net.Error
	)
	switch {
	case errors.Is(err, errIdPRedirect):
		return errIdPRedirect.Error()
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()):
		return "timed out"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.As(err, &dns):
		return dns.Error()
	case errors.As(err, &cert):
		return cert.Error()
	case errors.As(err, &op):
		return op.Error()
	}
	return "the connection failed or the answer could not be read"
}

// discoveryError is a failed discovery, as it may be logged.
func discoveryError(w *idpWatch, err error) error {
	var mismatch *oidc.IssuerMismatchError
	switch {
	case errors.As(err, &mismatch):
		return fmt.Errorf("discovery names another issuer than %s", mismatch.Provided)
	case w.trouble() != "":
		return errors.New("discovery " + w.trouble())
	}
	return errors.New("discovery " + callTrouble(err))
}
