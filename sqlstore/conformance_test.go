// This file runs the shared conformance suite against both dialects.

package sqlstore_test

import (
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/storetest"
)

func TestConformance(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		storetest.Run(t, func(t *testing.T) pbxauth.Store { return b.newStore(t) })
		storetest.RunOutboxShared(t, func(t *testing.T) (pbxauth.Store, pbxauth.Store) {
			dsn := b.fresh(t)
			return open(t, dsn), open(t, dsn)
		})
	})
}
