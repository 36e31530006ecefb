// This file lists tenants and users a page at a time
// (store.DirectoryLister), ordered by their folded keys byte by byte
// whatever the database's locale: SQLite compares text so by default, and
// PostgreSQL is told to with COLLATE "C" (migration 0012 indexes the keys
// in that collation).

package sqlstore

import (
	"context"
	"database/sql"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.DirectoryLister = (*Store)(nil)

// byteOrder is the collation clause that orders text byte by byte.
func (s *Store) byteOrder() string {
	if s.dialect == Postgres {
		return ` COLLATE "C"`
	}
	return ""
}

// Tenants implements store.DirectoryLister.
func (s *Store) Tenants(ctx context.Context, after string, limit int) ([]store.Tenant, error) {
	c := s.byteOrder()
	rows, err := s.db.QueryContext(ctx, `SELECT `+tenantCols+` FROM pbxauth_tenants
		WHERE domain_key`+c+` > $1 ORDER BY domain_key`+c+` LIMIT $2`, lower(after), limit)
	return scanPage(rows, err, "list tenants", scanTenant)
}

// Users implements store.DirectoryLister.
func (s *Store) Users(ctx context.Context, tenantID, after string, limit int) ([]store.User, error) {
	c := s.byteOrder()
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM pbxauth_users
		WHERE tenant_id = $1 AND username_key`+c+` > $2 ORDER BY username_key`+c+` LIMIT $3`, tenantID, lower(after), limit)
	return scanPage(rows, err, "list users", func(r scanner) (store.User, error) {
		var u store.User
		err := r.Scan(userDest(&u)...)
		return u, err
	})
}

// scanPage scans every row of a query with scan; an empty, non-nil slice
// when there is none.
func scanPage[T any](rows *sql.Rows, err error, what string, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, storeErr(what, err)
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		rec, err := scan(rows)
		if err != nil {
			return nil, storeErr(what, err)
		}
		list = append(list, rec)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr(what, err)
	}
	return list, nil
}
