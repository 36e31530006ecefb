// Black-box tests of the client address behind a trusted proxy
// (Config.TrustedProxies, Config.ForwardedHeader): what the proxy's
// forwarding header says is the key of the per-address limits, whatever
// form the entry takes, and an entry that is no address never falls back
// to the proxy's own.

package pbxauth_test

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
)

// behindProxy trusts the test client's loopback as a proxy and keeps the
// default limits, as a host behind a load balancer would.
func behindProxy(c *pbxauth.Config) {
	c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	c.HashQueue = 256 // every failure below is hashed, none is shed
}

// TestForwardedPortsKeepClientsApart replays the attack of issue 21: 100
// failed sign-ins from 100 clients that the proxy names with a port
// (198.51.100.x:port, as Azure Application Gateway does, and
// [2001:db8:x::5]:443) must not lock out another client, nor the proxy.
// Read as the proxy's address, all 100 were one client, and the 100th
// failure locked everyone behind the proxy.
func TestForwardedPortsKeepClientsApart(t *testing.T) {
	e := newEnv(t, behindProxy)
	statuses := parallel(100, func(i int) int {
		client := fmt.Sprintf("198.51.100.%d:%d", i+1, 40000+i)
		if i%2 == 1 {
			client = fmt.Sprintf("[2001:db8:%x::5]:443", i)
		}
		body := map[string]any{"username": fmt.Sprintf("user%d", i), "password": "wrong-pw-123", "domain": acmeDomain}
		return e.c.Do("POST", "/auth/sign_in", body, "X-Forwarded-For", client).Status
	})
	if n := tally(statuses)[401]; n != 100 {
		t.Fatalf("statuses of the 100 failures: %v, want 100 × 401", tally(statuses))
	}
	// Each victim with a client of its own: none brings a device cookie.
	for _, victim := range []string{"203.0.113.77:51234", "[2001:db8:ffff::9]:443", "203.0.113.78"} {
		if r := newClient(t, e).Do("POST", "/auth/sign_in", aliceCreds(), "X-Forwarded-For", victim); r.Status != 200 {
			t.Errorf("client %s after 100 failures of others: %d %s", victim, r.Status, r.Body)
		}
	}
	if r := newClient(t, e).Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 200 {
		t.Errorf("the proxy itself after 100 failures of others: %d", r.Status)
	}
}

// TestForwardedPortDropped: the port is dropped, not kept as part of the
// key, so a client cannot escape its address's lock by changing its source
// port; an IPv6 client with a port still counts in its /64.
func TestForwardedPortDropped(t *testing.T) {
	e := newEnv(t, proxied)
	for i := range 20 {
		body := map[string]any{"username": fmt.Sprintf("user%d", i), "password": "wrong-pw-123", "domain": acmeDomain}
		client := fmt.Sprintf("198.51.100.23:%d", 50000+i)
		if i >= 10 {
			client = fmt.Sprintf("[2001:db8::%x]:%d", i, 443+i)
		}
		if r := e.c.Do("POST", "/auth/sign_in", body, "X-Forwarded-For", client); r.Status != 401 {
			t.Fatalf("failure %d from %s: %d", i+1, client, r.Status)
		}
	}
	for _, client := range []string{"198.51.100.23", "198.51.100.23:1", "[2001:db8::77]:8443", "2001:db8::78"} {
		if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), "X-Forwarded-For", client); r.Status != 429 {
			t.Errorf("%s after its address's failures: %d, want 429", client, r.Status)
		}
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), "X-Forwarded-For", "198.51.100.24:50000"); r.Status != 200 {
		t.Errorf("a neighbouring address: %d", r.Status)
	}
}

// newClient is a client of e's server with no cookies yet, so that no
// device cookie of an earlier sign-in lifts a limit.
func newClient(t *testing.T, e *env) *apitest.Client { return apitest.NewClient(t, e.c.URL) }

// signInRequest is a POST /auth/sign_in of body to e with headers (each
// a name and a value, several of one name being several field lines).
func signInRequest(t *testing.T, e *env, body string, headers ...string) *http.Request {
	t.Helper()
	req, err := http.NewRequest("POST", e.c.URL+apitest.Prefix+"/auth/sign_in", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Add(headers[i], headers[i+1])
	}
	return req
}

// clientIPSeen signs alice in with headers (each a name and a value,
// several of one name being several field lines) and returns the client_ip
// her new sign-in lists, signing in from a new client each time.
func clientIPSeen(t *testing.T, e *env, headers ...string) string {
	t.Helper()
	body := fmt.Sprintf(`{"username":"alice","password":%q,"domain":%q}`, alicePW, acmeDomain)
	req := signInRequest(t, e, body, headers...)
	c := newClient(t, e)
	r := c.Send(req)
	if r.Status != 200 {
		t.Fatalf("sign_in with %q: %d %s", headers, r.Status, r.Body)
	}
	return c.CurrentClientIP(r.String("access_token"))
}

// TestForwardedEntries: the client_ip a sign-in lists for each form of
// entry a proxy may send, X-Forwarded-For (the default) or Forwarded, with
// the other header ignored.
func TestForwardedEntries(t *testing.T) {
	xff := newEnv(t, proxied)
	fwd := newEnv(t, proxied, func(c *pbxauth.Config) { c.ForwardedHeader = "forwarded" })
	long := strings.Repeat("\u00e9x", 40) + strings.Repeat("y", 80)
	for _, tc := range []struct {
		name    string
		e       *env
		headers []string
		want    string
	}{
		{"no header", xff, nil, "127.0.0.1"},
		{"IPv4 with port", xff, []string{"X-Forwarded-For", "198.51.100.23:51234"}, "198.51.100.23"},
		{"IPv6 in brackets with port", xff, []string{"X-Forwarded-For", "[2001:db8::5]:443"}, "2001:db8::5"},
		{"quoted", xff, []string{"X-Forwarded-For", `"[2001:db8::5]:443"`}, "2001:db8::5"},
		{"IPv6 with zone", xff, []string{"X-Forwarded-For", "fe80::1%eth0"}, "fe80::1"},
		{"IPv4-mapped", xff, []string{"X-Forwarded-For", "::ffff:198.51.100.23"}, "198.51.100.23"},
		{"right-most untrusted", xff, []string{"X-Forwarded-For", "203.0.113.9, 198.51.100.23:51234, 127.0.0.2:8080"}, "198.51.100.23"},
		{"field lines in order", xff, []string{"X-Forwarded-For", "203.0.113.9", "X-Forwarded-For", "198.51.100.23, 127.0.0.2"}, "198.51.100.23"},
		{"every entry trusted", xff, []string{"X-Forwarded-For", "127.0.0.2"}, "127.0.0.1"},
		{"unknown", xff, []string{"X-Forwarded-For", "198.51.100.23, unknown"}, "fwd:unknown"},
		{"unknown further left", xff, []string{"X-Forwarded-For", "unknown, 198.51.100.23"}, "198.51.100.23"},
		{"obfuscated", xff, []string{"X-Forwarded-For", "_obfuscated, 127.0.0.2"}, "fwd:_obfuscated"},
		{"garbage cut to 64 visible ASCII bytes", xff, []string{"X-Forwarded-For", long}, "fwd:" + strings.Repeat("x", 40) + strings.Repeat("y", 24)},
		{"Forwarded ignored", xff, []string{"Forwarded", "for=198.51.100.23"}, "127.0.0.1"},
		{"Forwarded beside X-Forwarded-For", xff, []string{"Forwarded", "for=203.0.113.9", "X-Forwarded-For", "198.51.100.23"}, "198.51.100.23"},

		{"for token", fwd, []string{"Forwarded", "for=198.51.100.23"}, "198.51.100.23"},
		{"FOR quoted with port", fwd, []string{"Forwarded", `FOR="198.51.100.23:51234"`}, "198.51.100.23"},
		{"IPv6 quoted in brackets with port", fwd, []string{"Forwarded", `For="[2001:db8::5]:443"`}, "2001:db8::5"},
		{"other parameters", fwd, []string{"Forwarded", `proto=https;for="[2001:db8::5]";by=127.0.0.2`}, "2001:db8::5"},
		{"right-most untrusted element", fwd, []string{"Forwarded", "for=203.0.113.9, for=198.51.100.23;proto=https, for=127.0.0.2"}, "198.51.100.23"},
		{"Forwarded field lines in order", fwd, []string{"Forwarded", "for=203.0.113.9", "Forwarded", "for=198.51.100.23"}, "198.51.100.23"},
		{"for=unknown", fwd, []string{"Forwarded", "for=unknown"}, "fwd:unknown"},
		{"obfuscated node", fwd, []string{"Forwarded", `for="_hidden:_port"`}, "fwd:_hidden:_port"},
		{"element without for", fwd, []string{"Forwarded", "for=198.51.100.23, proto=https"}, "fwd:proto=https"},
		{"comma in a quoted string", fwd, []string{"Forwarded", `for=198.51.100.23, for="x, for=203.0.113.9"`}, "fwd:x,for=203.0.113.9"},
		{"X-Forwarded-For ignored", fwd, []string{"X-Forwarded-For", "198.51.100.23"}, "127.0.0.1"},
		{"X-Forwarded-For beside Forwarded", fwd, []string{"X-Forwarded-For", "203.0.113.9", "Forwarded", "for=198.51.100.23"}, "198.51.100.23"},
	} {
		if got := clientIPSeen(t, tc.e, tc.headers...); got != tc.want {
			t.Errorf("%s: client_ip %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestForwardedOtherHeaderIgnored: behind a proxy that manages Forwarded, a
// client that adds an X-Forwarded-For of its own choosing (a new one every
// attempt) is still counted under the address its proxy names.
func TestForwardedOtherHeaderIgnored(t *testing.T) {
	e := newEnv(t, proxied, func(c *pbxauth.Config) { c.ForwardedHeader = "Forwarded" })
	// One after another: concurrent ones may find the hashing queue full
	// (503, not counted), which is not what this test is about.
	for i := range 10 {
		body := map[string]any{"username": fmt.Sprintf("user%d", i), "password": "wrong-pw-123", "domain": acmeDomain}
		if r := e.c.Do("POST", "/auth/sign_in", body, "Forwarded", "for=198.51.100.23", "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1)); r.Status != 401 {
			t.Fatalf("failure %d: %d, want 401", i+1, r.Status)
		}
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), "Forwarded", `for="198.51.100.23:4711"`, "X-Forwarded-For", "203.0.113.200"); r.Status != 429 {
		t.Errorf("the client behind a fresh X-Forwarded-For: %d, want 429", r.Status)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), "Forwarded", "for=198.51.100.24"); r.Status != 200 {
		t.Errorf("another client: %d", r.Status)
	}
}

// TestForwardedGarbageKeyedApart: failures of clients a trusted proxy names
// by entries that are no address lock those entries' key, never the proxy
// nor clients it names by address; the entry is logged escaped, at most
// once a minute.
func TestForwardedGarbageKeyedApart(t *testing.T) {
	var log syncBuffer
	e := newEnv(t, proxied, func(c *pbxauth.Config) { c.Logger = slog.New(slog.NewTextHandler(&log, nil)) })
	statuses := parallel(10, func(i int) int {
		body := map[string]any{"username": fmt.Sprintf("user%d", i), "password": "wrong-pw-123", "domain": acmeDomain}
		return e.c.Do("POST", "/auth/sign_in", body, "X-Forwarded-For", "unkn\u00f6wn<script>").Status
	})
	if n := tally(statuses)[401]; n != 10 {
		t.Fatalf("failures: %v", tally(statuses))
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), "X-Forwarded-For", "unkn\u00f6wn<script>"); r.Status != 429 {
		t.Errorf("the failing entry: %d, want 429", r.Status)
	}
	for _, h := range [][]string{nil, {"X-Forwarded-For", "198.51.100.23"}, {"X-Forwarded-For", "_obfuscated"}, {"X-Forwarded-For", "2001:db8::1"}} {
		if r := newClient(t, e).Do("POST", "/auth/sign_in", aliceCreds(), h...); r.Status != 200 {
			t.Errorf("%q after another entry's failures: %d", h, r.Status)
		}
	}
	const warning = "names the client by an entry that is no address"
	if n := log.count(warning); n != 1 {
		t.Fatalf("%d warnings within a minute, want 1:\n%s", n, log.String())
	}
	if s := log.String(); strings.Contains(s, "\u00f6") || !strings.Contains(s, `unkn\\u00f6wn<script>`) {
		t.Errorf("the entry is not logged escaped:\n%s", s)
	}
	e.clock.Advance(time.Minute)
	e.c.Do("POST", "/auth/sign_in", aliceCreds(), "X-Forwarded-For", "unknown")
	if n := log.count(warning); n != 2 {
		t.Errorf("%d warnings after a minute more, want 2", n)
	}
}

// TestForwardedConfig: New refuses a ForwardedHeader it does not know, and
// warns at start-up when TrustedProxies trusts every peer.
func TestForwardedConfig(t *testing.T) {
	for _, h := range []string{"X-Real-IP", "X-Forwarded-For, Forwarded", " Forwarded"} {
		_, err := pbxauth.New(pbxauth.Config{Store: memstore.New(), ForwardedHeader: h})
		if err == nil || !strings.Contains(err.Error(), "Config.ForwardedHeader") {
			t.Errorf("ForwardedHeader %q: %v", h, err)
		}
	}
	for _, p := range []string{"0.0.0.0/0", "::/0", "10.0.0.0/8"} {
		var log syncBuffer
		cfg := pbxauth.Config{Store: memstore.New(), Logger: slog.New(slog.NewTextHandler(&log, nil)),
			TrustedProxies: []netip.Prefix{netip.MustParsePrefix(p)}}
		a, err := pbxauth.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		a.Close()
		want := 0
		if p != "10.0.0.0/8" {
			want = 1
		}
		if log.count("level=WARN msg=\"pbxauth: Config.TrustedProxies trusts every peer") != want {
			t.Errorf("TrustedProxies %s: start-up log %q, want %d warnings", p, log.String(), want)
		}
	}
}
