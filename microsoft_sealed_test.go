// Attacks on the pending states of Microsoft sign-in, over HTTP: floods of
// starts from one network, with Config.EncryptionKeys (the state travels
// sealed and nothing is stored) and without (stored states, each network
// held to its share), and sealed states replayed, raced, tampered with,
// carried to another deployment or outliving their key.

package pbxauth_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// noKeys leaves Config.EncryptionKeys unset: Microsoft states are stored.
func noKeys(*pbxauth.Config) {}

// eachStateMode runs test with Microsoft states sealed (EncryptionKeys) and
// stored (none), as subtests; mode configures the env for it.
func eachStateMode(t *testing.T, test func(t *testing.T, mode func(*pbxauth.Config))) {
	t.Run("sealed", func(t *testing.T) { test(t, withKeys) })
	t.Run("stored", func(t *testing.T) { test(t, noKeys) })
}

// quiet drops the env's log.
func quiet(c *pbxauth.Config) { c.Logger = slog.New(slog.DiscardHandler) }

// startFrom starts a token-mode sign-in of acme from addr and returns the
// status.
func (e *msEnv) startFrom(addr string) int {
	return e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}, from(addr)...).Status
}

// restart replaces the Auth behind the test server with one made from the
// same configuration changed by configure, over the same store: the next
// deployment of the site, or another deployment sharing it.
func (e *msEnv) restart(t *testing.T, configure ...func(*pbxauth.Config)) {
	t.Helper()
	cfg := e.cfg
	for _, f := range configure {
		f(&cfg)
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	e.api.h.Store(a.Handler())
	e.auth = a
}

// The networks of the floods: one IPv6 /56 of 256 /64s (what one customer
// of many providers gets), one IPv6 /48, one IPv4 /24.
func in56(i int) string { return fmt.Sprintf("2001:db8:56:%x::1", 0xff00+i) }
func in48(i int) string { return fmt.Sprintf("2001:db8:48:%x::1", i) }
func in24(i int) string { return fmt.Sprintf("203.0.113.%d", i+1) }

// flood makes 20 starts (the per-address limit) from each of n addresses of
// network, all at once, and returns the statuses.
func (e *msEnv) flood(n int, network func(int) string) map[int]int {
	return tally(parallel(20*n, func(i int) int { return e.startFrom(network(i / 20)) }))
}

// TestMicrosoftStartsFromOneNetworkSealed is issue 21's attack, with
// Limits.PendingStates scaled 1:125 (400): 420 starts from 21 addresses of
// one /56, each under its own limit. With EncryptionKeys the starts store
// nothing at all — so they cannot fill anything — and a victim on another
// network then signs in to the end.
func TestMicrosoftStartsFromOneNetworkSealed(t *testing.T) {
	var w *writeCounter
	e := newMSEnv(t, proxied, withKeys, quiet, countWrites(&w), func(c *pbxauth.Config) { c.Limits.PendingStates = 400 })
	before := w.snapshot()
	if n := e.flood(21, in56); n[200] != 420 {
		t.Fatalf("420 starts from 21 addresses, 20 each: %v, want 420 of 200", n)
	}
	// The per-address limit holds, counted in memory.
	r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}, from(in56(0))...)
	if r.Status != 429 || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("the 21st start from one address: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	if d := w.since(before); len(d) > 0 {
		t.Errorf("421 starts with EncryptionKeys wrote %v, want nothing", d)
	}

	// The victim, elsewhere.
	victim := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}, from("198.51.100.7")...)
	if victim.Status != 200 {
		t.Fatalf("the victim's start: %d %s", victim.Status, victim.Body)
	}
	u, _ := url.Parse(victim.String("url"))
	access := e.exchange(t, location(t, e.get(t, e.authorize(t, u, alice()).String())))
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 || r.String("role") != "Admin" {
		t.Errorf("the victim's sign-in: %d %s", r.Status, r.Body)
	}
}

// TestMicrosoftStartsFromOneNetworkStored: without EncryptionKeys the
// states are stored, and no network holds more than 1% of
// Limits.PendingStates: floods from one IPv6 /48 (many /64s) and from one
// IPv4 /24 hold 4 states each of 400, and another network's start still
// succeeds. A start refused for its network's share writes nothing: no
// count of states, no flow, and no place in its address's rate of starts.
func TestMicrosoftStartsFromOneNetworkStored(t *testing.T) {
	for _, tc := range []struct {
		name    string
		network func(int) string
		victim  string
	}{
		{"IPv6 /48", in48, "198.51.100.7"},
		{"IPv4 /24", in24, "2001:db8:77::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var w *writeCounter
			e := newMSEnv(t, proxied, quiet, countWrites(&w), func(c *pbxauth.Config) { c.Limits.PendingStates = 400 })
			n := e.flood(21, tc.network)
			if n[200] != 4 || n[200]+n[429] != 420 {
				t.Fatalf("420 starts from one network: %v, want 4 of 200, the rest 429", n)
			}
			before := w.snapshot()
			for i := range 10 {
				if s := e.startFrom(tc.network(21 + i)); s != 429 {
					t.Fatalf("a start from a fresh address of the full network: %d", s)
				}
			}
			if d := w.since(before); len(d) > 0 {
				t.Errorf("10 starts refused for their network's share wrote %v", d)
			}
			if s := e.startFrom(tc.victim); s != 200 {
				t.Fatalf("the victim's start from another network: %d", s)
			}
		})
	}
}

// TestMicrosoftNetworkShareFreed: a state that comes back through the
// callback frees its place in its network's share.
func TestMicrosoftNetworkShareFreed(t *testing.T) {
	e := newMSEnv(t, proxied, quiet, func(c *pbxauth.Config) { c.Limits.PendingStates = 200 }) // 2 per network
	var cb []*url.URL
	for i := range 2 {
		r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL}, from(in24(i))...)
		if r.Status != 200 {
			t.Fatalf("start %d: %d", i, r.Status)
		}
		u, _ := url.Parse(r.String("url"))
		cb = append(cb, u)
	}
	if s := e.startFrom(in24(2)); s != 429 {
		t.Fatalf("a third start from the network: %d", s)
	}
	e.exchange(t, location(t, e.get(t, e.authorize(t, cb[0], alice()).String())))
	if s := e.startFrom(in24(2)); s != 200 {
		t.Fatalf("a start after one came back: %d", s)
	}
}

// TestMicrosoftStartWarnsWithoutKeys: New warns that without
// EncryptionKeys the states are stored and can be filled.
func TestMicrosoftStartWarnsWithoutKeys(t *testing.T) {
	if e := newMSEnv(t); !strings.Contains(e.logs.String(), "level=WARN") || !strings.Contains(e.logs.String(), "EncryptionKeys") {
		t.Errorf("no start-up warning without keys:\n%s", e.logs)
	}
	if e := newMSEnv(t, withKeys); strings.Contains(e.logs.String(), "Microsoft sign-in start") {
		t.Errorf("a start-up warning about Microsoft starts with keys:\n%s", e.logs)
	}
}

// TestMicrosoftSealedStateOnce: a sealed state is accepted once — replayed
// after its sign-in, or sent 20 times at once, it reaches the IdP's token
// endpoint once.
func TestMicrosoftSealedStateOnce(t *testing.T) {
	e := newMSEnv(t, withKeys)
	cb := e.authorize(t, e.start(t), alice())
	e.exchange(t, location(t, e.get(t, cb.String())))
	if r := e.get(t, cb.String()); r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || r.Header.Get("Location") != "" {
		t.Errorf("a replayed state: %d %s", r.Status, r.Body)
	}

	cb = e.authorize(t, e.start(t), alice())
	exchanges := e.auths.basic.Load() + e.auths.post.Load()
	const n = 20
	statuses := parallel(n, func(int) int {
		resp, err := e.c.HTTP.Get(cb.String())
		if err != nil {
			t.Error(err)
			return 0
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusFound && !strings.Contains(resp.Header.Get("Location"), "token=") {
			t.Errorf("a racer was refused by redirect: %s", resp.Header.Get("Location"))
		}
		return resp.StatusCode
	})
	if c := tally(statuses); c[http.StatusFound] != 1 || c[http.StatusBadRequest] != n-1 {
		t.Errorf("20 concurrent callbacks with one state: %v, want one 302 and 19 400", c)
	}
	if got := e.auths.basic.Load() + e.auths.post.Load() - exchanges; got != 1 {
		t.Errorf("20 concurrent callbacks with one state made %d token requests, want 1", got)
	}
}

// callbackWith sends the callback with state and a code, as an attacker
// would who has no IdP's answer to show.
func (e *msEnv) callbackWith(state string) *apitest.Response {
	return e.c.Do("GET", "/auth/sign_in/microsoft/callback?"+url.Values{"state": {state}, "code": {"attacker-code"}}.Encode(), nil)
}

func wantUnknownState(t *testing.T, what string, r *apitest.Response) {
	t.Helper()
	if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" || r.Header.Get("Location") != "" || r.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("%s: %d %v %s, want a JSON 400", what, r.Status, r.Header, r.Body)
	}
}

// TestMicrosoftSealedStateForged: a sealed state changed anywhere, sealed
// for another deployment (another PublicURL sharing the keys), or sealed
// with a key no longer listed is unknown, and goes nowhere near the IdP.
func TestMicrosoftSealedStateForged(t *testing.T) {
	key2 := bytes.Repeat([]byte{0x43}, 32)
	e := newMSEnv(t, withKeys)
	exchanges := func() int32 { return e.auths.basic.Load() + e.auths.post.Load() }
	before := exchanges()

	state := e.start(t).Query().Get("state")
	if len(state) > 1500 {
		t.Fatalf("a state of %d characters", len(state))
	}
	for _, i := range []int{0, 3, 10, 40, len(state) / 2, len(state) - 1} {
		c := []byte(state)
		if c[i] == 'A' {
			c[i] = 'B'
		} else {
			c[i] = 'A'
		}
		wantUnknownState(t, fmt.Sprintf("a state changed at %d", i), e.callbackWith(string(c)))
	}
	wantUnknownState(t, "a state cut short", e.callbackWith(state[:len(state)-4]))
	wantUnknownState(t, "a state of many characters", e.callbackWith(strings.Repeat("A", 4000)))

	// Staging shares production's keys; its states do not open here.
	e.restart(t, func(c *pbxauth.Config) { c.PublicURL = "https://staging.example.test/api" })
	staging := e.start(t).Query().Get("state")
	e.restart(t)
	wantUnknownState(t, "a state of another PublicURL", e.callbackWith(staging))

	// Rotation: a state sealed by the old key opens while it is listed
	// second, not once it is gone.
	old1, old2 := e.authorize(t, e.start(t), alice()), e.authorize(t, e.start(t), alice())
	e.restart(t, func(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{key2, appKey} })
	e.exchange(t, location(t, e.get(t, old1.String())))
	e.restart(t, func(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{key2} })
	wantUnknownState(t, "a state whose key is gone", e.get(t, old2.String()))
	e.exchange(t, e.signInAs(t, alice())) // the new key's states work

	if n := exchanges() - before; n != 2 {
		t.Errorf("%d token requests, want 2 (the two sign-ins that were let through)", n)
	}
}

// TestMicrosoftSealedStateSize: a callback_url whose sealed state would
// pass 1,500 characters (Entra refuses long query strings) is refused
// at the start, naming callback_url; without keys it is stored instead.
func TestMicrosoftSealedStateSize(t *testing.T) {
	long := msCallbackURL + "&pad=" + strings.Repeat("a", 1200)
	body := map[string]any{"domain": acmeDomain, "callback_url": long}
	e := newMSEnv(t, withKeys)
	r := e.c.Do("POST", "/auth/sign_in/microsoft", body)
	if r.Status != 400 || !strings.Contains(string(r.Body), "callback_url") {
		t.Errorf("a callback_url of %d bytes with keys: %d %s", len(long), r.Status, r.Body)
	}
	// 600 bytes fit, also of query parameters (no & is carried as \u0026).
	for _, cb := range []string{msCallbackURL + "&pad=" + strings.Repeat("a", 600), msCallbackURL + strings.Repeat("&a=1", 150)} {
		body["callback_url"] = cb
		u := e.startWith(t, body)
		if n := len(u.Query().Get("state")); n > 1500 {
			t.Errorf("a state of %d characters", n)
		}
	}
	body["callback_url"] = long
	newMSEnv(t).startWith(t, body)
}

// TestMicrosoftSealedCookieMode: the cookie flow's state names the
// browser's __Host-pbxauth_ms cookie by its hash; a callback without it,
// or with another browser's, is refused (400) and leaves both sign-ins as
// they were.
func TestMicrosoftSealedCookieMode(t *testing.T) { eachStateMode(t, testMicrosoftSealedCookieMode) }

func testMicrosoftSealedCookieMode(t *testing.T, mode func(*pbxauth.Config)) {
	e := newMSEnv(t, mode)
	form := func(c *apitest.Client) *apitest.Response {
		return c.Do("POST", "/login/by_microsoft", "domain="+acmeDomain, "Content-Type", "application/x-www-form-urlencoded")
	}
	r := form(e.c)
	c := stateCookie(t, r)
	if c == nil || c.Name != "pbxauth_ms" || len(c.Value) != 43 || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode || c.MaxAge != 600 {
		t.Fatalf("state cookie %+v", c)
	}
	if strings.Contains(location(t, r).RawQuery, c.Value) {
		t.Error("the IdP URL carries the cookie")
	}
	firstCB := e.authorize(t, location(t, r), alice())

	// Another browser without the cookie (login CSRF), then with its own.
	other := apitest.NewClient(t, e.c.URL)
	send := func(u *url.URL) *apitest.Response {
		req, _ := http.NewRequest("GET", u.String(), nil)
		return other.Send(req)
	}
	wantUnknownState(t, "a callback without the state cookie", send(firstCB))
	otherStart := form(other)
	wantUnknownState(t, "a callback with another browser's state cookie", send(firstCB))
	// Neither sign-in was spent by the refusals.
	e.idp.QueueUser(alice())
	otherCB := idpLocation(t, send(location(t, otherStart)))
	if land := location(t, send(otherCB)); land.String() != "/" {
		t.Errorf("the other browser's own sign-in landed on %s", land)
	}
	if land := location(t, e.get(t, firstCB.String())); land.String() != "/" {
		t.Errorf("the first browser's sign-in landed on %s", land)
	}
}
