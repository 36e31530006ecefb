package memstore_test

import (
	"testing"

	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
	"github.com/pbxauth/pbxauth/storetest"
)

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (a, b store.Store) {
		s := memstore.New()
		return s, s
	})
}
