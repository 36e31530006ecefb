// This file keeps the users, unique by ID and by (tenant, lower-cased
// username), and their passwords.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/pbxauth/pbxauth/store"
)

// CreateUser implements store.Store.
func (s *Store) CreateUser(ctx context.Context, u store.User) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := validUser(ctx, tx, u); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO pbxauth_users (`+userCols+`, username_key, email_key)
			VALUES (`+placeholders(12)+`)`, userArgs(u)...)
		return err
	})
	return storeErr("create user", err)
}

// UpdateUser implements store.Store. The epoch is never written from u:
// it advances when the password hash changes or the user is disabled.
func (s *Store) UpdateUser(ctx context.Context, u store.User) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := validUser(ctx, tx, u); err != nil {
			return err
		}
		disables := 0
		if u.Disabled {
			disables = 1
		}
		n, err := affected(tx.ExecContext(ctx, `UPDATE pbxauth_users SET tenant_id = $2, username = $3, email = $4,
			role = $5, password_hash = $6, two_factor_enabled = $7, password_force_reset = $8, disabled = $9,
			username_key = $10, email_key = $11,
			epoch = epoch + CASE WHEN password_hash <> $6 OR (disabled = FALSE AND $12 = 1) THEN 1 ELSE 0 END
			WHERE id = $1`, u.ID, u.TenantID, u.Username, u.Email, u.Role, u.PasswordHash,
			u.TwoFactorEnabled, u.PasswordForceReset, u.Disabled, lower(u.Username), lower(u.Email), disables))
		if err == nil && n == 0 {
			err = store.ErrNotFound
		}
		return err
	})
	s.grants.forgetUser(u.ID)
	return storeErr("update user", err)
}

// validUser applies store.User.Validate and refuses a user of a tenant
// that does not exist. (A tenant is never deleted, so the check cannot go
// stale before the transaction commits.)
func validUser(ctx context.Context, tx *sql.Tx, u store.User) error {
	if err := u.Validate(); err != nil {
		return err
	}
	if u.TenantID == "" {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_tenants WHERE id = $1`, u.TenantID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("%w: user %q: no tenant %q", store.ErrInvalid, u.ID, u.TenantID)
	}
	return err
}

// User implements store.Store.
func (s *Store) User(ctx context.Context, id string) (store.User, error) {
	var u store.User
	err := s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM pbxauth_users WHERE id = $1`, id).Scan(userDest(&u)...)
	if err != nil {
		return store.User{}, storeErr("user", err)
	}
	return u, nil
}

// UserByName implements store.Store.
func (s *Store) UserByName(ctx context.Context, tenantID, username string) (store.User, error) {
	var u store.User
	err := s.db.QueryRowContext(ctx, `SELECT `+userCols+` FROM pbxauth_users WHERE tenant_id = $1 AND username_key = $2`,
		tenantID, lower(username)).Scan(userDest(&u)...)
	if err != nil {
		return store.User{}, storeErr("user by name", err)
	}
	return u, nil
}

// UsersByEmail implements store.Store. Users without an email never match.
func (s *Store) UsersByEmail(ctx context.Context, tenantID, email string) ([]store.User, error) {
	users := []store.User{}
	rows, err := s.db.QueryContext(ctx, `SELECT `+userCols+` FROM pbxauth_users
		WHERE tenant_id = $1 AND email_key = $2 AND email_key <> '' ORDER BY id`, tenantID, lower(email))
	if err != nil {
		return nil, storeErr("users by email", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u store.User
		if err := rows.Scan(userDest(&u)...); err != nil {
			return nil, storeErr("users by email", err)
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return nil, storeErr("users by email", err)
	}
	return users, nil
}

// SwapPasswordHash implements store.Store.
func (s *Store) SwapPasswordHash(ctx context.Context, userID, oldHash, newHash string) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`,
		userID, oldHash, newHash))
	s.grants.forgetUser(userID)
	if err == nil && n == 0 {
		// Either the user is unknown or the hash moved: tell which.
		var one int
		err = s.db.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_users WHERE id = $1`, userID).Scan(&one)
		if err == nil {
			err = store.ErrConflict
		}
	}
	return storeErr("swap password hash", err)
}

// ResetPassword implements store.Store. The new hash and flag, the new
// epoch, the revocation and the deletion of the user's devices commit
// together; the user's row is written first, so a concurrent CreateFamily
// either committed before (and is revoked here) or waits for this
// transaction and finds the new epoch.
func (s *Store) ResetPassword(ctx context.Context, userID, newHash string, forceReset bool) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error { return resetPassword(ctx, tx, userID, newHash, forceReset) })
	s.grants.forgetUser(userID)
	return storeErr("reset password", err)
}

// resetPassword is ResetPassword within tx.
func resetPassword(ctx context.Context, tx *sql.Tx, userID, newHash string, forceReset bool) error {
	n, err := affected(tx.ExecContext(ctx, `UPDATE pbxauth_users SET password_hash = $2, password_force_reset = $3,
		epoch = epoch + 1 WHERE id = $1`, userID, newHash, forceReset))
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	if err := deleteDevices(ctx, tx, userID, ""); err != nil {
		return err
	}
	return revokeUser(ctx, tx, userID)
}

// setUserFlag sets one boolean column of the user.
func (s *Store) setUserFlag(ctx context.Context, op, column, userID string, v bool) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_users SET `+column+` = $2 WHERE id = $1`, userID, v))
	s.grants.forgetUser(userID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr(op, err)
}

// SetUserDisabled implements store.UserFlagStore; disabling advances the
// epoch in the same statement.
func (s *Store) SetUserDisabled(ctx context.Context, userID string, disabled bool) error {
	step := 0
	if disabled {
		step = 1
	}
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_users SET disabled = $2, epoch = epoch + $3 WHERE id = $1`,
		userID, disabled, step))
	s.grants.forgetUser(userID)
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("set user disabled", err)
}

// SetPasswordForceReset implements store.UserFlagStore.
func (s *Store) SetPasswordForceReset(ctx context.Context, userID string, force bool) error {
	return s.setUserFlag(ctx, "set password force reset", "password_force_reset", userID, force)
}
