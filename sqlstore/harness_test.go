// This file holds what the tests share: the two backends, each giving a
// fresh database per test (a SQLite file in t.TempDir(), or a PostgreSQL
// schema with a random name that is dropped afterwards), and small fixtures.

package sqlstore_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/postgres"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
	"github.com/pbxauth/pbxauth/store"
)

// defaultPostgres is the test database unless PBXAUTH_TEST_POSTGRES names
// another.
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// t0 is the fake clock's start; it has whole microseconds, as stores keep.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 678901000, time.UTC)

// backend makes fresh databases of one dialect.
type backend struct {
	name string
	// fresh returns the DSN of a new, empty database for Open, removed
	// when the test ends.
	fresh func(t testing.TB) string
}

var backends = []backend{
	{"sqlite", freshSQLite},
	{"postgres", freshPostgres},
}

// eachBackend runs f as a subtest per backend, the backends in parallel.
func eachBackend(t *testing.T, f func(t *testing.T, b backend)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			f(t, b)
		})
	}
}

// open opens a Store on dsn and closes it when the test ends.
func open(t testing.TB, dsn string) *sqlstore.Store {
	t.Helper()
	return openWith(t, dsn, sqlstore.Options{})
}

// cached are the Options of a Store with the grant cache.
var cached = sqlstore.Options{GrantCache: true}

// openWith is open with the Options o.
func openWith(t testing.TB, dsn string, o sqlstore.Options) *sqlstore.Store {
	t.Helper()
	st, err := openDSN(context.Background(), dsn, o)
	if err != nil {
		t.Fatalf("OpenWith: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// newStore opens a Store on a fresh database of b.
func (b backend) newStore(t testing.TB) *sqlstore.Store {
	t.Helper()
	return open(t, b.fresh(t))
}

func freshSQLite(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "pbxauth.db")
}

func postgresURL() string {
	if v := os.Getenv("PBXAUTH_TEST_POSTGRES"); v != "" {
		return v
	}
	return defaultPostgres
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
)

// admin returns a connection pool to the PostgreSQL test database, shared by
// the whole test binary. When PostgreSQL is unreachable the test fails under
// CI and is skipped elsewhere.
func admin(t testing.TB) *sql.DB {
	t.Helper()
	adminOnce.Do(func() {
		adminDB, adminErr = sql.Open("pgx", postgresURL())
		if adminErr == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			adminErr = adminDB.PingContext(ctx)
		}
	})
	if adminErr != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("PostgreSQL is unreachable (set PBXAUTH_TEST_POSTGRES to reach it): %v", adminErr)
		}
		t.Skipf("skipping: PostgreSQL is unreachable (start it, or set PBXAUTH_TEST_POSTGRES; under CI=true this fails): %v", adminErr)
	}
	return adminDB
}

// randomName returns prefix and 12 random hex digits: a name no other test
// (or test run) uses.
func randomName(prefix string) string {
	b := make([]byte, 6)
	rand.Read(b)
	return prefix + hex.EncodeToString(b)
}

// withParams returns the URL dsn with the query parameters kv (key, value,
// key, value...) set.
func withParams(t testing.TB, dsn string, kv ...string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("bad PostgreSQL URL: %v", err)
	}
	q := u.Query()
	for i := 0; i+1 < len(kv); i += 2 {
		q.Set(kv[i], kv[i+1])
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// freshPostgres creates a schema with a random name, dropped when the test
// ends, and returns a DSN whose search_path is that schema.
func freshPostgres(t testing.TB) string {
	t.Helper()
	db := admin(t)
	schema := randomName("pbxauth_test_")
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		if _, err := db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	return withParams(t, postgresURL(), "search_path", schema)
}

// addUser stores an enabled user of tenant "t1", and the tenant when it is
// missing.
func addUser(t testing.TB, st store.Store, id string) store.User {
	t.Helper()
	ctx := context.Background()
	if _, err := st.Tenant(ctx, "t1"); errors.Is(err, store.ErrNotFound) {
		if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Name: "T1", Domain: "t1.example.test"}); err != nil {
			t.Fatalf("CreateTenant(t1): %v", err)
		}
	}
	u := store.User{ID: id, TenantID: "t1", Username: "User-" + id, Email: id + "@Example.test",
		Role: "User", PasswordHash: "$argon2id$" + id}
	if err := st.CreateUser(ctx, u); err != nil {
		t.Fatalf("CreateUser(%s): %v", id, err)
	}
	return u
}

// signIn stores a family of the user, live for a day from t0, with an
// access and a refresh token, and returns the family and the tokens' hashes.
func signIn(t testing.TB, st store.Store, userID, familyID string) (f store.Family, access, refresh store.Hash) {
	t.Helper()
	f = store.Family{ID: familyID, UserID: userID, PasswordVerified: true, Method: "password",
		CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	access = store.HashToken("access " + familyID)
	refresh = store.HashToken("refresh " + familyID)
	_, err := st.CreateFamily(context.Background(), f, 0,
		store.Token{Hash: access, Kind: store.AccessToken, FamilyID: familyID, ExpiresAt: t0.Add(time.Hour)},
		store.Token{Hash: refresh, Kind: store.RefreshToken, FamilyID: familyID, ExpiresAt: t0.Add(24 * time.Hour)})
	if err != nil {
		t.Fatalf("CreateFamily(%s): %v", familyID, err)
	}
	return f, access, refresh
}

// nextTokens returns a fresh access and refresh token of the family, named
// by tag.
func nextTokens(familyID, tag string) []store.Token {
	return []store.Token{
		{Hash: store.HashToken("access " + tag), Kind: store.AccessToken, FamilyID: familyID, ExpiresAt: t0.Add(2 * time.Hour)},
		{Hash: store.HashToken("refresh " + tag), Kind: store.RefreshToken, FamilyID: familyID, ExpiresAt: t0.Add(24 * time.Hour)},
	}
}

// cuttable is a PostgreSQL database a test can cut off and restore.
type cuttable struct {
	dsn     string
	cut     func() // ends the role's connections and refuses new ones
	restore func() // lets the role connect again
}

// cuttablePostgres makes a fresh schema owned by a fresh role, and a DSN
// that connects as that role, so the test can end the role's connections
// and refuse it new ones without stopping the server or touching anybody
// else's connections. Both are dropped when the test ends.
func cuttablePostgres(t *testing.T) cuttable {
	t.Helper()
	db := admin(t)
	role := randomName("pbxauth_role_")
	if _, err := db.Exec(`CREATE ROLE ` + role + ` LOGIN`); err != nil {
		t.Skipf("skipping: cannot create a role (the test database's user needs CREATEROLE): %v", err)
	}
	schema := randomName("pbxauth_test_")
	if _, err := db.Exec(`CREATE SCHEMA ` + schema + ` AUTHORIZATION ` + role); err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	c := cuttable{
		cut: func() {
			exec(`ALTER ROLE ` + role + ` NOLOGIN`)
			// Wait (up to 5 s) for each backend to end.
			exec(`SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE usename = $1`, role)
		},
		restore: func() { exec(`ALTER ROLE ` + role + ` LOGIN`) },
	}
	t.Cleanup(func() {
		c.cut()
		for _, q := range []string{`DROP SCHEMA ` + schema + ` CASCADE`, `DROP ROLE ` + role} {
			if _, err := db.Exec(q); err != nil {
				t.Errorf("%s: %v", q, err)
			}
		}
	})
	u, err := url.Parse(withParams(t, postgresURL(), "search_path", schema))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User(role)
	c.dsn = u.String()
	return c
}

// openDSN opens a Store on dsn, "sqlite:PATH" or a PostgreSQL URL, through
// the package of its database.
func openDSN(ctx context.Context, dsn string, o sqlstore.Options) (*sqlstore.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return sqlite.OpenWith(ctx, path, o)
	}
	return postgres.OpenWith(ctx, dsn, o)
}
