// This file holds the fixtures every benchmark shares: live tokens and the
// stores that hold them, a request that presents them in turn, and a
// ResponseWriter that costs nothing.

package bench

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// maxTokens caps the growth sizes, for quick runs:
// go test -bench . ./bench -args -tokens 1000
var maxTokens = flag.Int("tokens", 1_000_000, "largest number of live tokens to load")

// users is how many users the live tokens are spread over.
const users = 100

// tokenSet is n live access tokens, as a client holds them.
type tokenSet struct {
	tokens  []string // opaque, 43 bytes of base64url like pbxauth's own
	bearers []string // "Bearer " + token, in a shuffled order
}

// newTokenSet makes n tokens from a fixed seed, so runs load the same data.
func newTokenSet(n int) *tokenSet {
	rng := rand.New(rand.NewChaCha8([32]byte{'p', 'b', 'x'}))
	ts := &tokenSet{tokens: make([]string, n), bearers: make([]string, n)}
	var b [32]byte
	for i := range ts.tokens {
		for j := 0; j < len(b); j += 8 {
			v := rng.Uint64()
			for k := range 8 {
				b[j+k] = byte(v >> (8 * k))
			}
		}
		ts.tokens[i] = base64.RawURLEncoding.EncodeToString(b[:])
	}
	for i, j := range rng.Perm(n) {
		ts.bearers[i] = "Bearer " + ts.tokens[j]
	}
	return ts
}

// userID names the user the i-th token belongs to.
func userID(i int) string { return fmt.Sprintf("user-%03d", i%users) }

// createUsers adds the users the tokens belong to.
func createUsers(ctx context.Context, st store.Store) error {
	for i := range users {
		u := store.User{ID: userID(i), Username: fmt.Sprintf("user%03d", i), Role: "StandardUser"}
		if err := st.CreateUser(ctx, u); err != nil {
			return err
		}
	}
	return nil
}

// loadTokens makes each token a sign-in of its own, through the Store
// interface, one family at a time.
func loadTokens(ctx context.Context, st store.Store, ts *tokenSet, now time.Time) error {
	if err := createUsers(ctx, st); err != nil {
		return err
	}
	for i, tok := range ts.tokens {
		f, t := liveToken(i, tok, now)
		if _, err := st.CreateFamily(ctx, f, 0, t); err != nil {
			return err
		}
	}
	return nil
}

// liveToken is the i-th sign-in and its access token, alive for a day.
func liveToken(i int, tok string, now time.Time) (store.Family, store.Token) {
	f := store.Family{
		ID:               fmt.Sprintf("family-%07d", i),
		UserID:           userID(i),
		PasswordVerified: true,
		Method:           "password",
		CreatedAt:        now,
		ExpiresAt:        now.Add(30 * 24 * time.Hour),
		// Recorded as used until the token ends, so that no check of
		// the benchmarks writes a last use: one that cycles through 10⁶
		// sign-ins uses each less than once a minute, and every check
		// would write (each sign-in's steady state is a write at most
		// once a minute, BENCHMARKS.md §8).
		LastUsedAt: now.Add(24 * time.Hour),
	}
	t := store.Token{Hash: store.HashToken(tok), Kind: store.AccessToken, FamilyID: f.ID, ExpiresAt: now.Add(24 * time.Hour)}
	return f, t
}

// nopWriter is a reusable ResponseWriter that discards everything.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header         { return w.h }
func (w *nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *nopWriter) WriteHeader(int)             {}

// passed counts the requests a check let through; it is the whole of the
// "next" handler, so a benchmark measures the check alone.
type passed struct{ n atomic.Int64 }

func (p *passed) ServeHTTP(http.ResponseWriter, *http.Request) { p.n.Add(1) }

// benchCheck runs the bearer check built by wrap around a no-op handler, on
// one prebuilt request whose Authorization header cycles through bearers.
// Every request must pass; one that does not fails the benchmark.
func benchCheck(b *testing.B, wrap func(http.Handler) http.Handler, bearers []string) {
	next := &passed{}
	serveBearers(b, wrap(next), &nopWriter{h: http.Header{}}, bearers)
	if n := next.n.Load(); n != int64(b.N) {
		b.Fatalf("%d of %d requests passed the check", n, b.N)
	}
}

// serveBearers serves GET /auth/user with h, b.N times, on one prebuilt
// request whose Authorization header cycles through bearers, and reports
// allocations and CPU time.
func serveBearers(b *testing.B, h http.Handler, w http.ResponseWriter, bearers []string) {
	// A server gives every request a context that is cancelled when the
	// client goes away; so does this one.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := httptest.NewRequestWithContext(ctx, http.MethodGet, "/auth/user", nil)
	r.Header.Set("Authorization", bearers[0])
	auth := r.Header["Authorization"]
	i := 0
	b.ReportAllocs()
	cpu := cpuTime()
	for b.Loop() {
		auth[0] = bearers[i]
		if i++; i == len(bearers) {
			i = 0
		}
		h.ServeHTTP(w, r)
	}
	reportCPU(b, cpuTime()-cpu)
}

// cpuTime is the CPU time the process has used, user and system, including
// the garbage collector's. On a shared machine it is steadier than the wall
// time of ns/op, which counts the time other processes ran.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports d, the CPU time of the benchmark loop, per operation.
func reportCPU(b *testing.B, d time.Duration) {
	b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "cpu-ns/op")
}
