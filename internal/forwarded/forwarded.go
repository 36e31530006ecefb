// Package forwarded reads the hops of the forwarding headers a reverse
// proxy adds: X-Forwarded-For and RFC 7239 Forwarded. It knows nothing of
// which proxies are trusted beyond the predicate it is given; it only turns
// field lines into entries, each an address or, when it names none, the
// text it holds. Every function is pure and safe for concurrent use.
package forwarded

import (
	"net/netip"
	"strings"
)

// Hop is one entry of a forwarding header; the last one was added last.
type Hop struct {
	// Addr is the address the entry names, without port or IPv6 zone,
	// an IPv4-mapped IPv6 address as IPv4. It is the zero Addr when the
	// entry names none ("unknown", an obfuscated identifier, garbage).
	Addr netip.Addr
	// Raw is the entry as sent, without surrounding whitespace: for
	// Forwarded, the for parameter's value (unquoted), or the whole
	// element when it has none.
	Raw string
}

// XForwardedFor returns the hops of the X-Forwarded-For field lines, in
// order. The lines are joined as one comma-separated list (RFC 9110
// §5.3) and empty list elements are skipped (§5.6.1).
func XForwardedFor(lines []string) []Hop {
	var hops []Hop
	for _, e := range strings.Split(strings.Join(lines, ","), ",") {
		e = trimOWS(e)
		if e == "" {
			continue
		}
		// Not in the syntax, but a quoted node is no less clear.
		addr, _ := Node(unquote(e))
		hops = append(hops, Hop{Addr: addr, Raw: e})
	}
	return hops
}

// Forwarded returns the hops of the RFC 7239 Forwarded field lines, one per
// element, in order. The lines are joined as one list; commas and
// semicolons inside quoted strings do not split it. Parameter names are
// case-insensitive; a value is a token or a quoted string. An element
// without a for parameter, or with two, names no address; its Raw is the
// whole element.
func Forwarded(lines []string) []Hop {
	s := strings.Join(lines, ",")
	var hops []Hop
	for s != "" {
		var elem string
		elem, s = cut(s, ',')
		elem = trimOWS(elem)
		if elem == "" {
			continue
		}
		hops = append(hops, element(elem))
	}
	return hops
}

// element reads one Forwarded element: pairs separated by semicolons.
func element(elem string) Hop {
	var (
		forValue string
		fors     int
	)
	for rest := elem; rest != ""; {
		var pair string
		pair, rest = cut(rest, ';')
		name, value, ok := strings.Cut(pair, "=")
		if !ok || !strings.EqualFold(trimOWS(name), "for") {
			continue
		}
		forValue = unquote(trimOWS(value))
		fors++
	}
	if fors != 1 {
		return Hop{Raw: elem}
	}
	addr, _ := Node(forValue)
	return Hop{Addr: addr, Raw: forValue}
}

// cut splits s at the first sep outside a quoted string.
func cut(s string, sep byte) (before, after string) {
	quoted := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++ // a quoted-pair: the next byte is literal
		case c == '"':
			quoted = !quoted
		case !quoted && c == sep:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

// unquote returns the content of a quoted string, its quoted-pairs
// resolved; anything else (a token) is returned as it is.
func unquote(v string) string {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return v
	}
	v = v[1 : len(v)-1]
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			i++
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// Node reads a node as proxies write it: an IPv4 address, an IPv6 address
// (bare or in brackets, with or without a zone), either with a port after a
// colon ("198.51.100.23:51234", "[2001:db8::5]:443"). A port is digits or
// an RFC 7239 obfuscated port ("_" and letters, digits, ".", "_", "-"). The
// port and zone are dropped and an IPv4-mapped address comes back as IPv4.
// ok is false when s is no such node; addr is then the zero Addr.
func Node(s string) (addr netip.Addr, ok bool) {
	host := s
	if rest, found := strings.CutPrefix(s, "["); found {
		inner, port, found := strings.Cut(rest, "]")
		if !found || port != "" && (port[0] != ':' || !isPort(port[1:])) {
			return netip.Addr{}, false
		}
		host = inner
	} else if h, port, found := strings.Cut(s, ":"); found && !strings.Contains(port, ":") {
		// One colon: an IPv4 address and a port (an IPv6 address has
		// more); h then parses as IPv4 or not at all.
		if !isPort(port) {
			return netip.Addr{}, false
		}
		host = h
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}, false
	}
	return a.WithZone("").Unmap(), true
}

// isPort says whether p is a port number or an obfuscated port.
func isPort(p string) bool {
	if p == "" {
		return false
	}
	if p[0] == '_' {
		for i := 1; i < len(p); i++ {
			if c := p[i]; !isAlnum(c) && c != '.' && c != '_' && c != '-' {
				return false
			}
		}
		return len(p) > 1
	}
	if len(p) > 5 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// trimOWS trims the optional whitespace (spaces and tabs) of RFC 9110.
func trimOWS(s string) string { return strings.Trim(s, " \t") }

// Client returns the client that hops name: the right-most hop that is not
// itself trusted (an entry that names no address is never trusted). ok is
// false when every hop is trusted, or there are none.
func Client(hops []Hop, trusted func(netip.Addr) bool) (hop Hop, ok bool) {
	for i := len(hops) - 1; i >= 0; i-- {
		if !hops[i].Addr.IsValid() || !trusted(hops[i].Addr) {
			return hops[i], true
		}
	}
	return Hop{}, false
}

// KeyPrefix starts every Key, so that no key of an entry can be taken for
// an address.
const KeyPrefix = "fwd:"

// maxKey bounds how much of an entry its key keeps.
const maxKey = 64

// Key is the key of an entry that names no address: KeyPrefix and the
// entry's first 64 visible ASCII bytes (other bytes are left out), so the
// key is short and safe to show and log.
func Key(raw string) string {
	b := make([]byte, 0, len(KeyPrefix)+maxKey)
	b = append(b, KeyPrefix...)
	for i := 0; i < len(raw) && len(b) < cap(b); i++ {
		if c := raw[i]; '!' <= c && c <= '~' {
			b = append(b, c)
		}
	}
	return string(b)
}
