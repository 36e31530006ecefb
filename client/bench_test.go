// Benchmarks for BENCHMARKS.md: the transport's cost per request beside a
// bare http.Client, and the refreshes 200 concurrent callers cause per
// token generation with this client, with a naive one and with
// golang.org/x/oauth2's ReuseTokenSource.

package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/pbxauth/pbxauth/client"
)

// pingServer adds GET /api/ping, which answers 204 and checks nothing, so
// that only the client's side is measured.
func pingServer(b *testing.B) *server {
	s := newServer(b)
	mux := http.NewServeMux()
	mux.Handle("/", s.srv.Config.Handler)
	mux.HandleFunc("GET /api/ping", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	s.srv.Config.Handler = mux
	return s
}

func ping(b *testing.B, hc *http.Client, url, bearer string) {
	req, _ := http.NewRequest("GET", url, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := hc.Do(req)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		b.Fatalf("ping: %v %v", resp, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
}

// The same request through a bare http.Client that sets the header itself
// and through the client's HTTPClient (origin check, token read, request
// clone): over loopback to a handler that checks nothing, and to a
// RoundTripper that answers at once, which leaves only the client's side.
func BenchmarkRequest(b *testing.B) {
	s := pingServer(b)
	tokens := &memTokens{}
	c := s.newClient(b, func(cfg *client.Config) { cfg.Tokens = tokens })
	signIn(b, c)
	tok, _ := c.Token(context.Background())
	url := s.base() + "/ping"
	offline := &http.Client{Transport: answerAtOnce{}}
	// The same sign-in, loaded from tokens, on a transport without network.
	c2 := s.newClient(b, func(cfg *client.Config) { cfg.Tokens = tokens; cfg.HTTPClient = offline })
	for _, bc := range []struct {
		name   string
		hc     *http.Client
		bearer string
	}{
		{"loopback/bare", &http.Client{}, tok.AccessToken},
		{"loopback/client", c.HTTPClient(), ""},
		{"offline/bare", offline, tok.AccessToken},
		{"offline/client", c2.HTTPClient(), ""},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			cpu := cpuTime()
			for b.Loop() {
				ping(b, bc.hc, url, bc.bearer)
			}
			b.ReportMetric(float64((cpuTime()-cpu).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// answerAtOnce answers 204 without a network, after checking that the
// bearer came.
type answerAtOnce struct{}

func (answerAtOnce) RoundTrip(r *http.Request) (*http.Response, error) {
	status := http.StatusNoContent
	if r.Header.Get("Authorization") == "" {
		status = http.StatusUnauthorized
	}
	return &http.Response{StatusCode: status, Body: http.NoBody, Header: http.Header{}, Request: r}, nil
}

// A refresher is a way of getting a fresh access token that 200 callers
// share: each returns one per call.
type refresher func(ctx context.Context) error

// BenchmarkRefreshStorm: per op, a new sign-in whose token is about to
// end, then 200 concurrent callers ask for a token. Metrics per op:
// refresh requests the server received, the rotations it answered, the
// reuses it detected (each ends the sign-in), and whether the sign-in
// survived.
func BenchmarkRefreshStorm(b *testing.B) {
	for _, kind := range []string{"naive", "oauth2.ReuseTokenSource", "client", "oauth2.ReuseTokenSource×2 processes", "client×2 processes"} {
		b.Run(kind, func(b *testing.B) {
			s := newServer(b)
			var posts, refreshes, reuses, alive float64
			for b.Loop() {
				p0, r0, u0 := s.refreshPosts.Load(), s.refreshes.Load(), s.reuses.Load()
				get := stormSetup(b, s, kind)
				s.clock.Advance(time.Hour - 30*time.Second)
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range 200 {
					wg.Go(func() {
						<-start
						get(i)(context.Background())
					})
				}
				close(start)
				wg.Wait()
				posts += float64(s.refreshPosts.Load() - p0)
				refreshes += float64(s.refreshes.Load() - r0)
				reuses += float64(s.reuses.Load() - u0)
				// The sign-in survived if its newest refresh token still works.
				if s.reuses.Load() == u0 {
					alive++
				}
			}
			n := float64(b.N)
			b.ReportMetric(posts/n, "refresh-requests/op")
			b.ReportMetric(refreshes/n, "rotations/op")
			b.ReportMetric(reuses/n, "reuses/op")
			b.ReportMetric(alive/n, "alive/op")
		})
	}
}

// stormSetup signs in anew and returns, for caller i, the way it gets a
// token.
func stormSetup(b *testing.B, s *server, kind string) func(i int) refresher {
	ctx := context.Background()
	switch kind {
	case "client", "client×2 processes":
		tokens := client.FileTokens(filepath.Join(b.TempDir(), "tokens.json"))
		c := s.newClient(b, func(cfg *client.Config) { cfg.Tokens = tokens })
		signIn(b, c)
		c2 := s.newClient(b, func(cfg *client.Config) { cfg.Tokens = tokens })
		return func(i int) refresher {
			if kind == "client" || i%2 == 0 {
				return func(ctx context.Context) error { _, err := c.Token(ctx); return err }
			}
			return func(ctx context.Context) error { _, err := c2.Token(ctx); return err }
		}
	}
	c := s.newClient(b)
	signIn(b, c)
	first, _ := c.Token(ctx)
	// Both "processes" start from the pair the sign-in stored.
	shared := &rawSource{s: s, tok: first}
	switch kind {
	case "naive":
		return func(int) refresher { return shared.naive }
	case "oauth2.ReuseTokenSource":
		ts := oauth2.ReuseTokenSource(shared.oauth2(), shared)
		return func(int) refresher { return tokenOf(ts) }
	}
	other := &rawSource{s: s, tok: first}
	ts1 := oauth2.ReuseTokenSource(shared.oauth2(), shared)
	ts2 := oauth2.ReuseTokenSource(other.oauth2(), other)
	return func(i int) refresher {
		if i%2 == 0 {
			return tokenOf(ts1)
		}
		return tokenOf(ts2)
	}
}

func tokenOf(ts oauth2.TokenSource) refresher {
	return func(context.Context) error { _, err := ts.Token(); return err }
}

// rawSource refreshes by hand, as programs do without this package.
type rawSource struct {
	s   *server
	mu  sync.Mutex
	tok client.Token
}

func (r *rawSource) current() client.Token {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.tok
}

// naive refreshes whenever the token it reads is due: every caller that
// reads it before the first answer refreshes the same generation.
func (r *rawSource) naive(ctx context.Context) error {
	t := r.current()
	if r.s.clock.Now().Before(t.Expiry.Add(-time.Minute)) {
		return nil
	}
	next, err := r.post(t.RefreshToken)
	if err == nil {
		r.mu.Lock()
		r.tok = next
		r.mu.Unlock()
	}
	return err
}

// Token is the oauth2.TokenSource ReuseTokenSource wraps: one refresh.
func (r *rawSource) Token() (*oauth2.Token, error) {
	next, err := r.post(r.current().RefreshToken)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.tok = next
	r.mu.Unlock()
	// oauth2 reads the real clock: the life left on the fake one.
	return &oauth2.Token{AccessToken: next.AccessToken, Expiry: time.Now().Add(next.Expiry.Sub(r.s.clock.Now()) - time.Minute)}, nil
}

// oauth2 is the sign-in's first token as ReuseTokenSource gets it: about
// to end (oauth2 reads the real clock, not the fake one).
func (r *rawSource) oauth2() *oauth2.Token {
	return &oauth2.Token{AccessToken: r.current().AccessToken, Expiry: time.Now()}
}

func (r *rawSource) post(refreshToken string) (client.Token, error) {
	body, _ := json.Marshal(map[string]string{"refresh_token": refreshToken})
	resp, err := http.Post(r.s.base()+"/auth/refresh_token", "application/json", bytes.NewReader(body))
	if err != nil {
		return client.Token{}, err
	}
	defer resp.Body.Close()
	var p struct {
		AccessToken  string `json:"access_token"`
		ExpiresIn    int64  `json:"expires_in"`
		RefreshToken string `json:"refresh_token"`
	}
	if resp.StatusCode != 200 {
		return client.Token{}, fmt.Errorf("refresh: %d", resp.StatusCode)
	}
	json.NewDecoder(resp.Body).Decode(&p)
	return client.Token{AccessToken: p.AccessToken, RefreshToken: p.RefreshToken,
		Expiry: r.s.clock.Now().Add(time.Duration(p.ExpiresIn) * time.Second)}, nil
}
