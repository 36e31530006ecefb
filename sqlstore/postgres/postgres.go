// Package postgres opens pbxauth's SQL store on PostgreSQL, through
// github.com/jackc/pgx/v5. It links no other database driver.
//
//	st, err := postgres.Open(ctx, "postgres://pbx@db.example.com/pbx?sslmode=verify-full")
//	if err != nil { ... }
//	defer st.Close()
//	a, err := pbxauth.New(pbxauth.Config{Store: st, ...})
//
// The Store is a *sqlstore.Store: see package sqlstore for what it keeps,
// its pool defaults and its grant cache.
package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pbxauth/pbxauth/sqlstore"
)

// Open is OpenWith with the default Options.
func Open(ctx context.Context, url string) (*sqlstore.Store, error) {
	return OpenWith(ctx, url, sqlstore.Options{})
}

// OpenWith connects to the database that url names (a "postgres://" or
// "postgresql://" URL as pgx understands it; a search_path query parameter
// picks the schema), with a connection pool as o says, migrates its schema
// and returns a Store that owns the pool. Close the Store when done.
// Errors never quote url: it may hold a password.
func OpenWith(ctx context.Context, url string, o sqlstore.Options) (*sqlstore.Store, error) {
	if !strings.HasPrefix(url, "postgres://") && !strings.HasPrefix(url, "postgresql://") {
		return nil, errors.New(`sqlstore/postgres: the URL must start with "postgres://" or "postgresql://"`)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("sqlstore/postgres: open: %w", err)
	}
	return sqlstore.Own(ctx, db, sqlstore.Postgres, o)
}

// New returns a Store over db, a pool the host opened with driver "pgx",
// after migrating the schema, with the grant cache that o asks for
// (sqlstore.Options.GrantCache); Close leaves db open. o's pool settings
// are ignored: the pool is the host's.
func New(ctx context.Context, db *sql.DB, o sqlstore.Options) (*sqlstore.Store, error) {
	return sqlstore.NewWith(ctx, db, sqlstore.Postgres, o)
}
