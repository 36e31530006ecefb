// This file checks how stores are opened: the DSNs Open takes and refuses,
// the SQLite connection settings, and New's own checks.

package sqlstore_test

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth/sqlstore"
)

func TestOpenRefuses(t *testing.T) {
	for _, dsn := range []string{
		"",
		"memory",
		"sqlite:",
		"sqlite::memory:",
		"mysql://user:s3cret@host/db",
		"pgx://user:s3cret@host/db",
		"/var/lib/pbxauth.db",
	} {
		st, err := openDSN(context.Background(), dsn, sqlstore.Options{})
		if err == nil {
			st.Close()
			t.Errorf("Open(%q) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("Open(%q) error quotes the password: %v", dsn, err)
		}
	}
	if _, err := sqlstore.New(context.Background(), nil, 0); err == nil {
		t.Errorf("New with the zero Dialect succeeded")
	}
}

// TestSQLitePath opens a file whose name has the characters that URIs and
// DSNs treat specially.
func TestSQLitePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?c#d%20e&_txlock=x.db")
	st := open(t, "sqlite:"+path)
	addUser(t, st, "u1")
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the database is not at the path given: %v", err)
	}
}

// TestSQLiteSettings checks that pooled connections get the pragmas, not
// just the first one.
func TestSQLiteSettings(t *testing.T) {
	st := backends[0].newStore(t)
	db := st.DB()
	ctx := context.Background()
	conns := make([]interface{ Close() error }, 3)
	for i := range conns {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		for pragma, want := range map[string]string{"journal_mode": "wal", "busy_timeout": "5000", "foreign_keys": "1"} {
			var got string
			if err := c.QueryRowContext(ctx, "PRAGMA "+pragma).Scan(&got); err != nil || got != want {
				t.Errorf("connection %d: PRAGMA %s = %q, %v; want %q", i, pragma, got, err, want)
			}
		}
	}
	for _, c := range conns {
		c.Close()
	}
	if st.Dialect() != sqlstore.SQLite || st.Dialect().String() != "sqlite" || sqlstore.Postgres.String() != "postgres" {
		t.Errorf("Dialect() = %v", st.Dialect())
	}
}

// TestPostgresPool: the default pool is bounded, open = idle = 4 ×
// GOMAXPROCS, and Options override it; under 64 concurrent requests the
// pool never opens more.
func TestPostgresPool(t *testing.T) {
	dsn := freshPostgres(t)
	st := open(t, dsn)
	want := 4 * runtime.GOMAXPROCS(0)
	if got := st.DB().Stats().MaxOpenConnections; got != want {
		t.Fatalf("MaxOpenConnections = %d, want %d", got, want)
	}
	addUser(t, st, "u1")
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for range 20 {
				if _, err := st.User(context.Background(), "u1"); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if s := st.DB().Stats(); s.OpenConnections > want || s.Idle != s.OpenConnections {
		t.Errorf("after the load: %d open, %d idle; want at most %d, all kept idle", s.OpenConnections, s.Idle, want)
	}
	own, err := openDSN(context.Background(), dsn, sqlstore.Options{MaxOpenConns: 3, MaxIdleConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer own.Close()
	if got := own.DB().Stats().MaxOpenConnections; got != 3 {
		t.Errorf("MaxOpenConnections with Options = %d, want 3", got)
	}
}
