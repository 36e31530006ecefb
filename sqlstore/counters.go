// This file keeps the throttling counters. PutCounter is a compare-and-swap
// on the version, decided by one statement: an upsert that may only replace
// an expired row when the caller saw none (version 0), or an update of the
// live row with the version the caller saw.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pbxauth/pbxauth"
)

// Counter implements pbxauth.Store.
func (s *Store) Counter(ctx context.Context, key string, now time.Time) (pbxauth.Counter, error) {
	var c pbxauth.Counter
	err := s.db.QueryRowContext(ctx, `SELECT `+counterCols+` FROM pbxauth_counters WHERE key = $1 AND expires_at > $2`,
		key, micros(now)).Scan(counterDest(&c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return pbxauth.Counter{Key: key}, nil
	}
	if err != nil {
		return pbxauth.Counter{}, storeErr("counter", err)
	}
	return c, nil
}

// PutCounter implements pbxauth.Store.
func (s *Store) PutCounter(ctx context.Context, c pbxauth.Counter, now time.Time) error {
	want := c.Version
	c.Version++
	var (
		n   int64
		err error
	)
	if want == 0 {
		n, err = affected(s.db.ExecContext(ctx, `INSERT INTO pbxauth_counters (`+counterCols+`) VALUES (`+placeholders(7)+`)
			ON CONFLICT (key) DO UPDATE SET count = excluded.count, locks = excluded.locks,
				locked_until = excluded.locked_until, window_start = excluded.window_start,
				expires_at = excluded.expires_at, version = excluded.version
			WHERE pbxauth_counters.expires_at <= $8`, append(counterArgs(c), micros(now))...))
	} else {
		n, err = affected(s.db.ExecContext(ctx, `UPDATE pbxauth_counters SET count = $2, locks = $3, locked_until = $4,
			window_start = $5, expires_at = $6, version = $7
			WHERE key = $1 AND version = $8 AND expires_at > $9`, append(counterArgs(c), want, micros(now))...))
	}
	if err == nil && n == 0 {
		err = pbxauth.ErrConflict
	}
	return storeErr("put counter", err)
}

// DeleteCounter implements pbxauth.Store.
func (s *Store) DeleteCounter(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pbxauth_counters WHERE key = $1`, key)
	return storeErr("delete counter", err)
}
