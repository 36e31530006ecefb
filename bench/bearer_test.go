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
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

// bearerSizes are the numbers of live tokens of the growth benchmarks.
var bearerSizes = []int{1_000, 100_000, 1_000_000}

// bearerStore is a store under measurement.
type bearerStore struct {
	name string
	// open returns a store holding ts and a function releasing it, or
	// errUnavailable when its backend cannot be reached.
	open func(ts *tokenSet, now time.Time) (st store.Store, release func() error, err error)
	// sizes, when set, limits the store to these numbers of tokens.
	sizes []int
}

// errUnavailable: a backend is not there; its benchmark is skipped.
var errUnavailable = errors.New("backend unavailable")

// bearerStores lists the stores RequireBearer is measured on. PostgreSQL is
// measured at the smallest size only: its cost is mostly the round trip to
// the server, and loading it with 10⁶ tokens is slow. With the grant cache
// every token after the first round is served from memory.
var bearerStores = []bearerStore{
	{name: "memory", open: openMemory},
	{name: "sqlite", open: openSQLite},
	{name: "postgres", open: openPostgres(sqlstore.Options{}), sizes: []int{1_000}},
	{name: "postgres+cache", open: openPostgres(sqlstore.Options{GrantCache: true}), sizes: []int{1_000}},
}

func openMemory(ts *tokenSet, now time.Time) (store.Store, func() error, error) {
	st := memstore.New()
	return st, nil, loadTokens(context.Background(), st, ts, now)
}

// BenchmarkBearer measures one bearer check: RequireBearer on each store and
// the minimal check at every size, and JWT verification (stateless, so once).
func BenchmarkBearer(b *testing.B) {
	for _, n := range bearerSizes {
		if n > *maxTokens {
			continue
		}
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			tokens := sync.OnceValue(func() *tokenSet { return newTokenSet(n) })
			for _, m := range []struct {
				name  string
				carry bool
			}{{"check=sha256-map", false}, {"check=sha256-map+ctx", true}} {
				runCheck(b, m.name, func() (check, error) {
					ts := tokens()
					return check{wrap: minimalCheck(ts, m.carry), bearers: ts.bearers}, nil
				})
			}
			if n == bearerSizes[0] {
				runCheck(b, "check=jwt-hs256", func() (check, error) {
					bearers, wrap, err := jwtTokens(n)
					return check{wrap: wrap, bearers: bearers}, err
				})
			}
			for _, s := range bearerStores {
				if s.sizes != nil && !slices.Contains(s.sizes, n) {
					continue
				}
				runCheck(b, "store="+s.name, func() (check, error) {
					ts := tokens()
					st, release, err := s.open(ts, time.Now())
					if err != nil {
						return check{}, err
					}
					a, err := pbxauth.New(pbxauth.Config{Store: st})
					return check{wrap: a.RequireBearer, bearers: ts.bearers, release: release}, err
				})
			}
		})
	}
}

// check is a bearer check under measurement and the tokens it accepts.
type check struct {
	wrap    func(http.Handler) http.Handler
	bearers []string
	release func() error // when not nil, frees what the check holds
}

// runCheck runs the sub-benchmark name on the check that setup makes. setup
// runs once, when the sub-benchmark first runs: a -bench filter that skips it
// skips its cost, and the -count repetitions share what it loaded.
func runCheck(b *testing.B, name string, setup func() (check, error)) {
	var (
		once sync.Once
		c    check
		err  error
	)
	b.Run(name, func(b *testing.B) {
		once.Do(func() {
			c, err = setup()
			// Collect what loading left behind, so that its garbage
			// is not charged to the first run of the check.
			runtime.GC()
		})
		if errors.Is(err, errUnavailable) {
			b.Skip(err)
		}
		if err != nil {
			b.Fatal(err)
		}
		benchCheck(b, c.wrap, c.bearers)
	})
	if c.release != nil {
		if err := c.release(); err != nil {
			b.Error(err)
		}
	}
}
