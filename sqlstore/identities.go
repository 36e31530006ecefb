// This file keeps the links from external accounts (tenant, issuer, subject)
// to users; a user has at most one link per tenant (a unique key).

package sqlstore

import (
	"context"

	"github.com/pbxauth/pbxauth/store"
)

// LinkIdentity implements store.Store. Both unique keys of the table
// decide a race, so of two accounts linking one user exactly one wins.
func (s *Store) LinkIdentity(ctx context.Context, id store.Identity) error {
	if err := id.Validate(); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO pbxauth_identities (tenant_id, issuer, subject, user_id) VALUES ($1, $2, $3, $4)`,
		id.TenantID, id.Issuer, id.Subject, id.UserID)
	return storeErr("link identity", err)
}

// IdentityUser implements store.Store.
func (s *Store) IdentityUser(ctx context.Context, tenantID, issuer, subject string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM pbxauth_identities WHERE tenant_id = $1 AND issuer = $2 AND subject = $3`,
		tenantID, issuer, subject).Scan(&id)
	return id, storeErr("identity user", err)
}

// RekeyIdentity implements store.Store: one UPDATE, whose row lock
// decides a race of two rekeys and whose primary key one of a rekey and a
// link of the new subject.
func (s *Store) RekeyIdentity(ctx context.Context, id store.Identity, from string) error {
	old := id
	old.Subject = from
	if err := id.Validate(); err != nil {
		return err
	}
	if err := old.Validate(); err != nil {
		return err
	}
	res, err := s.db.ExecContext(ctx, `UPDATE pbxauth_identities SET subject = $1 WHERE tenant_id = $2 AND issuer = $3 AND subject = $4 AND user_id = $5`,
		id.Subject, id.TenantID, id.Issuer, from, id.UserID)
	if err != nil {
		return storeErr("rekey identity", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return storeErr("rekey identity", err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
