package forwarded

import (
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// hop builds the Hop the tests expect: an address when s parses as one,
// else none.
func hop(addr, raw string) Hop {
	h := Hop{Raw: raw}
	if addr != "" {
		h.Addr = netip.MustParseAddr(addr)
	}
	return h
}

func TestNode(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"198.51.100.23", "198.51.100.23"},
		{"198.51.100.23:51234", "198.51.100.23"},
		{"198.51.100.23:_hidden", "198.51.100.23"},
		{"2001:db8::5", "2001:db8::5"},
		{"[2001:db8::5]", "2001:db8::5"},
		{"[2001:db8::5]:443", "2001:db8::5"},
		{"[2001:db8::5]:_p.1-x", "2001:db8::5"},
		{"fe80::1%eth0", "fe80::1"},
		{"[fe80::1%eth0]:443", "fe80::1"},
		{"::ffff:198.51.100.23", "198.51.100.23"},
		{"[::ffff:198.51.100.23]:80", "198.51.100.23"},
		{"::1", "::1"},
		{"[198.51.100.23]:80", "198.51.100.23"},
		// Not nodes.
		{"unknown", ""},
		{"_obfuscated", ""},
		{"", ""},
		{"198.51.100.23:", ""},
		{"198.51.100.23:123456", ""},
		{"198.51.100.23:http", ""},
		{"198.51.100.23:_", ""},
		{"198.51.100.23:_a/b", ""},
		{"[2001:db8::5]443", ""},
		{"[2001:db8::5]:", ""},
		{"[2001:db8::5", ""},
		{"2001:db8::5]:443", ""},
		{"[unknown]", ""},
		{"198.51.100", ""},
		{"host.example:80", ""},
		{" 198.51.100.23", ""}, // the lists trim; a node itself has no space
		{"1:2", ""},
	} {
		got, ok := Node(tc.in)
		if want := (tc.want != ""); ok != want || ok && got != netip.MustParseAddr(tc.want) {
			t.Errorf("Node(%q) = %v, %v; want %q", tc.in, got, ok, tc.want)
		}
		if !ok && got.IsValid() {
			t.Errorf("Node(%q) failed with an address %v", tc.in, got)
		}
	}
}

func TestXForwardedFor(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  []Hop
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{"198.51.100.23"}, []Hop{hop("198.51.100.23", "198.51.100.23")}},
		{[]string{"203.0.113.9, 198.51.100.23:51234"}, []Hop{hop("203.0.113.9", "203.0.113.9"), hop("198.51.100.23", "198.51.100.23:51234")}},
		// Field lines are one list, in order; empty elements are skipped.
		{[]string{"203.0.113.9,", " ,[2001:db8::5]:443\t"}, []Hop{hop("203.0.113.9", "203.0.113.9"), hop("2001:db8::5", "[2001:db8::5]:443")}},
		{[]string{`"[2001:db8::5]:443"`}, []Hop{hop("2001:db8::5", `"[2001:db8::5]:443"`)}},
		{[]string{"unknown, 198.51.100.23"}, []Hop{hop("", "unknown"), hop("198.51.100.23", "198.51.100.23")}},
		{[]string{"198.51.100.23, for=1.2.3.4"}, []Hop{hop("198.51.100.23", "198.51.100.23"), hop("", "for=1.2.3.4")}},
	} {
		if got := XForwardedFor(tc.lines); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("XForwardedFor(%q) = %v, want %v", tc.lines, got, tc.want)
		}
	}
}

func TestForwarded(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  []Hop
	}{
		{nil, nil},
		{[]string{"for=198.51.100.23"}, []Hop{hop("198.51.100.23", "198.51.100.23")}},
		{[]string{`For="198.51.100.23:51234"`}, []Hop{hop("198.51.100.23", "198.51.100.23:51234")}},
		{[]string{`FOR="[2001:db8::5]:443"`}, []Hop{hop("2001:db8::5", "[2001:db8::5]:443")}},
		{[]string{`for="[2001:db8::5]"`}, []Hop{hop("2001:db8::5", "[2001:db8::5]")}},
		{[]string{"for=198.51.100.23:51234"}, []Hop{hop("198.51.100.23", "198.51.100.23:51234")}}, // unquoted, as some proxies send it
		{[]string{"proto=https;for=198.51.100.23;by=203.0.113.1"}, []Hop{hop("198.51.100.23", "198.51.100.23")}},
		{[]string{"for=203.0.113.9;proto=http, for=198.51.100.23"}, []Hop{hop("203.0.113.9", "203.0.113.9"), hop("198.51.100.23", "198.51.100.23")}},
		// Field lines are one list, in order; empty elements are skipped.
		{[]string{"for=203.0.113.9,", "  ", `for="[2001:db8::5]:443"`}, []Hop{hop("203.0.113.9", "203.0.113.9"), hop("2001:db8::5", "[2001:db8::5]:443")}},
		{[]string{"for=unknown"}, []Hop{hop("", "unknown")}},
		{[]string{"for=_hidden"}, []Hop{hop("", "_hidden")}},
		{[]string{`for="_hidden:_port"`}, []Hop{hop("", "_hidden:_port")}},
		// An element without for, or with two, names nobody.
		{[]string{"proto=https;by=203.0.113.1"}, []Hop{hop("", "proto=https;by=203.0.113.1")}},
		{[]string{"for=198.51.100.23;for=203.0.113.9"}, []Hop{hop("", "for=198.51.100.23;for=203.0.113.9")}},
		{[]string{"forwarded=198.51.100.23"}, []Hop{hop("", "forwarded=198.51.100.23")}},
		// Commas and semicolons in quoted strings do not split.
		{[]string{`for=198.51.100.23, for="x, for=203.0.113.9"`}, []Hop{hop("198.51.100.23", "198.51.100.23"), hop("", "x, for=203.0.113.9")}},
		{[]string{`for="a;b\"c", for=203.0.113.9`}, []Hop{hop("", `a;b"c`), hop("203.0.113.9", "203.0.113.9")}},
		// An unterminated quoted string runs to the end.
		{[]string{`for="x, for=203.0.113.9`}, []Hop{hop("", `"x, for=203.0.113.9`)}},
		// Not Forwarded syntax: a bare X-Forwarded-For list names nobody.
		{[]string{"198.51.100.23"}, []Hop{hop("", "198.51.100.23")}},
	} {
		if got := Forwarded(tc.lines); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Forwarded(%q) = %v, want %v", tc.lines, got, tc.want)
		}
	}
}

func TestClient(t *testing.T) {
	proxies := netip.MustParsePrefix("10.0.0.0/8")
	trusted := func(a netip.Addr) bool { return proxies.Contains(a) }
	for _, tc := range []struct {
		xff  string
		want Hop
		ok   bool
	}{
		{"", Hop{}, false},
		{"10.0.0.1, 10.0.0.2", Hop{}, false},
		{"198.51.100.23", hop("198.51.100.23", "198.51.100.23"), true},
		{"203.0.113.9, 198.51.100.23, 10.0.0.1:80", hop("198.51.100.23", "198.51.100.23"), true},
		{"198.51.100.23, unknown, 10.0.0.1", hop("", "unknown"), true},
		{"unknown, 198.51.100.23, 10.0.0.1", hop("198.51.100.23", "198.51.100.23"), true},
	} {
		got, ok := Client(XForwardedFor([]string{tc.xff}), trusted)
		if got != tc.want || ok != tc.ok {
			t.Errorf("Client(%q) = %v, %v; want %v, %v", tc.xff, got, ok, tc.want, tc.ok)
		}
	}
}

func TestKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"unknown", "fwd:unknown"},
		{"_obfuscated", "fwd:_obfuscated"},
		{"a b\tc\x00\x7f\u00fc~", "fwd:abc~"},
		{"", "fwd:"},
		{strings.Repeat("é", 50) + strings.Repeat("x", 100), "fwd:" + strings.Repeat("x", 64)},
	} {
		if got := Key(tc.in); got != tc.want {
			t.Errorf("Key(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzHeaders: any field lines give hops that keep their promises: an
// address without zone or IPv4 mapping, or none; Raw without surrounding
// whitespace in an X-Forwarded-For entry; a key that is short and visible ASCII.
func FuzzHeaders(f *testing.F) {
	for _, s := range []string{
		"198.51.100.23:51234, [2001:db8::5]:443", `for="[2001:db8::5]:443";proto=https, for=unknown`,
		`for="a\"b,c";by=x`, "fe80::1%eth0", `"`, `\`, ",,;;==", "for=;for=",
	} {
		f.Add(s, "")
		f.Add(s, s)
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		lines := []string{a, b}
		for _, h := range XForwardedFor(lines) {
			if h.Raw == "" || h.Raw != trimOWS(h.Raw) || strings.Contains(h.Raw, ",") {
				t.Fatalf("%q: X-Forwarded-For entry %q", lines, h.Raw)
			}
		}
		for _, hops := range [][]Hop{XForwardedFor(lines), Forwarded(lines)} {
			for _, h := range hops {
				if h.Addr.IsValid() && (h.Addr.Zone() != "" || h.Addr.Is4In6()) {
					t.Fatalf("%q: address %v keeps a zone or mapping", lines, h.Addr)
				}
				k := Key(h.Raw)
				if !strings.HasPrefix(k, KeyPrefix) || len(k) > len(KeyPrefix)+maxKey || !utf8.ValidString(k) {
					t.Fatalf("%q: key %q", lines, k)
				}
				for i := len(KeyPrefix); i < len(k); i++ {
					if k[i] <= ' ' || k[i] > '~' {
						t.Fatalf("%q: key %q has byte %#x", lines, k, k[i])
					}
				}
			}
			if _, ok := Client(hops, func(netip.Addr) bool { return true }); ok != slicesAnyUnparsed(hops) {
				t.Fatalf("%q: Client with every address trusted: ok = %v", lines, ok)
			}
		}
	})
}

// slicesAnyUnparsed says whether a hop names no address: trusting every
// address, Client must return exactly then.
func slicesAnyUnparsed(hops []Hop) bool {
	for _, h := range hops {
		if !h.Addr.IsValid() {
			return true
		}
	}
	return false
}
