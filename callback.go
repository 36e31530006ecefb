// This file decides whether a callback_url may receive a flow token, through
// the allow list of Config.CallbackOrigins (internal/callbackurl), and adds
// the token or error to the URL the browser lands on.

package pbxauth

import (
	"errors"
	"net/url"

	"github.com/pbxauth/pbxauth/internal/callbackurl"
)

// checkCallbackURL returns the parsed callback_url when it is allowed, else
// INVALID_ARGUMENT.
func (a *Auth) checkCallbackURL(raw string) (*url.URL, *apiError) {
	if raw == "" {
		return nil, invalidArgument("callback_url is required")
	}
	if len(raw) > a.cfg.Limits.CallbackURLBytes {
		return nil, invalidArgument("callback_url is too long")
	}
	u, err := a.origins.Check(raw)
	if errors.Is(err, callbackurl.ErrMalformed) {
		return nil, invalidArgument("callback_url is malformed: no dot segments, encoded or back slashes, empty segments or fragment")
	}
	if err != nil {
		return nil, invalidArgument("callback_url is not allowed: its origin, or its path, is not in the callback origins")
	}
	return u, nil
}

// withToken returns u with a query parameter name=value added, keeping the
// URL's own query.
func withToken(u *url.URL, name, value string) string {
	v := *u
	q := v.Query()
	q.Set(name, value)
	v.RawQuery = q.Encode()
	return v.String()
}
