// This file is how the PBX calls identity providers. Every call (discovery,
// signing keys, the code exchange, UserInfo) goes through a client that
// follows no redirect, so that the client credentials are sent nowhere but
// to the token endpoint discovery named.

package pbxauth

import (
	"errors"
	"net/http"
)

// errIdPRedirect is a 3xx from an identity provider, which is an error.
var errIdPRedirect = errors.New("answered with a redirect, which is not followed")

// idpClient returns the client of calls to identity providers: a copy of
// Config.HTTPClient (the host's own is left as it is) that follows no
// redirect.
func (a *Auth) idpClient() *http.Client {
	c := *a.cfg.HTTPClient
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return errIdPRedirect }
	return &c
}
