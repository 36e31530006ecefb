package pbxauth_test

import (
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/storetest"
)

func TestMemoryStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) pbxauth.Store { return pbxauth.NewMemoryStore() })
}
