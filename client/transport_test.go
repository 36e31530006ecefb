// Tests of the transport: a request is sent again after a refresh only
// when its body can be replayed, and the bearer goes nowhere but to
// BaseURL's origin, also along redirects.

package client_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/client"
)

// post sends POST /api/echo with body through c and returns the status
// and the answer.
func post(t *testing.T, c *client.Client, s *server, body io.Reader) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), "POST", s.base()+"/echo", body)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := c.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// onlyReader hides a reader's type, so http.NewRequest cannot replay it.
type onlyReader struct{ io.Reader }

func TestRequestSentAgainAfter401OnlyWithReplayableBody(t *testing.T) {
	s := newServer(t)
	// The client's own clock stands still: it believes its token valid
	// while the server has seen it expire, so the server's 401 is what
	// makes it refresh.
	frozen := newClock()
	c := s.newClient(t, func(cfg *client.Config) { cfg.Now = frozen.Now })
	signIn(t, c)

	s.clock.Advance(time.Hour + time.Second)
	status, body := post(t, c, s, strings.NewReader("replayable"))
	if status != 200 || body != "replayable" || s.echoHits.Load() != 2 {
		t.Fatalf("replayable: %d %q after %d requests; want 200, the body, 2", status, body, s.echoHits.Load())
	}

	s.clock.Advance(time.Hour + time.Second)
	s.echoHits.Store(0)
	status, _ = post(t, c, s, onlyReader{strings.NewReader("once")})
	if status != 401 || s.echoHits.Load() != 1 {
		t.Fatalf("not replayable: %d after %d requests; want 401 after 1", status, s.echoHits.Load())
	}
	// The refresh was made all the same: the next request goes through.
	status, body = post(t, c, s, onlyReader{strings.NewReader("again")})
	if status != 200 || body != "again" || s.refreshes.Load() != 2 {
		t.Fatalf("next: %d %q with %d refreshes", status, body, s.refreshes.Load())
	}
}

// authRecorder is a server on another origin that records the
// Authorization headers it was sent.
type authRecorder struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func newAuthRecorder(t *testing.T) *authRecorder {
	a := &authRecorder{}
	a.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		a.seen = append(a.seen, r.Header.Get("Authorization"))
		a.mu.Unlock()
	}))
	t.Cleanup(a.srv.Close)
	return a
}

func TestBearerOnlyToBaseOrigin(t *testing.T) {
	s := newServer(t)
	other := newAuthRecorder(t) // same host, another port: another origin
	mux := http.NewServeMux()
	mux.Handle("/", s.srv.Config.Handler)
	mux.HandleFunc("GET /api/elsewhere", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.srv.URL+"/landing", http.StatusFound)
	})
	mux.HandleFunc("GET /api/home", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/api/extensions", http.StatusFound)
	})
	s.srv.Config.Handler = mux
	c := s.newClient(t)
	signIn(t, c)

	hc := c.HTTPClient()
	for _, u := range []string{s.base() + "/elsewhere", other.srv.URL + "/direct"} {
		resp, err := hc.Get(u)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: %v %v", u, resp, err)
		}
		resp.Body.Close()
	}
	other.mu.Lock()
	seen := other.seen
	other.mu.Unlock()
	if len(seen) != 2 || seen[0] != "" || seen[1] != "" {
		t.Fatalf("the other origin was sent Authorization %q", seen)
	}
	// A redirect within the origin keeps it.
	if status, b, err := getText(context.Background(), c, s, "/home"); err != nil || status != 200 || b != "extensions of alice" {
		t.Fatalf("same-origin redirect: %d %q %v", status, b, err)
	}
}
