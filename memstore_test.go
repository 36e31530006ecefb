package pbxauth_test

import (
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (a, b pbxauth.Store) {
		s := pbxauth.NewMemoryStore()
		return s, s
	})
}
