// This file holds the example's own callback origins: the reset link of its
// "Forgot password?" points at its own /reset page, so the origin the page
// is served from must be allowed whatever the seed lists.

package main

import "net/url"

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
