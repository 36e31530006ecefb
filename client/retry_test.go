// Tests of a refresh whose answer is lost or refused for now: retried with
// backoff, honouring Retry-After, and the sign-in survives under the
// server's RefreshReuseGrace.

package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/client"
)

// refreshProxy forwards to the server; its fault decides, per refresh
// request (numbered from 1), what happens to it.
type refreshProxy struct {
	srv *httptest.Server
	n   atomic.Int64
}

// A fault is what the proxy does to the nth refresh: "" forwards it,
// "drop" forwards it and closes the connection once the server answered,
// a number answers that status with Retry-After.
type fault func(n int64) (what string, retryAfter int)

func newRefreshProxy(t *testing.T, s *server, f fault) *refreshProxy {
	p := &refreshProxy{}
	target, _ := url.Parse(s.srv.URL)
	rp := httputil.NewSingleHostReverseProxy(target)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/auth/refresh_token" {
			rp.ServeHTTP(w, r)
			return
		}
		what, ra := f(p.n.Add(1))
		switch what {
		case "":
			rp.ServeHTTP(w, r)
		case "drop":
			// The server answers in full (its rotation is stored),
			// then the answer is lost on the way back.
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r)
			if rec.Code != 200 {
				t.Errorf("the dropped refresh was answered %d", rec.Code)
			}
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		default:
			status, _ := strconv.Atoi(what)
			w.Header().Set("Retry-After", strconv.Itoa(ra))
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(`{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}`))
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// dropFirst loses the first refresh's answer.
func dropFirst(n int64) (string, int) {
	if n == 1 {
		return "drop", 0
	}
	return "", 0
}

// waits records the backoff's waits, which move the fake clock.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) hook(s *server) func(context.Context, time.Duration) error {
	return func(ctx context.Context, d time.Duration) error {
		w.mu.Lock()
		w.d = append(w.d, d)
		w.mu.Unlock()
		s.clock.Advance(d)
		return ctx.Err()
	}
}

func (w *waits) list() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]time.Duration(nil), w.d...)
}

func (w *waits) total() (sum time.Duration) {
	for _, d := range w.list() {
		sum += d
	}
	return sum
}

// proxied is a client of alice through p, with its waits recorded.
func proxied(t *testing.T, s *server, p *refreshProxy, tokens client.TokenStore, signedOut *atomic.Int64) (*client.Client, *waits) {
	c := s.newClient(t, func(cfg *client.Config) {
		cfg.BaseURL = p.srv.URL + "/api"
		cfg.Tokens = tokens
		cfg.OnSignedOut = func() { signedOut.Add(1) }
	})
	w := &waits{}
	client.SetSleep(c, w.hook(s))
	signIn(t, c)
	return c, w
}

// The refresh answer is lost after the server stored the rotation: the
// client retries and, under RefreshReuseGrace, gets the same pair again
// and stays signed in.
func TestLostRefreshAnswerRetriedUnderGrace(t *testing.T) {
	s := newServer(t, func(c *pbxauth.Config) { c.RefreshReuseGrace = 10 * time.Second })
	p := newRefreshProxy(t, s, dropFirst)
	var signedOut atomic.Int64
	tokens := &memTokens{}
	c, w := proxied(t, s, p, tokens, &signedOut)
	before := tokens.stored()
	tok, err := c.Refresh(context.Background())
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	if tok.RefreshToken == before.RefreshToken || tokens.stored() != tok {
		t.Fatalf("refreshed %+v, stored %+v", tok, tokens.stored())
	}
	if p.n.Load() != 2 || len(w.list()) != 1 {
		t.Fatalf("%d refresh requests, %d waits; want 2 and 1", p.n.Load(), len(w.list()))
	}
	if u, err := c.User(context.Background()); err != nil || u.Username != "alice" {
		t.Fatalf("User after the retry: %+v, %v", u, err)
	}
	// The same pair came back: its successor is the one rotation stored.
	if _, err := c.Refresh(context.Background()); err != nil {
		t.Fatalf("next Refresh: %v", err)
	}
	if s.reuses.Load() != 0 || signedOut.Load() != 0 {
		t.Fatalf("reuses %d, signed out %d", s.reuses.Load(), signedOut.Load())
	}
}

// Without grace (pbxauth's default) the retry of a lost answer is a reuse:
// the server ends the sign-in and the client says so once.
func TestLostRefreshAnswerWithoutGraceSignsOutOnce(t *testing.T) {
	s := newServer(t)
	p := newRefreshProxy(t, s, dropFirst)
	var signedOut atomic.Int64
	tokens := &memTokens{}
	c, _ := proxied(t, s, p, tokens, &signedOut)
	if _, err := c.Refresh(context.Background()); !errors.Is(err, client.ErrSignedOut) {
		t.Fatalf("Refresh: %v, want ErrSignedOut", err)
	}
	for range 3 {
		if _, err := c.User(context.Background()); !errors.Is(err, client.ErrSignedOut) {
			t.Fatalf("User: %v, want ErrSignedOut", err)
		}
	}
	if signedOut.Load() != 1 || s.reuses.Load() != 1 || !tokens.stored().IsZero() {
		t.Fatalf("signed out %d times, %d reuses, stored %+v", signedOut.Load(), s.reuses.Load(), tokens.stored())
	}
}

// 503 and 429 on a refresh are retried after their Retry-After, and are
// no sign-out.
func TestRefreshRetriesUnavailableAndTooManyRequests(t *testing.T) {
	s := newServer(t)
	p := newRefreshProxy(t, s, func(n int64) (string, int) {
		switch n {
		case 1:
			return "503", 3
		case 2:
			return "429", 1
		}
		return "", 0
	})
	var signedOut atomic.Int64
	c, w := proxied(t, s, p, &memTokens{}, &signedOut)
	if _, err := c.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	got := w.list()
	if len(got) != 2 || got[0] < 3*time.Second || got[1] < time.Second {
		t.Fatalf("waits %v, want at least [3s 1s]", got)
	}
	if _, err := c.User(context.Background()); err != nil || signedOut.Load() != 0 {
		t.Fatalf("User: %v; signed out %d", err, signedOut.Load())
	}
}

// A server unavailable for longer than the retries' 10 s: the refresh
// fails with its answer, the sign-in is kept and works once it is back.
func TestRefreshGivesUpAfterTenSecondsKeepingTheSignIn(t *testing.T) {
	s := newServer(t)
	var down atomic.Bool
	down.Store(true)
	p := newRefreshProxy(t, s, func(int64) (string, int) {
		if down.Load() {
			return "503", 0
		}
		return "", 0
	})
	var signedOut atomic.Int64
	tokens := &memTokens{}
	c, w := proxied(t, s, p, tokens, &signedOut)
	before := tokens.stored()
	_, err := c.Refresh(context.Background())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 503 || ae.Code != "UNAVAILABLE" {
		t.Fatalf("Refresh: %v, want the 503", err)
	}
	if total := w.total(); total > 10*time.Second || len(w.list()) < 3 {
		t.Fatalf("waited %v in %d waits", total, len(w.list()))
	}
	if signedOut.Load() != 0 || tokens.stored() != before {
		t.Fatalf("signed out %d, stored %+v", signedOut.Load(), tokens.stored())
	}
	// Due but not ended: a failed early refresh leaves the token in use.
	s.clock.Advance(time.Hour - 10*time.Second - w.total() - 30*time.Second)
	if u, err := c.User(context.Background()); err != nil || u.Username != "alice" {
		t.Fatalf("User while the refresh fails: %+v, %v", u, err)
	}
	down.Store(false)
	if _, err := c.Refresh(context.Background()); err != nil {
		t.Fatalf("Refresh once back: %v", err)
	}
}

// A refresh answered 400 ends the sign-in only when the answer is about the
// token. pbxauth answers an unknown, expired or reused refresh token 401,
// and 400 only to one it can never accept ("refresh_token is malformed"):
// that ends it. A 400 about something else (a proxy's refusal in the API's
// shape) is reported and keeps the pair.
func TestRefreshAnswered400(t *testing.T) {
	t.Run("about the token", func(t *testing.T) {
		s := newServer(t)
		var signedOut atomic.Int64
		junk := Token{AccessToken: "old", RefreshToken: strings.Repeat("x", 600), Expiry: s.clock.Now().Add(-time.Second)}
		tokens := &memTokens{t: junk}
		c := s.newClient(t, func(cfg *client.Config) {
			cfg.Tokens = tokens
			cfg.OnSignedOut = func() { signedOut.Add(1) }
		})
		if _, err := c.Token(context.Background()); !errors.Is(err, client.ErrSignedOut) {
			t.Fatalf("Token: %v, want ErrSignedOut", err)
		}
		if s.refreshPosts.Load() != 1 || signedOut.Load() != 1 || !tokens.stored().IsZero() {
			t.Fatalf("%d refresh requests, signed out %d times, stored %+v", s.refreshPosts.Load(), signedOut.Load(), tokens.stored())
		}
	})
	t.Run("about something else", func(t *testing.T) {
		s := newServer(t)
		p := newRefreshProxy(t, s, func(int64) (string, int) { return "400", 0 })
		var signedOut atomic.Int64
		tokens := &memTokens{}
		c, w := proxied(t, s, p, tokens, &signedOut)
		before := tokens.stored()
		_, err := c.Refresh(context.Background())
		var ae *client.APIError
		if !errors.As(err, &ae) || ae.Status != 400 {
			t.Fatalf("Refresh: %v, want the 400 as *APIError", err)
		}
		if p.n.Load() != 1 || len(w.list()) != 0 {
			t.Fatalf("%d refresh requests, %d waits; want 1 and 0", p.n.Load(), len(w.list()))
		}
		if tok, err := c.Token(context.Background()); err != nil || tok != before || tokens.stored() != before || signedOut.Load() != 0 {
			t.Fatalf("after the 400: %+v, %v; stored %+v; signed out %d", tok, err, tokens.stored(), signedOut.Load())
		}
	})
}
