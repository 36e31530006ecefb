// This file keeps the throttling counters. PutCounter is a compare-and-swap
// on the version, decided by one statement: an upsert that may only replace
// an expired row when the caller saw none (version 0), or an update of the
// live row with the version the caller saw. AddCounter is one upsert that
// returns the row it left; AddCounterBelow the same upsert, whose update
// of a live row is conditional on its count.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// Counter implements store.Store.
func (s *Store) Counter(ctx context.Context, key string, now time.Time) (store.Counter, error) {
	var c store.Counter
	err := s.db.QueryRowContext(ctx, `SELECT `+counterCols+` FROM pbxauth_counters WHERE key = $1 AND expires_at > $2`,
		key, micros(now)).Scan(counterDest(&c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Counter{Key: key}, nil
	}
	if err != nil {
		return store.Counter{}, storeErr("counter", err)
	}
	return c, nil
}

// PutCounter implements store.Store.
func (s *Store) PutCounter(ctx context.Context, c store.Counter, now time.Time) error {
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
		err = store.ErrConflict
	}
	return storeErr("put counter", err)
}

// addCounterUpsert adds to a counter in one upsert, so the database
// decides every add: $1 key, $2 delta, $3 expires_at, $4 now, $5 the zero
// time. An expired row starts afresh as a missing one would. Every SET
// reads the row as it was.
const addCounterUpsert = `INSERT INTO pbxauth_counters (` + counterCols + `)
	VALUES ($1, CASE WHEN CAST($2 AS BIGINT) > 0 THEN CAST($2 AS BIGINT) ELSE 0 END, 0, CAST($5 AS BIGINT), CAST($4 AS BIGINT), CAST($3 AS BIGINT), 1)
	ON CONFLICT (key) DO UPDATE SET
		count = CASE WHEN pbxauth_counters.expires_at <= $4 THEN excluded.count
			WHEN pbxauth_counters.count + $2 > 0 THEN pbxauth_counters.count + $2 ELSE 0 END,
		locks = CASE WHEN pbxauth_counters.expires_at <= $4 THEN 0 ELSE pbxauth_counters.locks END,
		locked_until = CASE WHEN pbxauth_counters.expires_at <= $4 THEN excluded.locked_until ELSE pbxauth_counters.locked_until END,
		window_start = CASE WHEN pbxauth_counters.expires_at <= $4 THEN excluded.window_start ELSE pbxauth_counters.window_start END,
		expires_at = CASE WHEN pbxauth_counters.expires_at <= $4 OR pbxauth_counters.expires_at < $3 THEN excluded.expires_at
			ELSE pbxauth_counters.expires_at END,
		version = CASE WHEN pbxauth_counters.expires_at <= $4 THEN 1 ELSE pbxauth_counters.version + 1 END`

// addCounter is AddCounter: the upsert, returning the row it left.
const addCounter = addCounterUpsert + ` RETURNING ` + counterCols

// addCounterBelow is AddCounterBelow: the upsert with $2 = 1, whose update
// is done only while the stored row is expired or its count below $6. When
// it is not, the statement changes nothing and returns no row. A missing
// key is inserted, so the caller never passes a limit below 1.
const addCounterBelow = addCounterUpsert + `
	WHERE pbxauth_counters.expires_at <= $4 OR pbxauth_counters.count < $6
	RETURNING ` + counterCols

// AddCounter implements store.Store.
func (s *Store) AddCounter(ctx context.Context, key string, delta int, expiresAt, now time.Time) (store.Counter, error) {
	var c store.Counter
	err := s.db.QueryRowContext(ctx, addCounter, key, delta, micros(expiresAt), micros(now), zeroMicros).Scan(counterDest(&c)...)
	if err != nil {
		return store.Counter{}, storeErr("add counter", err)
	}
	return c, nil
}

// AddCounterBelow implements store.Store.
func (s *Store) AddCounterBelow(ctx context.Context, key string, limit int, expiresAt, now time.Time) (store.Counter, bool, error) {
	if limit <= 0 {
		return store.Counter{Key: key}, false, nil
	}
	var c store.Counter
	err := s.db.QueryRowContext(ctx, addCounterBelow, key, 1, micros(expiresAt), micros(now), zeroMicros, limit).Scan(counterDest(&c)...)
	if errors.Is(err, sql.ErrNoRows) {
		return store.Counter{Key: key}, false, nil
	}
	if err != nil {
		return store.Counter{}, false, storeErr("add counter below", err)
	}
	return c, true, nil
}

// DeleteCounter implements store.Store.
func (s *Store) DeleteCounter(ctx context.Context, key string) error {
	_, err := s.db.ExecContext(ctx, `DELETE FROM pbxauth_counters WHERE key = $1`, key)
	return storeErr("delete counter", err)
}
