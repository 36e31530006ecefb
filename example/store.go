// This file opens the store named by -db.

package main

import (
	"context"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/sqlstore"
)

// defaultDB is -db's default: a SQLite file beside the working directory,
// so a restart keeps users and sign-ins.
const defaultDB = "sqlite:pbxauth.db"

// openStore opens the store named by dsn ("memory", "sqlite:PATH" or a
// postgres:// URL) and returns a function closing it.
func openStore(ctx context.Context, dsn string) (pbxauth.Store, func(), error) {
	if dsn == "memory" {
		return pbxauth.NewMemoryStore(), func() {}, nil
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, nil, err
	}
	return st, func() { st.Close() }, nil
}
