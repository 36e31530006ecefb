// This file keeps passkeys and WebAuthn handles (store.PasskeyStore). The
// database decides every race: a credential ID is unique by an index, the
// per-user limit is counted under the user's row lock (on PostgreSQL; on
// SQLite every write transaction holds the one write lock), and a sign
// count moves forward by an UPDATE whose WHERE demands a greater one.

package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.PasskeyStore = (*Store)(nil)

// WebAuthnHandle implements store.PasskeyStore: in one transaction, an
// INSERT that does nothing when the user has a handle (on PostgreSQL it
// waits for a concurrent one to commit), then a read of the one stored.
func (s *Store) WebAuthnHandle(ctx context.Context, userID string, newHandle []byte) ([]byte, error) {
	var h []byte
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_users WHERE id = $1`, userID).Scan(&one)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO pbxauth_webauthn_handles (user_id, handle) VALUES ($1, $2)
			ON CONFLICT (user_id) DO NOTHING`, userID, newHandle)
		if err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT handle FROM pbxauth_webauthn_handles WHERE user_id = $1`, userID).Scan(&h)
	})
	if err != nil {
		return nil, storeErr("WebAuthn handle", err)
	}
	return h, nil
}

// UserByWebAuthnHandle implements store.PasskeyStore.
func (s *Store) UserByWebAuthnHandle(ctx context.Context, handle []byte) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT user_id FROM pbxauth_webauthn_handles WHERE handle = $1`, handle).Scan(&id)
	return id, storeErr("user by WebAuthn handle", err)
}

// AddPasskey implements store.PasskeyStore in one transaction: the user's
// row is locked first (FOR UPDATE on PostgreSQL), so the additions of one
// user take turns with each other and with every step that advances the
// epoch, and each counts what the one before it committed; the bearer's
// sign-in is read FOR SHARE, so its revocation waits for the addition (or
// the addition for it).
func (s *Store) AddPasskey(ctx context.Context, p store.Passkey, epoch int64, familyID string, max int, now time.Time) error {
	if err := p.Validate(); err != nil {
		return err
	}
	return storeErr("add passkey", s.inTx(ctx, func(tx *sql.Tx) error {
		var cur int64
		err := tx.QueryRowContext(ctx, `SELECT epoch FROM pbxauth_users WHERE id = $1`+s.lockRow("UPDATE"), p.UserID).Scan(&cur)
		switch {
		case errors.Is(err, sql.ErrNoRows) || err == nil && cur != epoch:
			return store.ErrStale
		case err != nil:
			return err
		}
		var one int
		err = tx.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_families WHERE id = $1 AND user_id = $2 AND `+liveFamily+`$3`+
			s.lockRow("SHARE"), familyID, p.UserID, micros(now)).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrStale
		} else if err != nil {
			return err
		}
		var taken, n int
		err = tx.QueryRowContext(ctx, `SELECT
			(SELECT count(*) FROM pbxauth_passkeys WHERE credential_id = $1 OR id = $2),
			(SELECT count(*) FROM pbxauth_passkeys WHERE user_id = $3)`, p.CredentialID, p.ID, p.UserID).Scan(&taken, &n)
		switch {
		case err != nil:
			return err
		case taken > 0:
			return store.ErrConflict
		case n >= max:
			return store.ErrLimit
		}
		p.Disabled, p.DisabledReason, p.DisabledAt = false, "", time.Time{}
		// A concurrent addition of the credential by another user, whose
		// row lock is another, loses here on the unique index.
		_, err = tx.ExecContext(ctx, `INSERT INTO pbxauth_passkeys (`+passkeyCols+`) VALUES (`+placeholders(16)+`)`,
			passkeyArgs(p)...)
		return err
	}))
}

// PasskeyByCredentialID implements store.PasskeyStore.
func (s *Store) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (store.Passkey, error) {
	var p store.Passkey
	err := s.db.QueryRowContext(ctx, `SELECT `+passkeyCols+` FROM pbxauth_passkeys WHERE credential_id = $1`, credentialID).
		Scan(passkeyDest(&p)...)
	if err != nil {
		return store.Passkey{}, storeErr("passkey by credential ID", err)
	}
	return p, nil
}

// Passkeys implements store.PasskeyStore.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]store.Passkey, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+passkeyCols+` FROM pbxauth_passkeys WHERE user_id = $1
		ORDER BY created_at DESC, id DESC`, userID)
	ps, err := scanPasskeys(rows, err)
	return ps, storeErr("passkeys", err)
}

// scanPasskeys reads and closes the rows of passkeyCols that a query
// returned with err.
func scanPasskeys(rows *sql.Rows, err error) ([]store.Passkey, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ps := []store.Passkey{}
	for rows.Next() {
		var p store.Passkey
		if err := rows.Scan(passkeyDest(&p)...); err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, rows.Err()
}

// RenamePasskey implements store.PasskeyStore in one UPDATE ... RETURNING.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) (store.Passkey, error) {
	var p store.Passkey
	err := s.db.QueryRowContext(ctx, `UPDATE pbxauth_passkeys SET name = $3 WHERE id = $1 AND user_id = $2
		RETURNING `+passkeyCols, id, userID, name).Scan(passkeyDest(&p)...)
	if err != nil {
		return store.Passkey{}, storeErr("rename passkey", err)
	}
	return p, nil
}

// DeletePasskey implements store.PasskeyStore: the passkey's DELETE comes
// first, so a CreateFamily made with it either committed before (and its
// family is revoked here) or waits for this transaction and finds it gone.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string, now time.Time) ([]string, error) {
	var ids []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, `DELETE FROM pbxauth_passkeys WHERE id = $1 AND user_id = $2`, id, userID))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		ids, err = revokeWhere(ctx, tx, userID, `passkey_id = $2`, id, now)
		return err
	})
	for _, id := range ids {
		s.grants.forgetFamily(id)
	}
	if err != nil {
		return nil, storeErr("delete passkey", err)
	}
	return ids, nil
}

// passkeyStill is, within CreateFamily's tx, ErrStale when f was made with
// a passkey that is gone or disabled. On PostgreSQL the read locks the
// passkey's row until tx ends, so DeletePasskey and DisablePasskey wait
// for the sign-in, or it for them.
func (s *Store) passkeyStill(ctx context.Context, tx *sql.Tx, f store.Family) error {
	if f.PasskeyID == "" {
		return nil
	}
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_passkeys WHERE id = $1 AND user_id = $2 AND disabled = FALSE`+
		s.lockRow("SHARE"), f.PasskeyID, f.UserID).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrStale
	}
	return err
}

// usableElse tells, after a conditional UPDATE of passkey id changed no
// row, why: ErrNotFound when it is missing or disabled, else otherwise.
func (s *Store) usableElse(ctx context.Context, id string, otherwise error) error {
	var disabled bool
	err := s.db.QueryRowContext(ctx, `SELECT disabled FROM pbxauth_passkeys WHERE id = $1`, id).Scan(&disabled)
	switch {
	case errors.Is(err, sql.ErrNoRows) || err == nil && disabled:
		return store.ErrNotFound
	case err == nil:
		return otherwise
	}
	return err
}

// UsePasskey implements store.PasskeyStore in one conditional UPDATE: of
// concurrent uses with one count, the database lets one change the row,
// and the others then find the count no longer below theirs.
func (s *Store) UsePasskey(ctx context.Context, id string, signCount uint32, backupState bool, now time.Time) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_passkeys SET sign_count = $2, backup_state = $3, last_used_at = $4
		WHERE id = $1 AND disabled = FALSE AND (sign_count < $2 OR sign_count = 0 AND $2 = 0)`,
		id, int64(signCount), backupState, micros(now)))
	if err == nil && n == 0 {
		err = s.usableElse(ctx, id, store.ErrStale)
	}
	return storeErr("use passkey", err)
}

// TouchPasskey implements store.PasskeyStore.
func (s *Store) TouchPasskey(ctx context.Context, id string, backupState bool, now time.Time) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_passkeys SET backup_state = $2, last_used_at = $3
		WHERE id = $1 AND disabled = FALSE`, id, backupState, micros(now)))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("touch passkey", err)
}

// DisablePasskey implements store.PasskeyStore.
func (s *Store) DisablePasskey(ctx context.Context, id, reason string, now time.Time) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_passkeys SET disabled = TRUE, disabled_reason = $2, disabled_at = $3
		WHERE id = $1 AND disabled = FALSE`, id, reason, micros(now)))
	if err == nil && n == 0 {
		var one int
		err = s.db.QueryRowContext(ctx, `SELECT 1 FROM pbxauth_passkeys WHERE id = $1`, id).Scan(&one)
	}
	return storeErr("disable passkey", err)
}

// ResetPasskeys implements store.PasskeyStore: the epoch first (the user's
// row, which AddPasskey locks too), then the passkeys and the sign-ins, in
// one transaction.
func (s *Store) ResetPasskeys(ctx context.Context, userID string, now time.Time) ([]string, error) {
	var ids []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, `UPDATE pbxauth_users SET epoch = epoch + 1 WHERE id = $1`, userID))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pbxauth_passkeys WHERE user_id = $1`, userID); err != nil {
			return err
		}
		ids, err = revokeOthers(ctx, tx, userID, "", now)
		return err
	})
	s.grants.forgetUser(userID)
	if err != nil {
		return nil, storeErr("reset passkeys", err)
	}
	return ids, nil
}

// ResetPasswordPasskeys implements store.PasskeyStore: ResetPassword's
// transaction, which writes the user's row first, then the passkeys'
// DELETE, which on PostgreSQL sees every addition committed before the
// user's row was locked.
func (s *Store) ResetPasswordPasskeys(ctx context.Context, userID, newHash string, forceReset bool, since time.Time) ([]store.Passkey, error) {
	ps := []store.Passkey{}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := resetPassword(ctx, tx, userID, newHash, forceReset); err != nil || since.IsZero() {
			return err
		}
		rows, err := tx.QueryContext(ctx, `DELETE FROM pbxauth_passkeys WHERE user_id = $1 AND created_at >= $2
			RETURNING `+passkeyCols, userID, micros(since))
		ps, err = scanPasskeys(rows, err)
		return err
	})
	s.grants.forgetUser(userID)
	if err != nil {
		return nil, storeErr("reset password", err)
	}
	slices.SortFunc(ps, func(a, b store.Passkey) int {
		if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	return ps, nil
}
