// Black-box tests of request IDs: X-Request-ID is believed only from a
// trusted proxy and only in its documented shape; whatever ID a request
// ends up with is on the answer, on its span, in its events and in the log
// lines pbxauth writes for it.

package pbxauth_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// validRequestID is the shape of every request ID pbxauth hands out.
var validRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// idEnv is an env that records the request IDs of its events, spans and
// log lines.
type idEnv struct {
	*env
	spans *tracetest.SpanRecorder
	logs  *syncBuffer
	mu    sync.Mutex
	ids   []string // Event.RequestID of every event, in order
}

func newIDEnv(t *testing.T, configure ...func(*pbxauth.Config)) *idEnv {
	t.Helper()
	ie := &idEnv{spans: tracetest.NewSpanRecorder(), logs: &syncBuffer{}}
	base := func(c *pbxauth.Config) {
		c.TracerProvider = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(ie.spans))
		c.Logger = slog.New(slog.NewTextHandler(ie.logs, nil))
		c.OnEvent = func(_ context.Context, ev pbxauth.Event) {
			ie.mu.Lock()
			defer ie.mu.Unlock()
			ie.ids = append(ie.ids, ev.RequestID)
		}
	}
	ie.env = newEnv(t, append([]func(*pbxauth.Config){base}, configure...)...)
	return ie
}

// signInWith sends a wrong password for a user of its own (so that no
// limit is reached) with headers added as given, and returns the answer's
// X-Request-ID after checking that the request's event, its span and its
// one log line carry that ID and no other.
func (ie *idEnv) signInWith(t *testing.T, n int, headers ...string) string {
	t.Helper()
	ie.clock.Advance(time.Minute) // the forwarding warning is logged at most once a minute
	body := fmt.Sprintf(`{"username":"user%d","password":"wrong-pw-123","domain":%q}`, n, acmeDomain)
	req := signInRequest(t, ie.env, body, headers...)
	ie.mu.Lock()
	events, logs, spans := len(ie.ids), ie.logs.String(), len(ie.spans.Ended())
	ie.mu.Unlock()
	r := ie.c.Send(req)
	if r.Status != 401 {
		t.Fatalf("wrong password: %d %s", r.Status, r.Body)
	}
	id := r.Header.Get("X-Request-ID")
	if !validRequestID.MatchString(id) || len(r.Header.Values("X-Request-ID")) != 1 {
		t.Fatalf("X-Request-ID on the answer: %q", r.Header.Values("X-Request-ID"))
	}
	ie.mu.Lock()
	got := ie.ids[events:]
	ie.mu.Unlock()
	if len(got) != 1 || got[0] != id {
		t.Errorf("the request's events carry request IDs %q, want [%q]", got, id)
	}
	newLines := strings.TrimPrefix(ie.logs.String(), logs)
	if strings.Count(newLines, "\n") != 1 || !strings.Contains(newLines, " request_id="+id+"\n") {
		t.Errorf("the request's log lines do not end with request_id=%s:\n%s", id, newLines)
	}
	ended := ie.spans.Ended()[spans:]
	if len(ended) != 1 {
		t.Fatalf("%d spans ended, want 1", len(ended))
	}
	attr := ""
	for _, kv := range ended[0].Attributes() {
		if kv.Key == "pbxauth.request_id" {
			attr = kv.Value.AsString()
		}
	}
	if attr != id {
		t.Errorf("span %s has pbxauth.request_id %q, want %q", ended[0].Name(), attr, id)
	}
	return id
}

// TestRequestIDUntrustedClientIgnored: a client that is no trusted proxy
// cannot choose its request ID, so it cannot make its requests look like
// someone else's in the logs; each request gets a fresh one.
func TestRequestIDUntrustedClientIgnored(t *testing.T) {
	ie := newIDEnv(t)
	seen := map[string]bool{}
	for i, sent := range []string{"", "client-chosen-id", "client-chosen-id", "lb-7f3a:9c.01_x-2"} {
		headers := []string{"X-Forwarded-For", "198.51.100.7"} // an untrusted peer's header: logged
		if sent != "" {
			headers = append(headers, "X-Request-ID", sent)
		}
		id := ie.signInWith(t, i, headers...)
		if id == sent || seen[id] {
			t.Errorf("request %d sent X-Request-ID %q and got %q (seen before: %v)", i, sent, id, seen[id])
		}
		seen[id] = true
	}
}

// TestRequestIDTrustedProxy: a trusted proxy's X-Request-ID is kept when it
// is 1–128 characters of [A-Za-z0-9._:-], and replaced by a fresh one
// otherwise.
func TestRequestIDTrustedProxy(t *testing.T) {
	ie := newIDEnv(t, behindProxy)
	long := strings.Repeat("a", 128)
	for i, tc := range []struct {
		name string
		sent []string // values of X-Request-ID, one header line each
		keep bool
	}{
		{"uuid", []string{"0f8fad5b-d9cb-469f-a165-70867728950e"}, true},
		{"every allowed character", []string{"AZaz09._:-"}, true},
		{"one character", []string{"x"}, true},
		{"128 characters", []string{long}, true},
		{"129 characters", []string{long + "a"}, false},
		{"empty", []string{""}, false},
		{"space", []string{"req 42"}, false},
		{"slash", []string{"req/42"}, false},
		{"quote", []string{`req"42`}, false},
		{"equals sign", []string{"request_id=forged"}, false},
		{"non-ASCII", []string{"r\u00e9q-42"}, false},
		{"two header lines", []string{"req-1", "req-2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// "unknown" is no address: a trusted proxy sending it is logged.
			headers := []string{"X-Forwarded-For", "unknown"}
			for _, v := range tc.sent {
				headers = append(headers, "X-Request-ID", v)
			}
			id := ie.signInWith(t, i, headers...)
			if kept := id == tc.sent[0]; kept != tc.keep {
				t.Errorf("sent %q, got %q; kept %v, want %v", tc.sent, id, kept, tc.keep)
			}
		})
	}
}

// TestRequestIDsConcurrentDistinct: requests served at once each get an
// ID of their own, and the one a host reads after the handler is the one
// on the answer: an ID made in a request's own memory is not shared with,
// or overwritten by, another request's. The answers' JSON headers, made
// with the body in one allocation, are checked on the way.
func TestRequestIDsConcurrentDistinct(t *testing.T) {
	e := newEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	var mu sync.Mutex
	read := map[string]bool{} // IDs the host read after the handler
	api := e.auth.Handler()
	host := e.auth.WithRequestInfo(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		api.ServeHTTP(w, r)
		info, _ := pbxauth.RequestInfoFrom(r.Context())
		mu.Lock()
		defer mu.Unlock()
		read[info.ID] = true
	}))
	c := apitest.Serve(t, host, nil)
	const workers, each = 32, 8
	answered := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				r := c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...)
				if r.Status != 200 || r.Header.Get("Content-Type") != "application/json" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
					t.Errorf("GET /auth/user: %d, Content-Type %q, X-Content-Type-Options %q", r.Status, r.Header.Get("Content-Type"), r.Header.Get("X-Content-Type-Options"))
				}
				answered <- r.Header.Get("X-Request-ID")
			}
		})
	}
	wg.Wait()
	close(answered)
	seen := map[string]bool{}
	for id := range answered {
		if len(id) != 26 || !validRequestID.MatchString(id) || seen[id] || !read[id] {
			t.Errorf("answer's X-Request-ID %q: 26 characters of the shape %v, seen before %v, read by the host %v", id, validRequestID.MatchString(id), seen[id], read[id])
		}
		seen[id] = true
	}
	if len(seen) != workers*each || len(read) != workers*each {
		t.Errorf("%d distinct IDs answered, %d read by the host, want %d", len(seen), len(read), workers*each)
	}
}
