// Shared fixtures of the HTTP tests: a fake clock, a seeded memory store and
// an Auth served over a real httptest.Server under /api.

package pbxauth_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/fakeclock"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// clock is the fake clock tests move by hand.
type clock = fakeclock.Clock

func newClock() *clock { return fakeclock.New() }

// cheap are argon2id parameters that keep tests fast; production uses DefaultArgon2.
var cheap = pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// cheapHash is the argon2id hash of pw with the tests' cheap parameters, as
// a store keeps it.
func cheapHash(pw string) (string, error) { return hasher.Hash(pw, hasher.Params(cheap)), nil }

// Fixture names.
const (
	acmeDomain = "acme.example.test"
	acmeID     = "tenant-acme"
	otherID    = "tenant-other"
	aliceID    = "user-alice"
	alicePW    = "alice-pw-123"
	adminID    = "user-admin"
	adminPW    = "S3cure-admin-pw"
)

// seed fills st with the system, two tenants, a tenant admin (alice), a
// system admin (admin), a disabled user (dave) and a user of another tenant
// who shares alice's username.
func seed(t testing.TB, st store.Store) {
	t.Helper()
	ctx := context.Background()
	hash := func(pw string) string {
		h, err := cheapHash(pw)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(st.PutSystem(ctx, store.System{WebDomain: "pbx.example.test", PrivateIPv4: "10.0.0.5", PublicIPv4: "203.0.113.5",
		PrimaryDNSServer: "9.9.9.9", SecondaryDNSServer: "1.1.1.1"}))
	must(st.CreateTenant(ctx, store.Tenant{ID: acmeID, Name: "Acme", Domain: acmeDomain, Website: "https://acme.example.test"}))
	must(st.CreateTenant(ctx, store.Tenant{ID: otherID, Name: "Other", Domain: "other.example.test"}))
	must(st.CreateUser(ctx, store.User{ID: aliceID, TenantID: acmeID, Username: "alice", Email: "alice@acme.example.test", Role: "Admin", PasswordHash: hash(alicePW)}))
	must(st.CreateUser(ctx, store.User{ID: "user-dave", TenantID: acmeID, Username: "dave", Email: "dave@acme.example.test", Role: "StandardUser", PasswordHash: hash("dave-pw-123"), Disabled: true}))
	must(st.CreateUser(ctx, store.User{ID: "user-alice-other", TenantID: otherID, Username: "alice", Role: "StandardUser", PasswordHash: hash("other-pw-123")}))
	must(st.CreateUser(ctx, store.User{ID: adminID, Username: "admin", Email: "root@example.test", Role: "SystemAdmin", PasswordHash: hash(adminPW)}))
}

// env is one Auth under test with its store, clock and client.
type env struct {
	auth  *pbxauth.Auth
	store store.Store
	clock *clock
	c     *apitest.Client
}

// newEnv serves an Auth over a seeded memory store; configure may adjust
// the Config before New.
func newEnv(t testing.TB, configure ...func(*pbxauth.Config)) *env {
	t.Helper()
	st := memstore.New()
	seed(t, st)
	return newEnvWith(t, st, configure...)
}

// newEnvWith serves an Auth over st as given.
func newEnvWith(t testing.TB, st store.Store, configure ...func(*pbxauth.Config)) *env {
	t.Helper()
	clk := newClock()
	cfg := pbxauth.Config{Store: st, Now: clk.Now, Argon2: cheap, PublicURL: "http://pbxauth.test/api", Logger: slog.New(slog.DiscardHandler)}
	for _, f := range configure {
		f(&cfg)
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{auth: a, store: st, clock: clk, c: apitest.Serve(t, a.Handler(), nil)}
}

// signIn signs alice in and returns the token pair's access and refresh tokens.
func (e *env) signIn(t testing.TB, body map[string]any) (access, refresh string) {
	t.Helper()
	r := e.c.Do("POST", "/auth/sign_in", body)
	if r.Status != 200 {
		t.Fatalf("sign_in %v: %d %s", body, r.Status, r.Body)
	}
	return r.String("access_token"), r.String("refresh_token")
}

func aliceCreds() map[string]any {
	return map[string]any{"username": "alice", "password": alicePW, "domain": acmeDomain}
}

// syncBuffer is a log sink tests read while handlers write.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// count says how often sub was logged.
func (b *syncBuffer) count(sub string) int { return strings.Count(b.String(), sub) }

// volatileMail lets a store wrapper that hides the outbox be used.
func volatileMail(c *pbxauth.Config) { c.VolatileMail = true }
