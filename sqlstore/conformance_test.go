// This file runs the shared conformance suite against both dialects, and
// against PostgreSQL with the grant cache.

package sqlstore_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
	"github.com/pbxauth/pbxauth/storetest"
)

func TestConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		storetest.Run(t, func(t *testing.T) (store.Store, store.Store) {
			dsn := b.fresh(t)
			return open(t, dsn), open(t, dsn)
		})
	})
	// Every behaviour again with the grant cache on: it must not change
	// what the Store answers.
	t.Run("postgres+cache", func(t *testing.T) {
		t.Parallel()
		storetest.Run(t, func(t *testing.T) (store.Store, store.Store) {
			dsn := freshPostgres(t)
			return grantTwice{openWith(t, dsn, cached), t}, grantTwice{openWith(t, dsn, cached), t}
		})
	})
}

// grantTwice is a cached Store whose Grant asks twice and answers the
// second: the suite's checks each ask once, which would mostly fill the
// cache and rarely be served from it. Both answers must agree.
type grantTwice struct {
	*sqlstore.Store
	t *testing.T
}

func (s grantTwice) Grant(ctx context.Context, h store.Hash, kind store.TokenKind, now time.Time) (store.Grant, error) {
	first, err1 := s.Store.Grant(ctx, h, kind, now)
	g, err := s.Store.Grant(ctx, h, kind, now)
	if !reflect.DeepEqual(first, g) || !errors.Is(err, err1) && !errors.Is(err1, err) {
		s.t.Errorf("Grant asked twice: %+v, %v; then %+v, %v", first, err1, g, err)
	}
	return g, err
}
