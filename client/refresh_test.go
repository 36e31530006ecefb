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
		if err := storm(c, s, callers); err != nil {
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

// storm sends GET /auth/user through c from n goroutines released at
// once; the first failure, if any.
func storm(c *client.Client, s *server, n int) error {
	start := make(chan struct{})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
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
	return <-errs
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

// 200 goroutines whose token the server has seen end, while the client
// believes it valid: each gets a 401, one refresh is made, and every
// request is sent again with its successor.
func TestConcurrent401sRefreshOnce(t *testing.T) {
	s := newServer(t)
	frozen := newClock()
	c := s.newClient(t, func(cfg *client.Config) { cfg.Now = frozen.Now })
	signIn(t, c)
	s.clock.Advance(time.Hour + time.Second)
	if err := storm(c, s, 200); err != nil {
		t.Fatal(err)
	}
	if r, u := s.refreshes.Load(), s.reuses.Load(); r != 1 || u != 0 {
		t.Fatalf("%d refreshes, %d reuses; want 1 and 0", r, u)
	}
}

// A token is refreshed RefreshBefore before its end, plus at most a
// quarter more at random, and not earlier.
func TestRefreshBeforeItsEnd(t *testing.T) {
	s := newServer(t)
	c := s.newClient(t)
	signIn(t, c)
	s.clock.Advance(time.Hour - 76*time.Second) // 76 s left: more than 60 s + 15 s
	if _, err := c.Token(context.Background()); err != nil || s.refreshes.Load() != 0 {
		t.Fatalf("refreshed with 76 s left (%v)", err)
	}
	s.clock.Advance(17 * time.Second) // 59 s left
	if _, err := c.Token(context.Background()); err != nil || s.refreshes.Load() != 1 {
		t.Fatalf("%d refreshes with 59 s left (%v)", s.refreshes.Load(), err)
	}
}

// A sign-in made while a refresh of the one it replaces is in flight stays
// the stored pair: the refresh that lands afterwards saves nothing, so the
// next run does not resume the replaced sign-in.
func TestSignInDuringRefreshStaysStored(t *testing.T) {
	s := newServer(t)
	p := newHoldProxy(t, s)
	tokens := &memTokens{}
	c := s.newClient(t, func(cfg *client.Config) { cfg.BaseURL = p.srv.URL + "/api"; cfg.Tokens = tokens })
	signIn(t, c)
	done := make(chan error, 1)
	go func() {
		_, err := c.Refresh(context.Background())
		done <- err
	}()
	<-p.arrived
	signIn(t, c)
	now, _ := c.Token(context.Background())
	close(p.release)
	if err := <-done; err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if got, _ := c.Token(context.Background()); got != now || tokens.stored() != now {
		t.Fatalf("in memory %+v, stored %+v; want the later sign-in %+v", got, tokens.stored(), now)
	}
}
