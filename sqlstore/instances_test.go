// This file runs two pbxauth instances, each with its own Store (its own
// connection pool, as two processes would have), on one PostgreSQL database,
// and drives them over HTTP: they must behave as one server.

package sqlstore_test

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

var cheap = pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// cheapHash is the argon2id hash of pw with the tests' cheap parameters, as
// a store keeps it.
func cheapHash(pw string) (string, error) { return hasher.Hash(pw, hasher.Params(cheap)), nil }

const bobPW = "bob-pw-1234"

func bobCreds() map[string]string {
	return map[string]string{"username": "bob", "password": bobPW, "domain": "acme.example.test"}
}

// seedBob stores the tenant acme.example.test and its user bob.
func seedBob(t *testing.T, st store.Store) {
	t.Helper()
	ctx := context.Background()
	h, err := cheapHash(bobPW)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateTenant(ctx, store.Tenant{ID: "acme", Name: "Acme", Domain: "acme.example.test"}); err != nil {
		t.Fatal(err)
	}
	if err := st.CreateUser(ctx, store.User{ID: "bob", TenantID: "acme", Username: "bob", Role: "StandardUser", PasswordHash: h}); err != nil {
		t.Fatal(err)
	}
}

// instance serves an Auth over st and returns its client.
func instance(t *testing.T, st store.Store, configure ...func(*pbxauth.Config)) *apitest.Client {
	t.Helper()
	cfg := pbxauth.Config{Store: st, Argon2: cheap, Logger: slog.New(slog.DiscardHandler)}
	for _, f := range configure {
		f(&cfg)
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return apitest.Serve(t, a.Handler(), nil)
}

// twoInstances opens two stores on one fresh PostgreSQL database and serves
// an instance over each.
func twoInstances(t *testing.T) (a, b *apitest.Client) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	return instance(t, stA), instance(t, stB)
}

func signInBob(t *testing.T, c *apitest.Client) (access, refresh string) {
	t.Helper()
	r := c.Do("POST", "/auth/sign_in", bobCreds())
	if r.Status != 200 {
		t.Fatalf("sign_in: %d %s", r.Status, r.Body)
	}
	return r.String("access_token"), r.String("refresh_token")
}

func TestInstancesShareTokens(t *testing.T) {
	a, b := twoInstances(t)
	access, _ := signInBob(t, a)
	if r := b.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 || r.String("role") != "StandardUser" {
		t.Fatalf("A's token on B: %d %s", r.Status, r.Body)
	}
	if r := a.Do("POST", "/auth/sign_out", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("sign_out on A: %d", r.Status)
	}
	if r := b.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 401 {
		t.Fatalf("signed-out token on B: %d", r.Status)
	}
}

func TestInstancesShareRefreshRotation(t *testing.T) {
	a, b := twoInstances(t)
	_, refresh := signInBob(t, a)
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make(chan int, 10)
	for i := range 10 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			<-start
			statuses <- c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}).Status
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		if s == 200 {
			ok++
		} else if s != 401 {
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d of 10 refreshes over A and B succeeded, want 1", ok)
	}
}

func TestInstancesShareLockout(t *testing.T) {
	a, b := twoInstances(t)
	wrong := map[string]string{"username": "bob", "password": "wrong-pw-123", "domain": "acme.example.test"}
	for i, c := range []*apitest.Client{a, b, a, b, a} {
		if r := c.Do("POST", "/auth/sign_in", wrong); r.Status != 401 {
			t.Fatalf("failure %d: %d", i+1, r.Status)
		}
	}
	for name, c := range map[string]*apitest.Client{"A": a, "B": b} {
		if r := c.Do("POST", "/auth/sign_in", bobCreds()); r.Status != 429 {
			t.Errorf("after 5 failures spread over A and B, %s answered %d", name, r.Status)
		}
	}
}

// TestDatabaseOutageOverHTTP: with PostgreSQL refusing the store, requests
// get 503 with Retry-After in the error shape and no token; when it is back, the same
// instance serves again without a restart.
func TestDatabaseOutageOverHTTP(t *testing.T) {
	pg := cuttablePostgres(t)
	st, err := openDSN(context.Background(), pg.dsn, sqlstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedBob(t, st)
	c := instance(t, st)
	access, refresh := signInBob(t, c)

	pg.cut()
	for _, r := range []*apitest.Response{
		c.Do("POST", "/auth/sign_in", bobCreds()),
		c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}),
		c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...),
	} {
		if r.Status != 503 || r.Code() != pbxauth.CodeUnavailable || r.Header.Get("Retry-After") == "" || r.String("access_token") != "" {
			t.Errorf("during the outage: %d %s", r.Status, r.Body)
		}
	}

	pg.restore()
	if r := c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Errorf("after the outage, the old token: %d %s", r.Status, r.Body)
	}
	if r := c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}); r.Status != 200 {
		t.Errorf("after the outage, the refresh token: %d %s", r.Status, r.Body)
	}
	signInBob(t, c)
}

// TestInstancesShareCookieSessions: a browser session made on A (in the
// same database: scs's PostgreSQL store, or the SQLite one) is valid on B —
// another process, or the same after a restart — and a logout on B ends it
// on A.
func TestInstancesShareCookieSessions(t *testing.T) {
	eachBackend(t, testSharedCookieSessions)
}

func testSharedCookieSessions(t *testing.T, bk backend) {
	a, b := cookieInstances(t, bk.fresh)
	b.HTTP.Jar = a.HTTP.Jar // one browser; cookies do not depend on the port

	if r := a.Do("POST", "/login", bobCreds()); r.Status != 200 {
		t.Fatalf("login on A: %d %s", r.Status, r.Body)
	}
	r := b.Do("GET", "/login", nil)
	if r.Status != 200 || r.String("role") != "StandardUser" {
		t.Fatalf("session on B: %d %s", r.Status, r.Body)
	}
	if u := a.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...); u.Status != 200 {
		t.Fatalf("B's session token on A: %d", u.Status)
	}
	if r := b.Do("POST", "/logout", nil); r.Status != 204 {
		t.Fatalf("logout on B: %d %s", r.Status, r.Body)
	}
	if r := a.Do("GET", "/login", nil); r.Status != 401 {
		t.Fatalf("session on A after logout on B: %d", r.Status)
	}
}

// cookieInstances is twoInstances with cookie sessions kept in the shared
// database (scs's PostgreSQL store).
func cookieInstances(t *testing.T, fresh func(testing.TB) string) (a, b *apitest.Client) {
	dsn := fresh(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	serve := func(st *sqlstore.Store) *apitest.Client {
		ss, err := st.SessionStore()
		if err != nil {
			t.Fatal(err)
		}
		sm := scs.New()
		sm.Store = ss
		sm.Cookie.HttpOnly = true
		sm.Cookie.Secure = false
		return instance(t, st, func(c *pbxauth.Config) { c.SessionManager, c.InsecureCookies = sm, true })
	}
	return serve(stA), serve(stB)
}
