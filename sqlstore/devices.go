// This file keeps known devices. AddDevice inserts and evicts in one
// transaction, serialised per user (an advisory lock on PostgreSQL, the
// write lock on SQLite), so concurrent sign-ins never leave more than the
// maximum; RotateDevice is one conditional UPDATE.

package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

const deviceCols = "id, hash, user_id, last_used_at, expires_at"

func deviceDest(d *store.Device) []any {
	return []any{&d.ID, hashDest{&d.Hash}, &d.UserID, timeDest{&d.LastUsedAt}, timeDest{&d.ExpiresAt}}
}

// deviceLock is the namespace of the per-user advisory locks of AddDevice
// ("pbxdevic" in ASCII, folded into 32 bits).
const deviceLock int32 = 0x70627864

// Device implements store.Store.
func (s *Store) Device(ctx context.Context, h store.Hash, now time.Time) (store.Device, error) {
	var d store.Device
	err := s.db.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM pbxauth_devices WHERE hash = $1 AND expires_at > $2`,
		h[:], micros(now)).Scan(deviceDest(&d)...)
	if err != nil {
		return store.Device{}, storeErr("device", err)
	}
	return d, nil
}

// AddDevice implements store.Store.
func (s *Store) AddDevice(ctx context.Context, d store.Device, max int, now time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if s.dialect == Postgres {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`, deviceLock, d.UserID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pbxauth_devices (`+deviceCols+`) VALUES ($1, $2, $3, $4, $5)`,
			d.ID, d.Hash[:], d.UserID, micros(d.LastUsedAt), micros(d.ExpiresAt)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM pbxauth_devices WHERE user_id = $1 AND (expires_at <= $2 OR hash NOT IN (
			SELECT hash FROM pbxauth_devices WHERE user_id = $1 AND expires_at > $2
			ORDER BY last_used_at DESC, hash DESC LIMIT $3))`, d.UserID, micros(now), max)
		return err
	})
	return storeErr("add device", err)
}

// RotateDevice implements store.Store.
func (s *Store) RotateDevice(ctx context.Context, old store.Hash, d store.Device, now time.Time) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_devices SET hash = $1, last_used_at = $2, expires_at = $3
		WHERE hash = $4 AND user_id = $5 AND expires_at > $6`,
		d.Hash[:], micros(d.LastUsedAt), micros(d.ExpiresAt), old[:], d.UserID, micros(now)))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("rotate device", err)
}

// DeleteDevices implements store.Store.
func (s *Store) DeleteDevices(ctx context.Context, userID string) error {
	return storeErr("delete devices", deleteDevices(ctx, s.db, userID, ""))
}

// deleteDevices deletes every device of the user but those with ID spare
// ("" spares none): on its own, or in the step of a password change.
func deleteDevices(ctx context.Context, db execer, userID, spare string) error {
	_, err := db.ExecContext(ctx, `DELETE FROM pbxauth_devices WHERE user_id = $1 AND ($2 = '' OR id <> $2)`, userID, spare)
	return err
}
