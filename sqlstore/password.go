// This file holds a user's change of their own password (the new hash,
// the new epoch, the end of every other sign-in and of every known device
// but the caller's, in one transaction) and the rename of a user, which
// changes nothing else.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// ChangePassword implements store.Store. The user's row is read first,
// locked on PostgreSQL (SQLite's write transaction holds the database's
// write lock from its start), so a concurrent change, reset or sign-out of
// the user either committed before and moved the epoch this one compares,
// or waits for this one and finds the epoch it moved.
func (s *Store) ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error) {
	var ids []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		err := tx.QueryRowContext(ctx, `SELECT epoch FROM pbxauth_users WHERE id = $1`+s.lockRow("UPDATE"), userID).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return store.ErrNotFound
		case err != nil:
			return err
		case cur != epoch:
			return store.ErrStale
		}
		// keep "" carries no sign-in over: device stays "", so every
		// device goes, and revokeOthers ends every sign-in.
		var device string
		if keep != "" {
			err = tx.QueryRowContext(ctx, `UPDATE pbxauth_families SET epoch = $3
				WHERE id = $1 AND user_id = $2 AND `+liveFamily+`$4 RETURNING device_id`,
				keep, userID, epoch+1, micros(now)).Scan(&device)
			switch {
			case errors.Is(err, sql.ErrNoRows):
				return store.ErrStale
			case err != nil:
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE pbxauth_users SET password_hash = $2, password_force_reset = FALSE,
			epoch = epoch + 1 WHERE id = $1`, userID, newHash); err != nil {
			return err
		}
		if err := deleteDevices(ctx, tx, userID, device); err != nil {
			return err
		}
		ids, err = revokeOthers(ctx, tx, userID, keep, now)
		return err
	})
	s.grants.forgetUser(userID)
	if err != nil {
		return nil, storeErr("change password", err)
	}
	return ids, nil
}

// SetUsername implements store.UserFlagStore: one UPDATE of the name and
// its key, whose unique index refuses a name taken in the tenant.
func (s *Store) SetUsername(ctx context.Context, userID, username string) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_users SET username = $2, username_key = $3 WHERE id = $1`,
		userID, username, lower(username)))
	s.grants.forgetUser(userID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("set username", err)
}
