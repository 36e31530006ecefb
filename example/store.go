// This file opens the store named by -db.

package main

import (
	"context"
	"fmt"

	"github.com/pbxauth/pbxauth"
)

// defaultDB is -db's default.
const defaultDB = "memory"

// openStore opens the store named by dsn and returns a function closing it.
func openStore(ctx context.Context, dsn string) (pbxauth.Store, func(), error) {
	switch dsn {
	case "memory":
		return pbxauth.NewMemoryStore(), func() {}, nil
	}
	return nil, nil, fmt.Errorf("unsupported -db %q (want memory)", dsn)
}
