// This file decides whether a callback_url may receive a flow token: only
// URLs whose origin is listed in Config.CallbackOrigins, compared exactly.

package pbxauth

import (
	"net"
	"net/url"
	"strings"
)

// origin is a normalised scheme://host:port with the default port explicit.
type origin struct{ scheme, host, port string }

// parseOrigin normalises an absolute http(s) URL's origin; ok is false for
// anything else (relative, scheme-relative, userinfo, other schemes).
func parseOrigin(raw string) (origin, *url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return origin{}, nil, false
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "https" && port == "":
		port = "443"
	case scheme == "http" && port == "":
		port = "80"
	case scheme != "https" && scheme != "http":
		return origin{}, nil, false
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.ContainsAny(host, "@\\") {
		return origin{}, nil, false
	}
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	return origin{scheme, host, port}, u, true
}

// callbackOrigins parses Config.CallbackOrigins once, in New.
func callbackOrigins(list []string) ([]origin, error) {
	out := make([]origin, 0, len(list))
	for _, raw := range list {
		o, u, ok := parseOrigin(raw)
		if !ok || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, &url.Error{Op: "pbxauth: callback origin", URL: raw, Err: errBadOrigin}
		}
		out = append(out, o)
	}
	return out, nil
}

var errBadOrigin = invalidArgument("must be scheme://host[:port]")

// checkCallbackURL returns the parsed callback_url when its origin is
// allowed, else INVALID_ARGUMENT.
func (a *Auth) checkCallbackURL(raw string) (*url.URL, *apiError) {
	if raw == "" {
		return nil, invalidArgument("callback_url is required")
	}
	if len(raw) > a.cfg.Limits.CallbackURLBytes {
		return nil, invalidArgument("callback_url is too long")
	}
	o, u, ok := parseOrigin(raw)
	if ok {
		for _, allowed := range a.origins {
			if o == allowed {
				return u, nil
			}
		}
	}
	return nil, invalidArgument("callback_url is not an allowed origin")
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
