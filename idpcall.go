// This file is how the PBX calls identity providers. Every call (discovery,
// signing keys, the code exchange, UserInfo) goes through a client that
// follows no redirect, so that the client credentials are sent nowhere but
// to the token endpoint discovery named. The IdP's own trouble (a 5xx,
// temporarily_unavailable, keys that cannot be fetched) is told apart from
// a refusal of the user: it lands as temporarily_unavailable, logged at
// WARN.

package pbxauth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"golang.org/x/oauth2"
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
		s = "could not be reached: " + err.Error()
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

// tokenFailure is the failure of a code exchange. A 5xx, or the OAuth
// error temporarily_unavailable or server_error, is the IdP's trouble; a
// refusal of the PBX itself is server_error (idpRefusal); any other
// refusal is access_denied.
func tokenFailure(m *MS365, err error) *msFailure {
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		return idpUnavailable("token endpoint", err.Error())
	}
	status := 0
	if re.Response != nil {
		status = re.Response.StatusCode
	}
	// Some IdPs echo what they were sent; the log never gets the secret.
	msg := err.Error()
	if sec := m.ClientSecret; sec != "" {
		msg = strings.ReplaceAll(msg, sec, "[client secret]")
	}
	reason := fmt.Errorf("token endpoint answered %d: %s", status, msg)
	if status >= 500 || re.ErrorCode == "temporarily_unavailable" || re.ErrorCode == "server_error" {
		return &msFailure{code: "temporarily_unavailable", reason: reason}
	}
	return idpRefusal(re.ErrorCode, "access_denied", reason)
}
