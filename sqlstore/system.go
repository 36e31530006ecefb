// This file keeps the system settings: one row, id 1.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/pbxauth/pbxauth/store"
)

// System implements store.Store.
func (s *Store) System(ctx context.Context) (store.System, error) {
	var sys store.System
	err := s.db.QueryRowContext(ctx, `SELECT `+systemCols+` FROM pbxauth_system WHERE id = 1`).Scan(systemDest(&sys)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.System{}, nil
	}
	if err != nil {
		return store.System{}, storeErr("system", err)
	}
	return sys, nil
}

// PutSystem implements store.Store.
func (s *Store) PutSystem(ctx context.Context, sys store.System) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pbxauth_system (id, `+systemCols+`) VALUES (1, `+placeholders(9)+`)
		ON CONFLICT (id) DO UPDATE SET web_domain = excluded.web_domain, private_ipv4 = excluded.private_ipv4,
			public_ipv4 = excluded.public_ipv4, enable_ipv6 = excluded.enable_ipv6,
			private_ipv6 = excluded.private_ipv6, public_ipv6 = excluded.public_ipv6,
			primary_dns_server = excluded.primary_dns_server, secondary_dns_server = excluded.secondary_dns_server,
			enable_two_factor = excluded.enable_two_factor`,
		systemArgs(sys)...)
	return storeErr("put system", err)
}
