// This file keeps tenants' generated Microsoft certificates
// (store.MS365CredentialStore). A first certificate is stored only for a
// tenant that exists and has none, decided by the INSERT itself; a later
// one only over the version it read, and a confirmation or a drop only of
// that version, each decided by its UPDATE's WHERE.

package sqlstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.MS365CredentialStore = (*Store)(nil)

// MS365Credentials implements store.MS365CredentialStore.
func (s *Store) MS365Credentials(ctx context.Context, tenantID string) (store.MS365Credentials, error) {
	c := store.MS365Credentials{TenantID: tenantID}
	err := s.db.QueryRowContext(ctx, `SELECT current_secret, current_certificate, current_private_key, current_since,
		confirmed, known_good_secret, known_good_certificate, known_good_private_key, version
		FROM pbxauth_ms365_credentials WHERE tenant_id = $1`, tenantID).
		Scan(&c.Current.ClientSecret, &c.Current.ClientCertificate, &c.Current.ClientPrivateKey, timeDest{&c.CurrentSince},
			&c.Confirmed, &c.KnownGood.ClientSecret, &c.KnownGood.ClientCertificate, &c.KnownGood.ClientPrivateKey, &c.Version)
	return c, storeErr("Microsoft credentials", err)
}

// ReplaceMS365Current implements store.MS365CredentialStore.
func (s *Store) ReplaceMS365Current(ctx context.Context, c store.MS365Credentials) error {
	if err := c.Validate(); err != nil {
		return err
	}
	args := []any{c.TenantID, c.Current.ClientSecret, c.Current.ClientCertificate, c.Current.ClientPrivateKey,
		micros(c.CurrentSince), c.Version + 1}
	return s.putVersioned(ctx, "store Microsoft certificate", c.TenantID, c.Version,
		`UPDATE pbxauth_ms365_credentials SET current_secret = $2,
		current_certificate = $3, current_private_key = $4, current_since = $5, confirmed = $7, version = $6
		WHERE tenant_id = $1 AND version = $8`, append(args, false, c.Version),
		`INSERT INTO pbxauth_ms365_credentials (tenant_id, current_secret,
		current_certificate, current_private_key, current_since, version, confirmed,
		known_good_secret, known_good_certificate, known_good_private_key)
		SELECT id, $2, $3, $4, $5, $6, $7, $8, $9, $10 FROM pbxauth_tenants WHERE id = $1
		ON CONFLICT (tenant_id) DO NOTHING`,
		append(args, false, c.KnownGood.ClientSecret, c.KnownGood.ClientCertificate, c.KnownGood.ClientPrivateKey))
}

// ConfirmMS365Current implements store.MS365CredentialStore.
func (s *Store) ConfirmMS365Current(ctx context.Context, tenantID string, version int64) error {
	return s.changeMS365(ctx, "confirm Microsoft certificate", `UPDATE pbxauth_ms365_credentials SET
		known_good_secret = current_secret, known_good_certificate = current_certificate,
		known_good_private_key = current_private_key, confirmed = $3
		WHERE tenant_id = $1 AND version = $2`, tenantID, version, true)
}

// DropMS365KnownGood implements store.MS365CredentialStore.
func (s *Store) DropMS365KnownGood(ctx context.Context, tenantID string, version int64) error {
	return s.changeMS365(ctx, "drop Microsoft known good credential", `UPDATE pbxauth_ms365_credentials SET
		known_good_secret = '', known_good_certificate = '', known_good_private_key = ''
		WHERE tenant_id = $1 AND version = $2 AND confirmed = $3
		AND (known_good_secret <> '' OR known_good_certificate <> '' OR known_good_private_key <> '')`, tenantID, version, false)
}

// changeMS365 runs an UPDATE of one version of a tenant's credentials;
// ErrStale when it changed no row.
func (s *Store) changeMS365(ctx context.Context, op, query string, args ...any) error {
	n, err := affected(s.db.ExecContext(ctx, query, args...))
	if err == nil && n == 0 {
		err = store.ErrStale
	}
	return storeErr(op, err)
}

// ForgetMS365Credentials implements store.MS365CredentialStore.
func (s *Store) ForgetMS365Credentials(ctx context.Context, tenantID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pbxauth_ms365_credentials WHERE tenant_id = $1`, tenantID)
	return storeErr("forget Microsoft credentials", err)
}
