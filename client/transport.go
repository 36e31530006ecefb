// This file puts the bearer token on requests to the API's origin:
// Transport, HTTPClient and the golang.org/x/oauth2 adapter.

package client

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
)

// transport is the RoundTripper of Client.Transport.
type transport struct {
	c    *Client
	base http.RoundTripper
}

// Transport returns an http.RoundTripper over Config.HTTPClient's transport
// that sends the bearer token with every request to BaseURL's scheme, host
// and port — the API's routes and the host's own — and with no other. A
// redirect elsewhere is followed without it. See [Client.HTTPClient].
func (c *Client) Transport() http.RoundTripper {
	base := c.hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{c: c, base: base}
}

// HTTPClient returns a copy of Config.HTTPClient whose transport is
// [Client.Transport]. Before a request the token is refreshed when due;
// after a 401 with error="invalid_token" it is refreshed and the request
// sent again, once, when its body can be replayed (http.Request.GetBody,
// which http.NewRequest sets for bytes and strings readers); otherwise the
// 401 is the answer. When the server ended the sign-in the request fails
// with [ErrSignedOut].
func (c *Client) HTTPClient() *http.Client {
	hc := *c.hc
	hc.Transport = c.Transport()
	return &hc
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.c.sameOrigin(req.URL) {
		return t.base.RoundTrip(req)
	}
	ctx := req.Context()
	tok, err := t.c.Token(ctx)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	resp, err := t.base.RoundTrip(withBearer(req, tok.AccessToken, req.Body))
	if err != nil || resp.StatusCode != http.StatusUnauthorized || !invalidToken(resp.Header) {
		return resp, err
	}
	next, err := t.c.refresh(ctx, tok, true)
	if errors.Is(err, ErrSignedOut) {
		resp.Body.Close()
		return nil, err
	}
	if err != nil {
		// No new token now (the server unreachable, the caller gone):
		// the 401 is the answer.
		return resp, nil
	}
	body := req.Body
	if body != nil && body != http.NoBody {
		if req.GetBody == nil {
			return resp, nil
		}
		if body, err = req.GetBody(); err != nil {
			return resp, nil
		}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
	resp.Body.Close()
	return t.base.RoundTrip(withBearer(req, next.AccessToken, body))
}

// withBearer is a copy of req with the token and body; req itself must not
// be changed by a RoundTripper.
func withBearer(req *http.Request, token string, body io.ReadCloser) *http.Request {
	r := req.Clone(req.Context())
	r.Header.Set("Authorization", "Bearer "+token)
	r.Body = body
	return r
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// invalidToken says whether a 401 challenges the token itself (RFC 6750:
// an error parameter invalid_token), rather than asking for one or
// refusing something else. A realm that merely contains the words does not
// count: quoted values are read as values.
func invalidToken(h http.Header) bool {
	for _, v := range h.Values("WWW-Authenticate") {
		if challengeParam(v, "error") == "invalid_token" {
			return true
		}
	}
	return false
}

// challengeParam returns the value of the first auth-param called name
// (case-insensitively) in the WWW-Authenticate value v, unquoted, or ""
// (RFC 9110 §11.2: name = token or quoted-string, with backslash escapes).
func challengeParam(v, name string) string {
	for i := 0; i < len(v); {
		j := i
		for j < len(v) && !strings.ContainsRune("=, \t\"", rune(v[j])) {
			j++
		}
		key := v[i:j]
		k := j
		for k < len(v) && v[k] == ' ' {
			k++
		}
		if k == len(v) || v[k] != '=' || key == "" {
			if j == i && v[i] == '"' { // a quoted string without a name: skip it whole
				_, k = quoted(v, i)
			}
			i = max(k, i+1)
			continue
		}
		k++
		for k < len(v) && v[k] == ' ' {
			k++
		}
		var val string
		if k < len(v) && v[k] == '"' {
			val, k = quoted(v, k)
		} else {
			s := k
			for k < len(v) && v[k] != ',' && v[k] != ' ' {
				k++
			}
			val = v[s:k]
		}
		if strings.EqualFold(key, name) {
			return val
		}
		i = k
	}
	return ""
}

// quoted reads the quoted-string that starts at v[i] (a '"'), returning
// its value and the index after its closing quote.
func quoted(v string, i int) (string, int) {
	var b strings.Builder
	for i++; i < len(v) && v[i] != '"'; i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String(), i + 1
}

// sameOrigin says whether u has BaseURL's scheme, host and port (default
// ports made explicit).
func (c *Client) sameOrigin(u *url.URL) bool {
	return strings.EqualFold(u.Scheme, c.base.Scheme) &&
		strings.EqualFold(u.Hostname(), c.base.Hostname()) &&
		port(u) == port(c.base)
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "https") {
		return "443"
	}
	return "80"
}

// TokenSource adapts the client to golang.org/x/oauth2 for code that wants
// an oauth2.TokenSource: Token returns the current access token, refreshed
// as [Client.Token] does, without the refresh token. A refresh it starts
// runs to its end (at most 30 s) as every refresh does.
func (c *Client) TokenSource() oauth2.TokenSource { return tokenSource{c} }

type tokenSource struct{ c *Client }

func (s tokenSource) Token() (*oauth2.Token, error) {
	t, err := s.c.Token(context.Background())
	if err != nil {
		return nil, err
	}
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "Bearer", Expiry: t.Expiry}, nil
}
