// Shared fixtures of the client's tests: the real pbxauth handler on a
// memory store served over loopback HTTP, with a host route, a fake clock
// and the server's refreshes counted through OnEvent.

package client_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/client"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/fakeclock"
	"github.com/pbxauth/pbxauth/internal/hasher"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// clock is the fake clock tests move by hand.
type clock = fakeclock.Clock

func newClock() *clock { return fakeclock.New() }

// Fixture names.
const (
	domain   = "acme.example.test"
	aliceID  = "user-alice"
	alicePW  = "alice-pw-123"
	bobID    = "user-bob"
	bobPW    = "bob-pw-12345"
	tenantID = "tenant-acme"
)

// cheap keeps the tests' password hashing fast.
var cheap = pbxauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}

// server is pbxauth under /api plus the host's routes, over loopback.
type server struct {
	auth  *pbxauth.Auth
	clock *clock
	srv   *httptest.Server
	// refreshes and reuses count the server's EventRefresh and
	// EventRefreshReuse.
	refreshes, reuses atomic.Int64
	// refreshPosts counts POST /api/auth/refresh_token, whatever the
	// answer.
	refreshPosts atomic.Int64
	// echoHits counts requests reaching POST /api/echo, 401s included.
	echoHits atomic.Int64
}

// newServer serves a memory store with alice (no second factor) and bob
// (second factor by mail, to mails); configure adjusts the Config. Now
// nil in the result's Config means the real clock.
func newServer(t testing.TB, configure ...func(*pbxauth.Config)) *server {
	t.Helper()
	s := &server{clock: newClock()}
	st := memstore.New()
	ctx := context.Background()
	hash := func(pw string) string { return hasher.Hash(pw, hasher.Params(cheap)) }
	for _, err := range []error{
		st.CreateTenant(ctx, store.Tenant{ID: tenantID, Name: "Acme", Domain: domain}),
		st.CreateUser(ctx, store.User{ID: aliceID, TenantID: tenantID, Username: "alice", Email: "alice@acme.example.test", Role: "Admin", PasswordHash: hash(alicePW)}),
		st.CreateUser(ctx, store.User{ID: bobID, TenantID: tenantID, Username: "bob", Email: "bob@acme.example.test", Role: "StandardUser", PasswordHash: hash(bobPW), TwoFactorEnabled: true}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	cfg := pbxauth.Config{Store: st, Now: s.clock.Now, Argon2: cheap, Logger: slog.New(slog.DiscardHandler), VolatileMail: true,
		OnEvent: func(_ context.Context, e pbxauth.Event) {
			switch e.Kind {
			case pbxauth.EventRefresh:
				s.refreshes.Add(1)
			case pbxauth.EventRefreshReuse:
				s.reuses.Add(1)
			}
		}}
	for _, f := range configure {
		f(&cfg)
	}
	a, err := pbxauth.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	s.auth = a
	mux := http.NewServeMux()
	api := validated(t, http.StripPrefix("/api", a.Handler()))
	mux.Handle("/api/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/refresh_token" {
			s.refreshPosts.Add(1)
		}
		api.ServeHTTP(w, r)
	}))
	echo := a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(w, r.Body)
	}))
	mux.Handle("POST /api/echo", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.echoHits.Add(1)
		echo.ServeHTTP(w, r)
	}))
	mux.Handle("GET /api/extensions", a.RequireBearer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := pbxauth.PrincipalFrom(r.Context())
		io.WriteString(w, "extensions of "+p.Username)
	})))
	s.srv = httptest.NewServer(mux)
	t.Cleanup(s.srv.Close)
	return s
}

// base is the API's base URL.
func (s *server) base() string { return s.srv.URL + "/api" }

// newClient returns a client of base (the server's by default) on the
// server's clock whose backoff waits move that clock instead of sleeping;
// configure adjusts its Config.
func (s *server) newClient(t testing.TB, configure ...func(*client.Config)) *client.Client {
	t.Helper()
	cfg := client.Config{BaseURL: s.base(), Domain: domain, Now: s.clock.Now}
	for _, f := range configure {
		f(&cfg)
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	client.SetSleep(c, func(ctx context.Context, d time.Duration) error {
		s.clock.Advance(d)
		return ctx.Err()
	})
	return c
}

// signIn signs alice in through c.
func signIn(t testing.TB, c *client.Client) {
	t.Helper()
	sf, err := c.SignIn(context.Background(), "alice", alicePW)
	if err != nil || sf != nil {
		t.Fatalf("SignIn: %v, %v", sf, err)
	}
}

// memTokens is a TokenStore in memory that tells each Save on saved.
type memTokens struct {
	mu    sync.Mutex
	t     Token
	saves int
	fail  error
	saved chan client.Token
}

// Token is client.Token, short.
type Token = client.Token

func (m *memTokens) Load(context.Context) (client.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t, nil
}

func (m *memTokens) Save(_ context.Context, t client.Token) error {
	m.mu.Lock()
	if m.fail != nil {
		m.mu.Unlock()
		return m.fail
	}
	m.t = t
	m.saves++
	m.mu.Unlock()
	if m.saved != nil {
		m.saved <- t
	}
	return nil
}

func (m *memTokens) stored() client.Token {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.t
}

// get sends GET route (under /api) through c's HTTPClient and returns the
// status.
func get(ctx context.Context, c *client.Client, s *server, route string) (int, error) {
	status, _, err := getText(ctx, c, s, route)
	return status, err
}

// getText is get that also returns the body.
func getText(ctx context.Context, c *client.Client, s *server, route string) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", s.base()+route, nil)
	if err != nil {
		return 0, "", err
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

// realClock runs the server on the real clock, for tests whose other
// processes cannot share a fake one.
func realClock(c *pbxauth.Config) { c.Now = nil }

// validated checks every answer of the API against openapi.json, as every
// HTTP test of the project does.
func validated(t testing.TB, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if err := apitest.Validate(r, rec.Code, rec.Header(), rec.Body.Bytes()); err != nil {
			t.Errorf("%s %s answered %d against openapi.json: %v", r.Method, r.URL, rec.Code, err)
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		w.Write(rec.Body.Bytes())
	})
}
