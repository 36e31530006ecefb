// Package callbackurl decides whether a URL may receive a flow token: an
// allow list of origins, each optionally narrowed to one exact path, and a
// refusal of every path that different parsers could read differently
// (RFC 9700 §2.1 and §4.1: exact redirect matching).
package callbackurl

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Errors of Check and Parse.
var (
	ErrNotAllowed = errors.New("not an allowed callback URL")
	ErrMalformed  = errors.New("callback URL is malformed (dot segments, encoded or back slashes, empty segments or a fragment)")
	ErrBadEntry   = errors.New("must be scheme://host[:port][/path] without query or fragment")
)

// origin is a normalised scheme://host:port with the default port explicit.
type origin struct{ scheme, host, port string }

// entry is one allowed origin; path is "" when the whole origin is allowed,
// else the only escaped path allowed on it.
type entry struct {
	origin
	path string
}

// List is a parsed allow list. The zero List allows nothing.
type List struct{ entries []entry }

// Parse parses allow-list entries: "https://app.example.com" (or with path
// "/") allows the whole origin; "https://app.example.com/signed-in" allows
// only that path on it, byte for byte.
func Parse(raw []string) (List, error) {
	var l List
	for _, s := range raw {
		o, u, err := parse(s)
		if err != nil || u.RawQuery != "" || u.ForceQuery {
			return List{}, fmt.Errorf("callback origin %q: %w", s, ErrBadEntry)
		}
		e := entry{origin: o, path: u.EscapedPath()}
		if e.path == "/" {
			e.path = ""
		}
		l.entries = append(l.entries, e)
	}
	return l, nil
}

// Check returns the parsed URL when raw is allowed: its origin is listed
// (scheme and host case-insensitively, the port exactly, default ports made
// explicit) and, for an entry with a path, its escaped path equals that
// path. The query is the client's own. ErrMalformed for a URL whose path or
// form is ambiguous, ErrNotAllowed for any other refusal.
func (l List) Check(raw string) (*url.URL, error) {
	o, u, err := parse(raw)
	if err != nil {
		return nil, err
	}
	p := u.EscapedPath()
	for _, e := range l.entries {
		if e.origin == o && (e.path == "" || e.path == p) {
			return u, nil
		}
	}
	return nil, ErrNotAllowed
}

// parse normalises an absolute http(s) URL's origin and checks its form.
func parse(raw string) (origin, *url.URL, error) {
	if strings.ContainsAny(raw, "\\#") {
		return origin{}, nil, ErrMalformed
	}
	u, err := url.Parse(raw)
	if err != nil || u.Opaque != "" || u.User != nil || u.Host == "" {
		return origin{}, nil, ErrNotAllowed
	}
	scheme := strings.ToLower(u.Scheme)
	port := u.Port()
	switch {
	case scheme == "https" && port == "":
		port = "443"
	case scheme == "http" && port == "":
		port = "80"
	case scheme != "https" && scheme != "http":
		return origin{}, nil, ErrNotAllowed
	}
	host := strings.ToLower(u.Hostname())
	if host == "" || strings.ContainsAny(host, "@%") {
		return origin{}, nil, ErrNotAllowed
	}
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	}
	if !cleanPath(u.EscapedPath()) {
		return origin{}, nil, ErrMalformed
	}
	return origin{scheme, host, port}, u, nil
}

// cleanPath reports whether an escaped path has one reading only: no "." or
// ".." segment (also percent-encoded), no encoded "/" or "\", and no empty
// segment but a trailing one.
func cleanPath(p string) bool {
	if p == "" || p == "/" {
		return true
	}
	lower := strings.ToLower(p)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") {
		return false
	}
	segs := strings.Split(lower, "/")
	if segs[0] != "" {
		return false // a path of an absolute URL starts with "/"
	}
	for i, s := range segs[1:] {
		s = strings.ReplaceAll(s, "%2e", ".")
		switch {
		case s == "." || s == "..":
			return false
		case s == "" && i != len(segs)-2:
			return false
		}
	}
	return true
}
