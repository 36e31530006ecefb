// Package sqlstore keeps pbxauth's records in SQL: a [store.Store] and
// [store.Sweeper] over database/sql, for SQLite and PostgreSQL. It imports
// no database driver: open a Store with the package of the database you
// use, each a module of its own that links only its own driver —
// github.com/pbxauth/pbxauth/sqlstore/sqlite (modernc.org/sqlite, pure Go)
// or github.com/pbxauth/pbxauth/sqlstore/postgres (github.com/jackc/pgx/v5)
// — and close it when done:
//
//	st, err := postgres.Open(ctx, "postgres://pbx@db.example.com/pbx?sslmode=verify-full")
//	// or sqlite.Open(ctx, "/var/lib/pbx/auth.db")
//	if err != nil { ... }
//	defer st.Close()
//	go st.RunJanitor(ctx, 5*time.Minute, time.Now)
//
// A host that manages its own *sql.DB passes it to postgres.New or
// sqlite.New.
// Either way the schema is created and migrated on open (the tables are all
// prefixed pbxauth_), and several processes may share one database: every
// single-use record is consumed, and every compare-and-swap decided, by the
// database itself.
//
// On PostgreSQL, [Options.GrantCache] keeps the grants of access tokens in
// memory, so that a token checked again costs no round trip to the
// database. Triggers announce through LISTEN/NOTIFY every change that a
// grant shows (a sign-out, a disabled user, a password reset, a new role),
// whether an instance made it or the host's own SQL did, and every cached
// Store drops what it names: normally within milliseconds, within about a
// second at most, because a cache whose notification connection has not
// answered a heartbeat for 500 ms stops serving. While that connection is
// down every check asks the database; the cache comes back empty. The
// price is that window, and memory for every cached token.
//
// Times are kept as unix microseconds and come back in UTC: a time with a
// sub-microsecond part loses it (an expiry falls up to 1 µs earlier), and the
// zero time stays zero. Usernames, domains and emails are matched through
// lower-cased copies kept beside them.
package sqlstore

// This file holds the Store type, its dialects, how a store is opened and
// closed, and the helpers every statement uses.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore/internal/drivers"
	"github.com/pbxauth/pbxauth/store"
)

// Dialect names the SQL database behind a Store.
type Dialect int

// The supported dialects. The zero Dialect is none of them.
const (
	// SQLite is modernc.org/sqlite, driver name "sqlite", through
	// github.com/pbxauth/pbxauth/sqlstore/sqlite.
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL through github.com/jackc/pgx/v5/stdlib,
	// driver name "pgx", through github.com/pbxauth/pbxauth/sqlstore/postgres.
	Postgres
)

// String returns the dialect's name.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case Postgres:
		return "postgres"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// Store is a store.Store and store.Sweeper kept in a SQL database. It is
// safe for concurrent use, also by several processes sharing the database.
// Create one with sqlite.Open or postgres.Open (or their New).
type Store struct {
	// ErrorLog, when not nil, receives the errors of the sweeps that
	// RunJanitor makes; nothing else is logged. Set it before starting
	// RunJanitor.
	ErrorLog func(error)

	db      *sql.DB
	dialect Dialect
	ownDB   bool // Open made db, so Close closes it
	// grant is grantQuery, prepared once: it runs on every authenticated
	// request, and on SQLite preparing it costs ten times running it.
	grant *sql.Stmt
	// grants is the grant cache; nil without Options.GrantCache.
	grants *grantCache
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
)

// Options tune the connection pool that sqlite.OpenWith and
// postgres.OpenWith make, and the grant
// cache. The zero value means the defaults: no cache.
type Options struct {
	// MaxOpenConns bounds the open connections. Default 4 × GOMAXPROCS,
	// so that load queues briefly in the pool instead of opening a
	// connection per burst: on PostgreSQL each costs the server a process
	// and the client a handshake, on SQLite the pragmas and prepared
	// statements again (BENCHMARKS.md, "Stores"). Negative means
	// unlimited.
	MaxOpenConns int
	// MaxIdleConns is how many connections stay open when idle. Default
	// MaxOpenConns, so a steady load never churns connections.
	MaxIdleConns int

	// GrantCache keeps the grants of access tokens in memory, on
	// PostgreSQL only (OpenWith and NewWith refuse it on SQLite): a token
	// checked again is then granted without asking the database, which
	// saves the round trip every authenticated request otherwise costs.
	// Refresh tokens, and every other record, are always read from the
	// database.
	//
	// The price is staleness across instances. A revocation, a disabled
	// user, a password reset or a role change made by this Store is seen
	// by it at once; made by any other instance (or by SQL of the host's
	// own: triggers announce every change), it reaches this cache through
	// PostgreSQL's LISTEN/NOTIFY, normally within milliseconds, and the
	// cache serves only while its notification connection answered a
	// heartbeat in the last 500 ms, so a revoked token may pass here for
	// about a second at most. While that connection is down every check
	// asks the database, as without the cache; once it is back the cache
	// starts empty. The listener holds one connection of its own besides
	// the pool, with the pool's settings, named "pbxauth grant listener"
	// in pg_stat_activity; it cannot work through a connection pooler in
	// transaction mode. Memory costs about 2 KB per cached token: the
	// cache holds about the tokens used within GrantCacheMaxAge, at most
	// GrantCacheEntries (some 20 MB at the default).
	GrantCache bool
	// GrantCacheEntries bounds how many grants the cache keeps. Default
	// DefaultGrantCacheEntries, enough for the tokens of 10,000 clients
	// active within GrantCacheMaxAge; when full, a fill evicts another
	// grant (an expired one if it finds one), and an evicted token's next
	// check reads the database, as without the cache.
	GrantCacheEntries int
	// GrantCacheMaxAge bounds how long a grant is served from memory
	// after it was read, by the now passed to Grant, in case a
	// notification were ever lost. Default DefaultGrantCacheMaxAge. A
	// grant never outlives its token or its sign-in either.
	GrantCacheMaxAge time.Duration
}

// The defaults of the grant cache's Options.
const (
	DefaultGrantCacheEntries = 10_000
	DefaultGrantCacheMaxAge  = 5 * time.Minute
)

// pool applies o, with the defaults, to db.
func (o Options) pool(db *sql.DB) {
	open, idle := o.MaxOpenConns, o.MaxIdleConns
	switch {
	case open == 0:
		open = 4 * runtime.GOMAXPROCS(0)
	case open < 0:
		open = 0 // database/sql's unlimited
	}
	if idle == 0 {
		idle = open
	}
	db.SetMaxOpenConns(open)
	db.SetMaxIdleConns(idle)
}

// Own is NewWith for a pool the Store owns: it bounds db's pool as o says,
// and Close closes db; when NewWith fails, db is closed. It is how
// sqlite.OpenWith and postgres.OpenWith make their Store.
func Own(ctx context.Context, db *sql.DB, dialect Dialect, o Options) (*Store, error) {
	o.pool(db)
	s, err := NewWith(ctx, db, dialect, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownDB = true
	return s, nil
}

// New returns a Store over db, which speaks dialect, after migrating the
// schema. The Store does not own db: Close leaves it open. The dialect's
// package must be linked (hosts call sqlite.New or postgres.New, which
// are this): the Store reads the driver's errors through it. For SQLite,
// open db with driver "sqlite" and sqlite.DSN; without its busy timeout and
// immediate transactions, concurrent writers fail with "database is locked"
// errors. For PostgreSQL, open it with driver "pgx".
func New(ctx context.Context, db *sql.DB, dialect Dialect) (*Store, error) {
	return NewWith(ctx, db, dialect, Options{})
}

// NewWith is New with the grant cache that o asks for (see
// [Options.GrantCache]). o's pool settings are ignored: the pool is the
// host's, and so are its limits. The cache's listener makes its own
// connection with the settings of db's (read from one of them, so db must
// be of the pgx driver), not through db, so that it never takes a
// connection from the host's pool, however small. Besides New's errors, it
// fails when the cache is asked for on SQLite or over another driver, or
// when the listener's first connection fails; later losses of it only
// bypass the cache until it is back.
func NewWith(ctx context.Context, db *sql.DB, dialect Dialect, o Options) (*Store, error) {
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("sqlstore: unknown dialect %v", dialect)
	}
	if _, ok := drivers.Lookup(int(dialect)); !ok {
		return nil, fmt.Errorf("sqlstore: the %v driver is not linked: open the Store with github.com/pbxauth/pbxauth/sqlstore/%v", dialect, dialect)
	}
	if o.GrantCache && dialect != Postgres {
		return nil, errors.New("sqlstore: GrantCache needs PostgreSQL (its notifications keep the caches of all instances current)")
	}
	s := &Store{db: db, dialect: dialect}
	if err := s.migrate(ctx); err != nil {
		return nil, err
	}
	stmt, err := db.PrepareContext(ctx, grantQuery)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: prepare: %w", err)
	}
	s.grant = stmt
	if o.GrantCache {
		if s.grants, err = startGrantCache(ctx, db, o); err != nil {
			stmt.Close()
			return nil, fmt.Errorf("sqlstore: grant cache: %w", err)
		}
	}
	return s, nil
}

// DB returns the database the Store works on, for hosts that keep their own
// tables beside it.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the dialect of the Store's database.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close stops the grant cache's listener and waits for it, releases the
// Store's prepared statement and, when Open made the database pool, closes
// it. The Store is unusable afterwards.
func (s *Store) Close() error {
	s.grants.stop()
	err := s.grant.Close()
	if s.ownDB {
		err = errors.Join(err, s.db.Close())
	}
	return err
}

// inTx runs fn in a transaction and commits it when fn returns nil; it rolls
// back otherwise and returns fn's error. Under SQLiteDSN the transaction
// holds the write lock from its start.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// lockRow returns the locking clause that makes a SELECT in a transaction
// lock the rows it reads on PostgreSQL (mode "SHARE" or "UPDATE"), so that
// it waits for a concurrent writer of them and reads what that writer
// committed. SQLite needs none: under SQLiteDSN a write transaction holds
// the database's one write lock from its start.
func (s *Store) lockRow(mode string) string {
	if s.dialect == Postgres {
		return " FOR " + mode
	}
	return ""
}

// affected returns how many rows the statement that gave res and err changed.
func affected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
