// This file opens the SQL stores for the bearer benchmarks: SQLite in a
// temporary file and PostgreSQL in a schema of its own, created and dropped
// by the benchmark. Tokens are bulk-loaded through the store's *sql.DB in one
// transaction, which is what makes 10⁶ of them take seconds, not hours.

package bench

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
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/postgres"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
	"github.com/pbxauth/pbxauth/store"
)

// defaultPostgres is the benchmarks' database unless PBXAUTH_TEST_POSTGRES
// names another (the variable the sqlstore tests read).
const defaultPostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// openSQLite works in a temporary directory, removed on release.
func openSQLite(ts *tokenSet, now time.Time) (store.Store, func() error, error) {
	dir, err := os.MkdirTemp("", "pbxauth-bench-")
	if err != nil {
		return nil, nil, err
	}
	return openSQL("sqlite:"+filepath.Join(dir, "bench.db"), sqlstore.Options{}, ts, now, func() error { return os.RemoveAll(dir) })
}

// openPostgres opens PostgreSQL stores with o.
func openPostgres(o sqlstore.Options) func(ts *tokenSet, now time.Time) (store.Store, func() error, error) {
	return func(ts *tokenSet, now time.Time) (store.Store, func() error, error) {
		return openPostgresWith(o, ts, now)
	}
}

// openPostgresWith works in a fresh schema, dropped on release; it reports
// errUnavailable when PostgreSQL cannot be reached.
func openPostgresWith(o sqlstore.Options, ts *tokenSet, now time.Time) (store.Store, func() error, error) {
	base := os.Getenv("PBXAUTH_TEST_POSTGRES")
	if base == "" {
		base = defaultPostgres
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := sql.Open("pgx", base)
	if err == nil {
		err = admin.PingContext(ctx)
	}
	if err != nil {
		return nil, nil, errors.Join(errUnavailable, err)
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	schema := "pbxauth_bench_" + hex.EncodeToString(rnd[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return nil, nil, errors.Join(err, admin.Close())
	}
	drop := func() error {
		_, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		return errors.Join(err, admin.Close())
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, nil, errors.Join(err, drop())
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return openSQL(u.String(), o, ts, now, drop)
}

// openSQL opens a sqlstore at dsn with o and bulk-loads ts; release closes
// the store and then runs cleanup.
func openSQL(dsn string, o sqlstore.Options, ts *tokenSet, now time.Time, cleanup func() error) (store.Store, func() error, error) {
	ctx := context.Background()
	st, err := openDSN(ctx, dsn, o)
	if err != nil {
		return nil, nil, errors.Join(err, cleanup())
	}
	release := func() error { return errors.Join(st.Close(), cleanup()) }
	if err := bulkLoad(ctx, st, ts, now); err != nil {
		return nil, nil, errors.Join(err, release())
	}
	return st, release, nil
}

// bulkLoad stores the same sign-ins as loadTokens, in one transaction with
// prepared statements. It writes sqlstore's tables directly (see its
// migrations), as a restore or an import would.
func bulkLoad(ctx context.Context, st *sqlstore.Store, ts *tokenSet, now time.Time) error {
	if err := createUsers(ctx, st); err != nil {
		return err
	}
	tx, err := st.DB().BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	fam, err := tx.PrepareContext(ctx, `INSERT INTO pbxauth_families
		(id, user_id, password_verified, method, created_at, expires_at, revoked, last_used_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`)
	if err != nil {
		return err
	}
	tok, err := tx.PrepareContext(ctx, `INSERT INTO pbxauth_tokens
		(hash, kind, family_id, expires_at, used_at) VALUES ($1, $2, $3, $4, $5)`)
	if err != nil {
		return err
	}
	zero := time.Time{}.UnixMicro()
	for i, s := range ts.tokens {
		f, t := liveToken(i, s, now)
		if _, err := fam.ExecContext(ctx, f.ID, f.UserID, f.PasswordVerified, f.Method,
			f.CreatedAt.UnixMicro(), f.ExpiresAt.UnixMicro(), f.Revoked, f.LastUsedAt.UnixMicro()); err != nil {
			return err
		}
		if _, err := tok.ExecContext(ctx, t.Hash[:], int64(t.Kind), t.FamilyID, t.ExpiresAt.UnixMicro(), zero); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// openDSN opens a sqlstore on dsn, "sqlite:PATH" or a PostgreSQL URL,
// through the package of its database.
func openDSN(ctx context.Context, dsn string, o sqlstore.Options) (*sqlstore.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return sqlite.OpenWith(ctx, path, o)
	}
	return postgres.OpenWith(ctx, dsn, o)
}
