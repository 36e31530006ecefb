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
// postgres:// URL) and returns a function closing it. The cookie sessions
// are kept in the same database too (Config.SessionStore): a restart keeps
// browsers signed in, and on PostgreSQL several example processes behind a
// load balancer behave as one.
func openStore(ctx context.Context, dsn string, cfg *pbxauth.Config) (func(), error) {
	if dsn == "memory" {
		cfg.Store = pbxauth.NewMemoryStore()
		return func() {}, nil
	}
	st, err := sqlstore.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	cfg.Store = st
	if cfg.SessionStore, err = st.SessionStore(); err != nil {
		st.Close()
		return nil, err
	}
	return func() { st.Close() }, nil
}
