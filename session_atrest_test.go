// This file reads the scs session store as whoever holds a copy of it would
// ("Tokens": no bearer credential at rest, anywhere): it must yield neither
// a token nor a cookie that opens a session, and what cannot be opened there
// must not break the browser's session.

package pbxauth_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/alexedwards/scs/v2/memstore"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// sessionSetups are the two ways a host hands pbxauth an scs store: under
// the default manager (Config.SessionStore), and in its own manager
// (Config.SessionManager) as scs.New makes it, which keys the store by the
// raw token.
var sessionSetups = []struct {
	name string
	with func(ms *memstore.MemStore) func(*pbxauth.Config)
}{
	{"SessionStore", func(ms *memstore.MemStore) func(*pbxauth.Config) {
		return func(c *pbxauth.Config) { c.SessionStore = ms }
	}},
	{"SessionManager", func(ms *memstore.MemStore) func(*pbxauth.Config) {
		return func(c *pbxauth.Config) { c.SessionManager = hostManager(ms) }
	}},
}

// hostManager is a host's own manager over ms, its cookie named as
// pbxauth's so that the helpers of session_test.go find it.
func hostManager(ms *memstore.MemStore) *scs.SessionManager {
	sm := scs.New()
	sm.Store = ms
	sm.Cookie.Name = pbxauth.SessionCookieName
	return sm
}

// newSessionStore returns an scs memory store the test can read whole,
// without the cleanup goroutine (whose StopCleanup races with its start).
func newSessionStore() *memstore.MemStore { return memstore.NewWithCleanupInterval(0) }

// TestSessionStoreHoldsNoCredential signs in two browsers, one through a
// second factor (which also hands out a refresh token), then reads every
// key and byte of the session store: no token and no cookie in any
// encoding, and no key that opens a session when presented as the cookie.
func TestSessionStoreHoldsNoCredential(t *testing.T) {
	for _, setup := range sessionSetups {
		t.Run(setup.name, func(t *testing.T) {
			ms := newSessionStore()
			e := newMailEnv(t, plainHTTP, setup.with(ms))
			e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
			secrets := map[string]string{}

			flow := e.c.Do("POST", "/login", aliceCreds()).String("token")
			v := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": e.sendCode(t, flow, aliceEmail)})
			c := sessionCookie(t, v)
			if v.Status != 200 || v.String("refresh_token") == "" || c == nil {
				t.Fatalf("verify_otp: %d %s", v.Status, v.Body)
			}
			secrets["alice's access token"] = v.String("access_token")
			secrets["alice's refresh token"] = v.String("refresh_token")
			secrets["alice's cookie"] = c.Value

			admin := apitest.NewClient(t, e.c.URL)
			r := e.login(t, admin, map[string]any{"username": "admin", "password": adminPW})
			secrets["admin's access token"] = r.String("access_token")
			secrets["admin's cookie"] = sessionCookie(t, r).Value

			// Both sessions work: GET /login hands out a working token.
			for name, b := range map[string]*apitest.Client{"alice": e.c, "admin": admin} {
				s := b.Do("GET", "/login", nil)
				if s.Status != 200 || s.String("access_token") != secrets[name+"'s access token"] {
					t.Fatalf("GET /login for %s: %d %s", name, s.Status, s.Body)
				}
				if u := b.Do("GET", "/auth/user", nil, apitest.Bearer(s.String("access_token"))...); u.Status != 200 {
					t.Fatalf("%s's token from GET /login: %d", name, u.Status)
				}
			}

			all, err := ms.All()
			if err != nil || len(all) != 2 {
				t.Fatalf("the session store holds %d sessions (%v), want 2", len(all), err)
			}
			for key, data := range all {
				row := append([]byte(key+"\x00"), data...)
				for name, secret := range secrets {
					if where := apitest.FindSecret(row, secret); where != "" {
						t.Errorf("a session holds %s (%s)", name, where)
					}
				}
				// A key is no cookie.
				if r := withCookie(t, e.env, key); r.Status != 401 || r.String("access_token") != "" {
					t.Errorf("a key of the store as the cookie: %d %s", r.Status, r.Body)
				}
			}
			for _, name := range []string{"alice's cookie", "admin's cookie"} {
				if _, found, err := ms.Find(secrets[name]); found || err != nil {
					t.Errorf("the store finds a session by %s (%v)", name, err)
				}
			}
		})
	}
}

// TestHostManagerStore: what New changes in a host's manager. Its store
// offers no listing of sessions, whose keys are no tokens scs could load; a
// session the host stored with scs's HashTokenInStore keeps its key; and a
// second Auth on the same manager hashes no key twice.
func TestHostManagerStore(t *testing.T) {
	ms := newSessionStore()
	before := hostManager(ms)
	before.HashTokenInStore = true
	ctx, err := before.Load(context.Background(), "")
	must(t, err)
	before.Put(ctx, "cart", "3 phones")
	token, _, err := before.Commit(ctx)
	must(t, err)

	sm := hostManager(ms)
	sm.HashTokenInStore = true
	for range 2 {
		newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.SessionManager = sm })
		ctx, err := sm.Load(context.Background(), token)
		must(t, err)
		if got := sm.GetString(ctx, "cart"); got != "3 phones" {
			t.Errorf("the host's session after New: cart = %q", got)
		}
	}
	if _, ok := sm.Store.(scs.IterableStore); ok {
		t.Error("the host's manager's store is an scs.IterableStore")
	}
	if _, ok := sm.Store.(scs.IterableCtxStore); ok {
		t.Error("the host's manager's store is an scs.IterableCtxStore")
	}
}

// TestSessionUnopenableToken: a session whose stored access token cannot
// be opened — changed in the store, or its session token renewed by the
// host — gets a fresh working token from GET /login, from concurrent
// requests too; never a 500, and never a signed-out browser.
func TestSessionUnopenableToken(t *testing.T) {
	t.Run("changed in the store", func(t *testing.T) {
		ms := newSessionStore()
		e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.SessionStore = ms })
		old := e.login(t, e.c, aliceCreds()).String("access_token")
		all, err := ms.All()
		if err != nil || len(all) != 1 {
			t.Fatalf("the session store holds %d sessions (%v), want 1", len(all), err)
		}
		for key, data := range all {
			deadline, values, err := scs.GobCodec{}.Decode(data)
			must(t, err)
			changed := 0
			for k, v := range values {
				if s, ok := v.(string); ok && strings.HasSuffix(k, ".access") {
					values[k] = "A" + s[1:]
					if s[0] == 'A' {
						values[k] = "B" + s[1:]
					}
					changed++
				}
			}
			if changed != 1 {
				t.Fatalf("session values %v", values)
			}
			b, err := scs.GobCodec{}.Encode(deadline, values)
			must(t, err)
			must(t, ms.Commit(key, b, deadline))
		}

		var (
			mu     sync.Mutex
			tokens = map[string]bool{}
		)
		got := apitest.Race(8, func(int) *apitest.Response {
			r := e.c.Do("GET", "/login", nil)
			mu.Lock()
			tokens[r.String("access_token")] = true
			mu.Unlock()
			return r
		})
		if got[200] != 8 {
			t.Fatalf("GET /login on an unopenable token: %v", got)
		}
		for tok := range tokens {
			if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(tok)...); tok == old || u.Status != 200 {
				t.Errorf("re-issued token (old %v): %d", tok == old, u.Status)
			}
		}
		s := e.c.Do("GET", "/login", nil)
		if s.Status != 200 || !tokens[s.String("access_token")] {
			t.Fatalf("GET /login after the re-issue: %d %s", s.Status, s.Body)
		}
		if again := e.c.Do("GET", "/login", nil); again.String("access_token") != s.String("access_token") {
			t.Errorf("the session does not keep its re-issued token: %s", again.Body)
		}
	})

	t.Run("renewed by the host", func(t *testing.T) {
		sm := hostManager(newSessionStore())
		e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.SessionManager = sm })
		// The host renews the session token on its own route, as scs
		// advises at any change of privilege.
		host := apitest.Serve(t, e.auth.Handler(), sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := sm.RenewToken(r.Context()); err != nil {
				http.Error(w, err.Error(), 500)
			}
		})))
		old := e.login(t, host, aliceCreds())
		req, _ := http.NewRequest("POST", host.URL+"/elevate", nil)
		renewed := sessionCookie(t, host.Send(req))
		if renewed == nil || renewed.Value == sessionCookie(t, old).Value {
			t.Fatalf("the host's renewal set no new cookie: %+v", renewed)
		}
		s := host.Do("GET", "/login", nil)
		if s.Status != 200 || s.String("access_token") == "" {
			t.Fatalf("GET /login after the host's renewal: %d %s", s.Status, s.Body)
		}
		if u := host.Do("GET", "/auth/user", nil, apitest.Bearer(s.String("access_token"))...); u.Status != 200 {
			t.Errorf("token after the host's renewal: %d", u.Status)
		}
		if r := withCookie(t, e, sessionCookie(t, old).Value); r.Status != 401 {
			t.Errorf("the cookie from before the renewal: %d", r.Status)
		}
	})
}
