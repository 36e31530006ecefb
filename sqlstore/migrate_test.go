// This file checks the migrations: recorded once, a no-op when the schema is
// current, and safe when several processes open a new database at once.

package sqlstore_test

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth/sqlstore"
)

// migrationRow is one row of pbxauth_schema_migrations.
type migrationRow struct {
	version   int64
	name      string
	appliedAt int64
}

func migrationRows(t *testing.T, st *sqlstore.Store) []migrationRow {
	t.Helper()
	rows, err := st.DB().Query(`SELECT version, name, applied_at FROM pbxauth_schema_migrations ORDER BY version`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var ms []migrationRow
	for rows.Next() {
		var m migrationRow
		if err := rows.Scan(&m.version, &m.name, &m.appliedAt); err != nil {
			t.Fatal(err)
		}
		ms = append(ms, m)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ms
}

// wantMigrations are each dialect's migrations (version, name), in order.
var wantMigrations = map[string][]migrationRow{
	"sqlite":   {{1, "init", 0}, {4, "limits", 0}},
	"postgres": {{1, "init", 0}, {2, "sessions", 0}, {4, "limits", 0}},
}

func TestMigrations(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.fresh(t)
		first := migrationRows(t, open(t, dsn))
		want := wantMigrations[b.name]
		if len(first) != len(want) {
			t.Fatalf("migrations recorded = %+v; want %v", first, want)
		}
		for i, m := range first {
			if m.version != want[i].version || m.name != want[i].name || m.appliedAt == 0 {
				t.Fatalf("migrations recorded = %+v; want %v", first, want)
			}
		}
		addUser(t, open(t, dsn), "u1")
		st := open(t, dsn)
		if again := migrationRows(t, st); !slices.Equal(again, first) {
			t.Errorf("migrations after opening again = %+v; want %+v unchanged", again, first)
		}
		if _, err := st.User(context.Background(), "u1"); err != nil {
			t.Errorf("a user stored before opening again: %v", err)
		}
	})
}

// TestConcurrentOpen opens one new database from several goroutines at once,
// as processes starting together would: all succeed, and the schema is made
// once.
func TestConcurrentOpen(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		dsn := b.fresh(t)
		const n = 4
		stores := make([]*sqlstore.Store, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { stores[i], errs[i] = sqlstore.Open(context.Background(), dsn) })
		}
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Errorf("Open %d: %v", i, err)
				continue
			}
			t.Cleanup(func() { stores[i].Close() })
		}
		if t.Failed() {
			return
		}
		if ms := migrationRows(t, stores[0]); len(ms) != len(wantMigrations[b.name]) {
			t.Errorf("migrations recorded = %+v; want one", ms)
		}
	})
}
