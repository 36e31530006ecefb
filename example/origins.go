// This file holds the example's own callback origins: the reset link of its
// "Forgot password?" points at its own /reset page, so the origin the page
// is served from must be allowed whatever the seed lists.

package main

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
)

// ownOrigins returns the origins the example's page is reached at: base
// (http://HOST:PORT it listens on) and the origin of publicURL, the external
// base URL of the API, when that is a different absolute http(s) URL. A
// malformed publicURL adds nothing here: pbxauth.New reports it.
//
// The whole origin is allowed (DESIGN.md: "the example's own origin"), not
// only /reset: whatever path a link names, it reaches this server and no
// other, and the request log records paths without their query.
func ownOrigins(base, publicURL string) []string {
	origins := []string{base}
	u, err := url.Parse(publicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return origins
	}
	if o := u.Scheme + "://" + u.Host; o != base {
		origins = append(origins, o)
	}
	return origins
}

// defaultPublicURL is the public URL when -public-url is not given:
// http://ADDR/api, where a loopback address is named localhost. A WebAuthn
// RP ID must be a domain, never an IP address, so only under a name do
// passkeys work (DESIGN.md, "Passkeys"); http://localhost is a secure
// context as 127.0.0.1 is. pageOrigin is that origin when it differs from
// base, the address the example listens on, else "".
func defaultPublicURL(base string) (publicURL, pageOrigin string) {
	u, err := url.Parse(base)
	if err != nil {
		return base + "/api", ""
	}
	if !loopbackIP(u.Host) {
		return base + "/api", ""
	}
	origin := u.Scheme + "://" + net.JoinHostPort("localhost", u.Port())
	return origin + "/api", origin
}

// toPageOrigin sends a browser that opened a page at the listening address
// (the "listening on" line names 127.0.0.1) to the same page under the
// public URL's name, where passkeys work and where cookies, Microsoft's
// redirect and the reset link all point: one origin, not two whose
// cookies a browser keeps apart. The API is served at both.
func toPageOrigin(origin string, next http.Handler) http.Handler {
	if origin == "" {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackIP(r.Host) || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			next.ServeHTTP(w, r)
			return
		}
		// Temporary: another run may be given -public-url.
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, origin+r.URL.RequestURI(), http.StatusFound)
	})
}

// loopbackIP reports whether hostport names a loopback address (not a
// name: a proxy's Host is left alone).
func loopbackIP(hostport string) bool {
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		host = hostport
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}
