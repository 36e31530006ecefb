// This file stores a tenant's versioned record (a password policy, the
// Microsoft sign-in rules, the generated Microsoft certificate): one row
// per tenant, written only over the version the caller read.

package sqlstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

// putVersioned writes a tenant's versioned row over version, the one the
// caller read. Version 0 (none stored) runs insert, which must insert
// from pbxauth_tenants WHERE id = the tenant ON CONFLICT (tenant_id) DO
// NOTHING, so that the INSERT itself decides that the tenant exists and
// has none; a later version runs update, whose WHERE must compare the
// stored version. ErrConflict when another write came first, ErrNotFound
// when no tenant has the ID; nothing is written then.
func (s *Store) putVersioned(ctx context.Context, op, tenantID string, version int64,
	update string, updateArgs []any, insert string, insertArgs []any) error {
	if version > 0 {
		n, err := affected(s.db.ExecContext(ctx, update, updateArgs...))
		if err == nil && n == 0 {
			err = store.ErrConflict
		}
		return storeErr(op, err)
	}
	n, err := affected(s.db.ExecContext(ctx, insert, insertArgs...))
	if err == nil && n == 0 {
		// No tenant, or a row stored meanwhile.
		if _, err = s.Tenant(ctx, tenantID); err == nil {
			err = store.ErrConflict
		}
	}
	return storeErr(op, err)
}
