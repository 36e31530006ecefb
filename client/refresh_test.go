// Tests of the refresh under concurrency: once per generation whatever the
// number of callers, completed and persisted when every caller gave up,
// and the sign-in ended once when the server ends it.

package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/client"
)

// 200 goroutines whose token is about to end make exactly one refresh per
// generation, counted at the server.
func TestConcurrentCallersRefreshOncePerGeneration(t *testing.T) {
	s := newServer(t)
	c := s.newClient(t)
	signIn(t, c)
	const callers, generations = 200, 3
	for g := 1; g <= generations; g++ {
		// 30 s left: inside RefreshBefore (60 s), still valid at the server.
		s.clock.Advance(time.Hour - 30*time.Second)
		start := make(chan struct{})
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				<-start
				status, err := get(context.Background(), c, s, "/auth/user")
				if err == nil && status != 200 {
					err = errors.New(http.StatusText(status))
				}
				if err != nil {
					errs <- err
				}
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("generation %d: %v", g, err)
		}
		if n := s.refreshes.Load(); n != int64(g) {
			t.Fatalf("after generation %d: %d refreshes at the server, want %d", g, n, g)
		}
	}
	if n := s.reuses.Load(); n != 0 {
		t.Fatalf("%d reuses detected", n)
	}
}

// holdProxy forwards to the server, holding the first refresh until
// released: arrived is closed when it came.
type holdProxy struct {
	srv              *httptest.Server
	arrived, release chan struct{}
	once             sync.Once
}

func newHoldProxy(t *testing.T, s *server) *holdProxy {
	p := &holdProxy{arrived: make(chan struct{}), release: make(chan struct{})}
	target, _ := url.Parse(s.srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/auth/refresh_token" {
			p.once.Do(func() {
				close(p.arrived)
				<-p.release
			})
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// Every caller gives up while the refresh is in flight: the rotation still
// completes and is saved, and the next call uses it without refreshing.
func TestRefreshOutlivesItsCallers(t *testing.T) {
	s := newServer(t)
	p := newHoldProxy(t, s)
	tokens := &memTokens{saved: make(chan client.Token, 4)}
	c := s.newClient(t, func(cfg *client.Config) { cfg.BaseURL = p.srv.URL + "/api"; cfg.Tokens = tokens })
	signIn(t, c)
	first := <-tokens.saved
	s.clock.Advance(time.Hour - 30*time.Second)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			_, err := c.Token(ctx)
			errs <- err
		})
	}
	<-p.arrived
	cancel()
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled caller got %v", err)
		}
	}
	close(p.release)
	saved := <-tokens.saved
	if saved.RefreshToken == first.RefreshToken || saved.AccessToken == "" {
		t.Fatalf("saved %+v after the refresh", saved)
	}
	tok, err := c.Token(context.Background())
	if err != nil || tok != saved {
		t.Fatalf("next call uses %+v, %v; saved %+v", tok, err, saved)
	}
	if u, err := c.User(context.Background()); err != nil || u.Username != "alice" {
		t.Fatalf("User: %+v, %v", u, err)
	}
	if n := s.refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes, want 1", n)
	}
}

// A revoked sign-in: every caller gets ErrSignedOut, OnSignedOut is called
// once, the stored pair is cleared, and later calls send nothing.
func TestRevokedSessionSignsOutOnce(t *testing.T) {
	s := newServer(t)
	tokens := &memTokens{}
	var signedOut atomic.Int64
	c := s.newClient(t, func(cfg *client.Config) {
		cfg.Tokens = tokens
		cfg.OnSignedOut = func() { signedOut.Add(1) }
	})
	signIn(t, c)
	if _, err := s.auth.SignOutEverywhere(context.Background(), aliceID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := c.User(context.Background())
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if !errors.Is(err, client.ErrSignedOut) {
			t.Fatalf("a caller got %v, want ErrSignedOut", err)
		}
	}
	if _, err := get(context.Background(), c, s, "/auth/user"); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("a later call got %v", err)
	}
	if n := signedOut.Load(); n != 1 {
		t.Fatalf("OnSignedOut called %d times", n)
	}
	if st := tokens.stored(); !st.IsZero() {
		t.Fatalf("stored pair not cleared: %+v", st)
	}
}

// A Save that fails keeps the new pair in memory and reports the error.
func TestSaveFailureKeepsThePair(t *testing.T) {
	s := newServer(t)
	tokens := &memTokens{}
	var reported atomic.Int64
	c := s.newClient(t, func(cfg *client.Config) {
		cfg.Tokens = tokens
		cfg.OnSaveError = func(error) { reported.Add(1) }
	})
	signIn(t, c)
	before := tokens.stored()
	tokens.mu.Lock()
	tokens.fail = errors.New("disk full")
	tokens.mu.Unlock()
	s.clock.Advance(time.Hour - 30*time.Second)
	tok, err := c.Token(context.Background())
	if err != nil || tok.RefreshToken == before.RefreshToken {
		t.Fatalf("Token: %+v, %v", tok, err)
	}
	if reported.Load() != 1 {
		t.Fatalf("Save's failure reported %d times", reported.Load())
	}
	if status, err := get(context.Background(), c, s, "/auth/user"); err != nil || status != 200 {
		t.Fatalf("GET /auth/user: %d %v", status, err)
	}
}

// The oauth2 adapter hands out the current access token.
func TestTokenSource(t *testing.T) {
	s := newServer(t)
	c := s.newClient(t)
	signIn(t, c)
	ot, err := c.TokenSource().Token()
	want, _ := c.Token(context.Background())
	if err != nil || ot.AccessToken != want.AccessToken || ot.Type() != "Bearer" || ot.RefreshToken != "" {
		t.Fatalf("TokenSource: %+v, %v", ot, err)
	}
	c2 := s.newClient(t)
	if _, err := c2.TokenSource().Token(); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("signed out: %v", err)
	}
}
