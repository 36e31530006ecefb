// This file keeps the links from external accounts (issuer, subject) to users.

package sqlstore

import (
	"context"
)

// LinkIdentity implements pbxauth.Store.
func (s *Store) LinkIdentity(ctx context.Context, issuer, subject, userID string) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pbxauth_identities (issuer, subject, user_id) VALUES ($1, $2, $3)`,
		issuer, subject, userID)
	return storeErr("link identity", err)
}

// IdentityUser implements pbxauth.Store.
func (s *Store) IdentityUser(ctx context.Context, issuer, subject string) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM pbxauth_identities WHERE issuer = $1 AND subject = $2`,
		issuer, subject).Scan(&id)
	return id, storeErr("identity user", err)
}
