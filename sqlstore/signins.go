// This file lists and ends a user's sign-ins (store.SignInStore) and
// removes a user's identity links.

package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.SignInStore = (*Store)(nil)

// liveFamily begins the condition of a family that is live at the
// placeholder that follows it: not revoked, not expired.
const liveFamily = `revoked = FALSE AND expires_at > `

// TouchFamily implements store.SignInStore: one conditional UPDATE, so
// that of many instances touching a sign-in within the minute one writes.
// With the grant cache, the sign-in's cached grants show now as their
// LastUsedAt afterwards, also when the UPDATE found a fresh time and wrote
// nothing.
func (s *Store) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	_, err := s.db.ExecContext(ctx, `UPDATE pbxauth_families SET last_used_at = $2 WHERE id = $1 AND last_used_at <= $3`,
		familyID, micros(now), micros(staleBefore))
	if err == nil {
		s.grants.touched(familyID, now)
	}
	return storeErr("touch family", err)
}

// Families implements store.SignInStore.
func (s *Store) Families(ctx context.Context, userID string, now time.Time) ([]store.Family, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+familyCols+` FROM pbxauth_families
		WHERE user_id = $1 AND `+liveFamily+`$2 ORDER BY created_at DESC, id DESC`, userID, micros(now))
	if err != nil {
		return nil, storeErr("families", err)
	}
	defer rows.Close()
	fs := []store.Family{}
	for rows.Next() {
		var f store.Family
		if err := rows.Scan(familyDest(&f)...); err != nil {
			return nil, storeErr("families", err)
		}
		fs = append(fs, f)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("families", err)
	}
	return fs, nil
}

// RevokeUserFamily implements store.SignInStore in one UPDATE.
func (s *Store) RevokeUserFamily(ctx context.Context, userID, familyID string, now time.Time) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_families SET revoked = TRUE
		WHERE id = $1 AND user_id = $2 AND `+liveFamily+`$3`, familyID, userID, micros(now)))
	s.grants.forgetFamily(familyID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("revoke user family", err)
}

// RevokeOtherFamilies implements store.SignInStore: the epoch, then one
// UPDATE ... RETURNING (which both dialects have), in one transaction.
func (s *Store) RevokeOtherFamilies(ctx context.Context, userID, except string, now time.Time) ([]string, error) {
	return s.revokeLiveWhere(ctx, "revoke other families", userID, `id <> $2`, except, now)
}

// RevokeMethodFamilies implements pbxauth.SignInStore as
// RevokeOtherFamilies does.
func (s *Store) RevokeMethodFamilies(ctx context.Context, userID, method string, now time.Time) ([]string, error) {
	return s.revokeLiveWhere(ctx, "revoke families by method", userID, `method = $2`, method, now)
}

// revokeLiveWhere advances the user's epoch and revokes the user's live
// families at now that match cond (on $2, arg), in one transaction, and
// returns their IDs.
func (s *Store) revokeLiveWhere(ctx context.Context, op, userID, cond, arg string, now time.Time) ([]string, error) {
	var ids []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := advanceEpoch(ctx, tx, userID); err != nil {
			return err
		}
		var err error
		ids, err = revokeWhere(ctx, tx, userID, cond, arg, now)
		return err
	})
	// The user's grants go, the kept sign-ins' too: simpler than each of
	// the ids read above, and those are refilled on their next use.
	s.grants.forgetUser(userID)
	if err != nil {
		return nil, storeErr(op, err)
	}
	return ids, nil
}

// revokeOthers revokes, within tx, every live family of the user at now
// but except, and returns their IDs.
func revokeOthers(ctx context.Context, tx *sql.Tx, userID, except string, now time.Time) ([]string, error) {
	return revokeWhere(ctx, tx, userID, `id <> $2`, except, now)
}

// revokeWhere revokes, within tx, every live family of the user at now
// that matches cond (on $2, arg), and returns their IDs.
func revokeWhere(ctx context.Context, tx *sql.Tx, userID, cond, arg string, now time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `UPDATE pbxauth_families SET revoked = TRUE
		WHERE user_id = $1 AND `+cond+` AND `+liveFamily+`$3 RETURNING id`, userID, arg, micros(now))
	if err != nil {
		return nil, err
	}
	return scanIDs(rows)
}

// UnlinkUser implements store.Store.
func (s *Store) UnlinkUser(ctx context.Context, tenantID, userID string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pbxauth_identities WHERE tenant_id = $1 AND user_id = $2`, tenantID, userID)
	return storeErr("unlink user", err)
}
