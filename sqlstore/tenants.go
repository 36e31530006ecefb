// This file keeps the tenants, unique by ID and by lower-cased domain.

package sqlstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

// CreateTenant implements store.Store.
func (s *Store) CreateTenant(ctx context.Context, t store.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO pbxauth_tenants (`+tenantCols+`, domain_key) VALUES (`+placeholders(17)+`)`,
		tenantArgs(t)...)
	return storeErr("create tenant", err)
}

// UpdateTenant implements store.Store.
func (s *Store) UpdateTenant(ctx context.Context, t store.Tenant) error {
	if err := t.Validate(); err != nil {
		return err
	}
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_tenants SET name = $2, domain = $3, website = $4,
		avatar_url = $5, enable_two_factor = $6, ms365 = $7, ms365_application_id = $8, ms365_directory_id = $9,
		ms365_client_secret = $10, ms365_national_cloud = $11, ms365_issuer = $12, ms365_client_certificate = $13,
		ms365_client_private_key = $14, ms365_match_preferred_username = $15, passkey_not_two_factor = $16,
		domain_key = $17
		WHERE id = $1`, tenantArgs(t)...))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("update tenant", err)
}

// Tenant implements store.Store.
func (s *Store) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM pbxauth_tenants WHERE id = $1`, id))
	return t, storeErr("tenant", err)
}

// TenantByDomain implements store.Store.
func (s *Store) TenantByDomain(ctx context.Context, domain string) (store.Tenant, error) {
	t, err := scanTenant(s.db.QueryRowContext(ctx, `SELECT `+tenantCols+` FROM pbxauth_tenants WHERE domain_key = $1`, lower(domain)))
	return t, storeErr("tenant by domain", err)
}
