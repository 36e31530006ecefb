// This file migrates the schema: the numbered SQL files under
// migrations/<dialect>/ are applied in order, each once, and recorded in
// pbxauth_schema_migrations.

package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationFiles embed.FS

// migration is one schema change, from a file named NNNN_name.sql.
type migration struct {
	version int64
	name    string
	sql     string
}

// createMigrationsTable is the same in both dialects.
const createMigrationsTable = `CREATE TABLE IF NOT EXISTS pbxauth_schema_migrations (
	version    BIGINT NOT NULL PRIMARY KEY,
	name       TEXT   NOT NULL,
	applied_at BIGINT NOT NULL -- unix microseconds
)`

// migrationLock is the PostgreSQL advisory lock that serialises migrations
// ("pbxauthm" in ASCII).
const migrationLock int64 = 0x706278617574686d

// migrations returns the dialect's migrations in version order.
func migrations(d Dialect) ([]migration, error) {
	dir := path.Join("migrations", d.String())
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		file := e.Name()
		num, name, ok := strings.Cut(strings.TrimSuffix(file, ".sql"), "_")
		version, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || version < 1 || !strings.HasSuffix(file, ".sql") {
			return nil, fmt.Errorf("migration file %s is not named NNNN_name.sql", file)
		}
		b, err := fs.ReadFile(migrationFiles, path.Join(dir, file))
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: version, name: name, sql: string(b)})
	}
	slices.SortFunc(ms, func(a, b migration) int { return cmp.Compare(a.version, b.version) })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("two migrations have version %d", ms[i].version)
		}
	}
	return ms, nil
}

// migrate applies the migrations the database lacks, all in one transaction,
// so that a failed migration leaves the schema as it was. Two processes
// migrating at once take turns: PostgreSQL by an advisory lock, SQLite by
// the write lock of the immediate transaction.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations(s.dialect)
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	// SQLite may refuse a new database to one of several processes opening
	// it at once with "database is locked" before the busy timeout applies
	// (the switch to WAL); such a start is tried again, for a few seconds.
	for try := 0; ; try++ {
		err = s.migrateOnce(ctx, ms)
		if err == nil || !isBusy(err) || try == 50 {
			break
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("sqlstore: migrate: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err != nil {
		return fmt.Errorf("sqlstore: migrate: %w", err)
	}
	return nil
}

// migrateOnce applies the missing migrations in one transaction.
func (s *Store) migrateOnce(ctx context.Context, ms []migration) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, createMigrationsTable); err != nil {
			return err
		}
		applied, err := appliedVersions(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if applied[m.version] {
				continue
			}
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return fmt.Errorf("%04d_%s: %w", m.version, m.name, err)
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO pbxauth_schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.version, m.name, micros(time.Now()))
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// appliedVersions returns the versions recorded in pbxauth_schema_migrations.
func appliedVersions(ctx context.Context, tx *sql.Tx) (map[int64]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT version FROM pbxauth_schema_migrations`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	applied := map[int64]bool{}
	for rows.Next() {
		var v int64
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		applied[v] = true
	}
	return applied, rows.Err()
}
