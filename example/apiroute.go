// This file routes the example's requests: the API under /api/, the page
// and the stand-in identity provider elsewhere. Nearly every request is an
// API call at a plain path, which goes straight to the API, stripped of
// /api, with one allocation; ServeMux and StripPrefix would cost five and
// three walks of the routing tree (BENCHMARKS.md §13). Every other path
// goes through the ServeMux, which answers exactly as it did before, and
// a plain path would reach the same handler there.

package main

import (
	"net/http"
	"net/url"
	"strings"
)

// apiPrefix is where the API is mounted.
const apiPrefix = "/api"

// routeAPI returns a handler that serves plain API paths (plainAPIPath)
// with api, stripped of apiPrefix, and every other request with mux, in
// which api is mounted at apiPrefix+"/" behind http.StripPrefix.
func routeAPI(mux *http.ServeMux, api http.Handler) http.Handler {
	mux.Handle(apiPrefix+"/", http.StripPrefix(apiPrefix, api))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect || !plainAPIPath(r.URL) {
			mux.ServeHTTP(w, r)
			return
		}
		api.ServeHTTP(w, stripAPI(r))
	})
}

// plainAPIPath says whether u's path is under apiPrefix+"/" and one that
// ServeMux would route as it is: clean (no empty, "." or ".." segment but
// a trailing slash) and of characters that need no escaping, so that its
// escaped form, the one ServeMux matches, is the path itself.
func plainAPIPath(u *url.URL) bool {
	p := u.Path
	if u.RawPath != "" || !strings.HasPrefix(p, apiPrefix+"/") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '/' || c == '-' || c == '_' || c == '.' || c == '~') {
			return false
		}
	}
	return !strings.Contains(p, "//") && !strings.Contains(p, "/./") && !strings.Contains(p, "/../") &&
		!strings.HasSuffix(p, "/.") && !strings.HasSuffix(p, "/..")
}

// strippedRequest is a request and its URL, made in one allocation.
type strippedRequest struct {
	r http.Request
	u url.URL
}

// stripAPI is r with apiPrefix taken off its path, as http.StripPrefix
// makes it (a shallow copy with a copy of the URL), for a path that
// plainAPIPath accepted.
func stripAPI(r *http.Request) *http.Request {
	s := &strippedRequest{r: *r, u: *r.URL}
	s.u.Path = r.URL.Path[len(apiPrefix):]
	s.r.URL = &s.u
	return &s.r
}
