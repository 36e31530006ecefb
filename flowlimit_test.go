// Black-box tests of the limits on requests that create a flow without
// credentials.

package pbxauth_test

import (
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
)

// TestFlowStartsPerAddress: 20 flow-creating requests per address per
// minute, over the three routes together, then 429 with Retry-After —
// also for a valid request; another address is not affected; the next
// minute counts anew.
func TestFlowStartsPerAddress(t *testing.T) {
	e := newEnv(t, proxied, func(c *pbxauth.Config) { c.CallbackOrigins = []string{"http://127.0.0.1:9999"} })
	forget := map[string]any{"domain": acmeDomain, "username": "alice", "callback_url": callbackURL}
	n := tally(parallel(40, func(i int) int {
		switch i % 3 {
		case 0:
			return e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.5")...).Status
		case 1:
			return e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": "nowhere.example.test", "callback_url": callbackURL}, from("203.0.113.5")...).Status
		default:
			return e.c.Do("POST", "/login/by_microsoft", "domain=nowhere.example.test",
				append(from("203.0.113.5"), "Content-Type", "application/x-www-form-urlencoded", "Sec-Fetch-Site", "same-origin")...).Status
		}
	}))
	if n[429] != 20 {
		t.Fatalf("40 flow starts from one address: %v, want 20 of 429", n)
	}
	r := e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.5")...)
	if r.Status != 429 || r.Header.Get("Retry-After") != "60" {
		t.Fatalf("over the limit: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	if r := e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.6")...); r.Status != 200 {
		t.Fatalf("another address: %d", r.Status)
	}
	e.clock.Advance(time.Minute)
	if r := e.c.Do("POST", "/auth/forget_password", forget, from("203.0.113.5")...); r.Status != 200 {
		t.Fatalf("the next minute: %d", r.Status)
	}
}

// TestCallbackURLSize: a callback_url over Limits.CallbackURLBytes is 400,
// stores nothing and sends nothing.
func TestCallbackURLSize(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) {
		c.CallbackOrigins = []string{"http://127.0.0.1:9999"}
		c.Limits.CallbackURLBytes = 100
	})
	long := callbackURL + "&pad=" + strings.Repeat("a", 100-len(callbackURL)-5)
	for _, cb := range []string{long, long + "a"} {
		tooLong := len(cb) > 100
		for _, path := range []string{"/auth/forget_password", "/auth/sign_in/microsoft"} {
			// (acme has no Microsoft sign-in: a URL that passes is refused
			// for that instead.)
			r := e.c.Do("POST", path, map[string]any{"domain": acmeDomain, "username": "alice", "callback_url": cb})
			refused := r.Status == 400 && strings.Contains(string(r.Body), "callback_url is too long")
			if refused != tooLong {
				t.Errorf("%s with a callback_url of %d bytes: %d %s", path, len(cb), r.Status, r.Body)
			}
		}
	}
	d := newEnv(t, func(c *pbxauth.Config) { c.CallbackOrigins = []string{"http://127.0.0.1:9999"} })
	cb := callbackURL + "&pad=" + strings.Repeat("a", 2048)
	if r := d.c.Do("POST", "/auth/forget_password", map[string]any{"domain": acmeDomain, "username": "alice", "callback_url": cb[:2048]}); r.Status != 200 {
		t.Errorf("2,048 bytes by default: %d", r.Status)
	}
	if r := d.c.Do("POST", "/auth/forget_password", map[string]any{"domain": acmeDomain, "username": "alice", "callback_url": cb[:2049]}); r.Status != 400 {
		t.Errorf("2,049 bytes by default: %d", r.Status)
	}
}

// TestPendingStates: without EncryptionKeys, at most Limits.PendingStates
// Microsoft states live at once, from however many networks (503 beyond);
// a state consumed at the callback, or expired, makes room. (Each start
// comes from a network of its own: a network's share is 1 of 3.)
func TestPendingStates(t *testing.T) {
	e := newMSEnv(t, proxied, func(c *pbxauth.Config) {
		c.Limits.PendingStates = 3
		c.Logger = slog.New(slog.DiscardHandler)
	})
	var urls []*url.URL
	for i := range 3 {
		r := e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL},
			from(fmt.Sprintf("192.0.%d.1", i))...)
		u, err := url.Parse(r.String("url"))
		if r.Status != 200 || err != nil {
			t.Fatalf("start %d: %d %s", i, r.Status, r.Body)
		}
		urls = append(urls, u)
	}
	start := func(i int) int {
		return e.c.Do("POST", "/auth/sign_in/microsoft", map[string]any{"domain": acmeDomain, "callback_url": msCallbackURL},
			from(fmt.Sprintf("198.51.%d.1", i))...).Status
	}
	if n := tally(parallel(10, start)); n[503] != 10 {
		t.Fatalf("10 concurrent starts with 3 states live of 3: %v", n)
	}
	// One state comes back through the callback: room for one more.
	e.get(t, e.authorize(t, urls[0], alice()).String())
	if n := tally(parallel(10, start)); n[200] != 1 || n[503] != 9 {
		t.Fatalf("10 concurrent starts with room for 1: %v", n)
	}
	// Every state expired; their count goes with its bucket, up to a fifth
	// of FlowTTL later.
	e.clock.Advance(10*time.Minute + 2*time.Minute)
	if n := tally(parallel(10, start)); n[200] != 3 || n[503] != 7 {
		t.Fatalf("10 concurrent starts after the states expired: %v", n)
	}
}
