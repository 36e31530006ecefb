// Package sqlite opens pbxauth's SQL store on a SQLite database file, with
// modernc.org/sqlite (pure Go, no cgo). It links no other database driver.
//
//	st, err := sqlite.Open(ctx, "/var/lib/pbx/auth.db")
//	if err != nil { ... }
//	defer st.Close()
//	a, err := pbxauth.New(pbxauth.Config{Store: st, ...})
//
// The Store is a *sqlstore.Store: see package sqlstore for what it keeps
// and how.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/pbxauth/pbxauth/sqlstore"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Open is OpenWith with the default Options.
func Open(ctx context.Context, path string) (*sqlstore.Store, error) {
	return OpenWith(ctx, path, sqlstore.Options{})
}

// OpenWith opens the SQLite database file at path (created when missing)
// as [DSN] describes, with a connection pool as o says, migrates its schema
// and returns a Store that owns the pool. Close the Store when done.
func OpenWith(ctx context.Context, path string, o sqlstore.Options) (*sqlstore.Store, error) {
	if path == "" || path == ":memory:" {
		return nil, errors.New("sqlstore/sqlite: needs the path of a database file")
	}
	db, err := sql.Open("sqlite", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlstore/sqlite: open: %w", err)
	}
	return sqlstore.Own(ctx, db, sqlstore.SQLite, o)
}

// New returns a Store over db, a pool the host opened with driver "sqlite"
// and [DSN], after migrating the schema; Close leaves db open. o's pool
// settings are ignored: the pool is the host's.
func New(ctx context.Context, db *sql.DB, o sqlstore.Options) (*sqlstore.Store, error) {
	return sqlstore.NewWith(ctx, db, sqlstore.SQLite, o)
}

// DSN returns the modernc.org/sqlite data source name under which Open
// opens the SQLite database file at path. Every pooled connection gets WAL
// journaling (readers do not block the writer), a 5 s busy timeout (writers
// queue instead of failing), foreign keys, and BEGIN IMMEDIATE for
// transactions (a transaction takes the write lock up front, so it never
// fails half-way for lack of it), and reads through memory-mapped I/O of up
// to [MmapSize] bytes of the file. Hosts that bring their own *sql.DB to
// New should open it with this DSN (driver "sqlite").
func DSN(path string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=mmap_size(" + strconv.FormatInt(MmapSize, 10) + ")&_txlock=immediate"
}

// MmapSize is the mmap_size that DSN sets: 1 GiB of address space, not of
// memory. A bearer check reads three B-tree paths; through the map those
// pages are read from the OS's page cache without a pread system call and a
// copy into SQLite's own cache each (BENCHMARKS.md, "SQLite"). The cost is
// SQLite's usual caveat for memory-mapped I/O: an I/O error on the file (a
// failing disk, a file truncated by another program) ends the process with
// SIGBUS instead of failing a query.
const MmapSize int64 = 1 << 30
