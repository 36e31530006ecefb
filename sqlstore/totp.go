// This file keeps authenticator apps and recovery codes (store.TOTPStore).
// Single use is decided by the database: a step is accepted by an UPDATE
// whose WHERE demands a later one, a recovery code consumed by a DELETE —
// with the flow it completes, by two DELETEs in one transaction.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.TOTPStore = (*Store)(nil)

// PutPendingTOTP implements store.TOTPStore.
func (s *Store) PutPendingTOTP(ctx context.Context, t store.TOTP) error {
	n, err := affected(s.db.ExecContext(ctx, `INSERT INTO pbxauth_totp (user_id, secret, active, last_step, created_at)
		VALUES ($1, $2, $3, 0, $4)
		ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
		WHERE pbxauth_totp.active = $3`, t.UserID, t.Secret, false, micros(t.CreatedAt)))
	if err == nil && n == 0 {
		err = store.ErrConflict
	}
	return storeErr("put pending TOTP", err)
}

// TOTP implements store.TOTPStore.
func (s *Store) TOTP(ctx context.Context, userID string) (store.TOTP, error) {
	t := store.TOTP{UserID: userID}
	err := s.db.QueryRowContext(ctx, `SELECT secret, active, last_step, created_at FROM pbxauth_totp WHERE user_id = $1`, userID).
		Scan(&t.Secret, &t.Active, &t.LastStep, timeDest{&t.CreatedAt})
	return t, storeErr("TOTP", err)
}

// ActivateTOTP implements store.TOTPStore: the epoch is compared in the
// transaction that activates.
func (s *Store) ActivateTOTP(ctx context.Context, userID string, epoch, step int64, hashes []string) error {
	return storeErr("activate TOTP", s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.epochStill(ctx, tx, userID, epoch, "SHARE"); err != nil {
			return err
		}
		n, err := affected(tx.ExecContext(ctx, `UPDATE pbxauth_totp SET active = $2, last_step = $3 WHERE user_id = $1 AND active = $4`,
			userID, true, step, false))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		return replaceCodes(ctx, tx, userID, hashes)
	}))
}

// replaceCodes replaces the user's recovery codes within tx.
func replaceCodes(ctx context.Context, tx *sql.Tx, userID string, hashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM pbxauth_recovery_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, h := range hashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO pbxauth_recovery_codes (user_id, hash) VALUES ($1, $2)`, userID, h); err != nil {
			return err
		}
	}
	return nil
}

// AcceptTOTPStep implements store.TOTPStore.
func (s *Store) AcceptTOTPStep(ctx context.Context, userID string, step int64) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_totp SET last_step = $2 WHERE user_id = $1 AND active = $3 AND last_step < $2`,
		userID, step, true))
	if err == nil && n == 0 {
		var active bool
		err = s.db.QueryRowContext(ctx, `SELECT active FROM pbxauth_totp WHERE user_id = $1`, userID).Scan(&active)
		switch {
		case errors.Is(err, sql.ErrNoRows) || (err == nil && !active):
			err = store.ErrNotFound
		case err == nil:
			err = store.ErrConflict
		}
	}
	return storeErr("accept TOTP step", err)
}

// DeleteTOTP implements store.TOTPStore.
func (s *Store) DeleteTOTP(ctx context.Context, userID string) error {
	return storeErr("delete TOTP", s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM pbxauth_totp WHERE user_id = $1`, userID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM pbxauth_recovery_codes WHERE user_id = $1`, userID)
		return err
	}))
}

// ReplaceRecoveryCodes implements store.TOTPStore: the epoch is
// compared in the transaction that replaces.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, epoch int64, hashes []string) error {
	return storeErr("replace recovery codes", s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.epochStill(ctx, tx, userID, epoch, "SHARE"); err != nil {
			return err
		}
		return replaceCodes(ctx, tx, userID, hashes)
	}))
}

// ConsumeRecoveryCode implements store.TOTPStore.
func (s *Store) ConsumeRecoveryCode(ctx context.Context, userID, hash string) error {
	n, err := affected(s.db.ExecContext(ctx, `DELETE FROM pbxauth_recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("consume recovery code", err)
}

// RedeemRecoveryCode implements pbxauth.TOTPStore: one transaction deletes
// the code and then the flow, and rolls both back when either is missing.
// Two redemptions of one flow each delete their code first and then wait
// for the other's DELETE of the flow; the one that commits first wins, the
// other deletes no flow and rolls its code back.
func (s *Store) RedeemRecoveryCode(ctx context.Context, userID, hash string, h store.Hash, now time.Time) (store.Flow, error) {
	var f store.Flow
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := affected(tx.ExecContext(ctx, `DELETE FROM pbxauth_recovery_codes WHERE user_id = $1 AND hash = $2`, userID, hash))
		if err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		err = tx.QueryRowContext(ctx, `DELETE FROM pbxauth_flows WHERE hash = $1 AND purpose = $2 AND user_id = $3 AND expires_at > $4
			RETURNING `+flowCols, h[:], string(store.FlowTwoFactor), userID, micros(now)).Scan(flowDest(&f)...)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrStale
		}
		return err
	})
	if err != nil {
		return store.Flow{}, storeErr("redeem recovery code", err)
	}
	return f, nil
}
