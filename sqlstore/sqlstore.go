// Package sqlstore keeps pbxauth's records in SQL: a [store.Store] and
// [store.Sweeper] over database/sql for SQLite (modernc.org/sqlite, pure
// Go) and PostgreSQL (github.com/jackc/pgx/v5/stdlib).
//
// Open a store from a DSN and close it when done:
//
//	st, err := sqlstore.Open(ctx, "sqlite:/var/lib/pbx/auth.db")
//	// or sqlstore.Open(ctx, "postgres://pbx@db.example.com/pbx?sslmode=verify-full")
//	if err != nil { ... }
//	defer st.Close()
//	go st.RunJanitor(ctx, 5*time.Minute, time.Now)
//
// A host that manages its own *sql.DB passes it to [New] with its [Dialect].
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
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"github.com/pbxauth/pbxauth/store"
	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Dialect names the SQL database behind a Store.
type Dialect int

// The supported dialects. The zero Dialect is none of them.
const (
	// SQLite is modernc.org/sqlite, driver name "sqlite". Open the *sql.DB
	// with a DSN from [SQLiteDSN].
	SQLite Dialect = iota + 1
	// Postgres is PostgreSQL through github.com/jackc/pgx/v5/stdlib,
	// driver name "pgx".
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
// Create one with [Open] or [New].
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

	mu            sync.Mutex
	sessionStores []*postgresstore.PostgresStore // stopped by Close
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Sweeper = (*Store)(nil)
)

// Options tune the connection pool that [OpenWith] makes, and the grant
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

// Open is OpenWith with the default Options.
func Open(ctx context.Context, dsn string) (*Store, error) { return OpenWith(ctx, dsn, Options{}) }

// OpenWith connects to the database that dsn names, with a connection pool
// as o says, migrates its schema and returns a Store that owns the pool.
// dsn is either
//
//   - "sqlite:PATH", a SQLite database file (created when missing), opened
//     as [SQLiteDSN] describes, or
//   - a "postgres://" or "postgresql://" URL as pgx understands it; a
//     search_path query parameter picks the schema.
//
// Close the Store when done.
func OpenWith(ctx context.Context, dsn string, o Options) (*Store, error) {
	driver, source, dialect, err := parseDSN(dsn)
	if err != nil {
		return nil, err
	}
	db, err := sql.Open(driver, source)
	if err != nil {
		return nil, fmt.Errorf("sqlstore: open %s: %w", dialect, err)
	}
	o.pool(db)
	s, err := NewWith(ctx, db, dialect, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	s.ownDB = true
	return s, nil
}

// parseDSN splits an Open DSN into the driver name, the driver's data source
// and the dialect. Errors never quote dsn: it may hold a password.
func parseDSN(dsn string) (driver, source string, d Dialect, err error) {
	switch {
	case strings.HasPrefix(dsn, "sqlite:"):
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" || path == ":memory:" {
			return "", "", 0, errors.New(`sqlstore: "sqlite:" needs the path of a database file`)
		}
		return "sqlite", SQLiteDSN(path), SQLite, nil
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return "pgx", dsn, Postgres, nil
	}
	return "", "", 0, errors.New(`sqlstore: the DSN must start with "sqlite:", "postgres://" or "postgresql://"`)
}

// SQLiteDSN returns the modernc.org/sqlite data source name under which Open
// opens the SQLite database file at path. Every pooled connection gets WAL
// journaling (readers do not block the writer), a 5 s busy timeout (writers
// queue instead of failing), foreign keys, and BEGIN IMMEDIATE for
// transactions (a transaction takes the write lock up front, so it never
// fails half-way for lack of it), and reads through memory-mapped I/O of up
// to [SQLiteMmapSize] bytes of the file. Hosts that bring their own *sql.DB
// to New should open it with this DSN (driver "sqlite").
func SQLiteDSN(path string) string {
	u := url.URL{Path: path}
	return "file:" + u.EscapedPath() +
		"?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)" +
		"&_pragma=mmap_size(" + strconv.FormatInt(SQLiteMmapSize, 10) + ")&_txlock=immediate"
}

// SQLiteMmapSize is the mmap_size that SQLiteDSN sets: 1 GiB of address
// space, not of memory. A bearer check reads three B-tree paths; through the
// map those pages are read from the OS's page cache without a pread system
// call and a copy into SQLite's own cache each (BENCHMARKS.md, "SQLite").
// The cost is SQLite's usual caveat for memory-mapped I/O: an I/O error on
// the file (a failing disk, a file truncated by another program) ends the
// process with SIGBUS instead of failing a query.
const SQLiteMmapSize int64 = 1 << 30

// New returns a Store over db, which speaks dialect, after migrating the
// schema. The Store does not own db: Close leaves it open. For SQLite, open
// db with driver "sqlite" and [SQLiteDSN]; without its busy timeout and
// immediate transactions, concurrent writers fail with "database is locked"
// errors. For PostgreSQL, open it with driver "pgx": the Store recognises
// unique violations by pgx's error type.
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
	s.mu.Lock()
	for _, ps := range s.sessionStores {
		ps.StopCleanup()
	}
	s.sessionStores = nil
	s.mu.Unlock()
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
