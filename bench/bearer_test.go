// This file measures RequireBearer, the check in front of every protected
// request, on each store and beside its baselines, at growing numbers of live
// tokens. Each request presents the next of all live tokens in a shuffled
// order, so large stores are not measured from a warm cache.

package bench

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
)

// bearerSizes are the numbers of live tokens of the growth benchmarks.
var bearerSizes = []int{1_000, 100_000, 1_000_000}

// bearerStore is a store under measurement, filled with a token set.
type bearerStore struct {
	name string
	// open returns a store holding ts and a function releasing it, or
	// errUnavailable when its backend cannot be reached.
	open func(b *testing.B, ts *tokenSet, now time.Time) (pbxauth.Store, func(), error)
	// sizes, when set, limits the store to these numbers of tokens.
	sizes []int
}

// errUnavailable: a backend is not there; its benchmark is skipped.
var errUnavailable = errors.New("backend unavailable")

// bearerStores lists the stores RequireBearer is measured on. PostgreSQL is
// measured at the smallest size only: its cost is mostly the round trip to
// the server, and loading it with 10⁶ tokens is slow.
var bearerStores = []bearerStore{
	{name: "memory", open: openMemory},
	{name: "sqlite", open: openSQLite},
	{name: "postgres", open: openPostgres, sizes: []int{1_000}},
}

func openMemory(b *testing.B, ts *tokenSet, now time.Time) (pbxauth.Store, func(), error) {
	st := pbxauth.NewMemoryStore()
	return st, func() {}, loadTokens(context.Background(), st, ts, now)
}

// BenchmarkBearer measures one bearer check: RequireBearer on each store and
// the minimal check at every size, and JWT verification (stateless, so once).
func BenchmarkBearer(b *testing.B) {
	for _, n := range bearerSizes {
		if n > *maxTokens {
			continue
		}
		ts := newTokenSet(n)
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			b.Run("check=sha256-map", func(b *testing.B) { benchCheck(b, minimalCheck(ts, false), ts.bearers) })
			b.Run("check=sha256-map+ctx", func(b *testing.B) { benchCheck(b, minimalCheck(ts, true), ts.bearers) })
			if n == bearerSizes[0] {
				bearers, wrap, err := jwtTokens(n)
				if err != nil {
					b.Fatal(err)
				}
				b.Run("check=jwt-hs256", func(b *testing.B) { benchCheck(b, wrap, bearers) })
			}
			for _, s := range bearerStores {
				if s.sizes == nil || slices.Contains(s.sizes, n) {
					benchStore(b, s, ts)
				}
			}
		})
	}
}

// benchStore loads ts into a store once (every -count repetition shares it)
// and measures RequireBearer on it.
func benchStore(b *testing.B, s bearerStore, ts *tokenSet) {
	now := time.Now()
	st, release, err := s.open(b, ts, now)
	if errors.Is(err, errUnavailable) {
		b.Run("store="+s.name, func(b *testing.B) { b.Skip(err) })
		return
	}
	if err != nil {
		b.Fatalf("%s: %v", s.name, err)
	}
	defer release()
	a, err := pbxauth.New(pbxauth.Config{Store: st})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("store="+s.name, func(b *testing.B) {
		benchCheck(b, func(next http.Handler) http.Handler { return a.RequireBearer(next) }, ts.bearers)
	})
}
