// This file keeps the single-use steps of authentication flows. ConsumeFlow
// is one DELETE ... RETURNING and UpdateFlow one conditional UPDATE, so the
// database decides every race.

package sqlstore

import (
	"context"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

// CreateFlow implements store.Store in one statement: the flow is
// inserted unless its user's epoch moved. On PostgreSQL the statement
// locks the user's row (FOR SHARE), so it waits for a reset in progress
// and then compares with the epoch that reset committed.
func (s *Store) CreateFlow(ctx context.Context, f store.Flow) error {
	f.Version = 1
	n, err := affected(s.db.ExecContext(ctx, `WITH u AS (SELECT epoch FROM pbxauth_users WHERE id = $3 AND $3 <> ''`+s.lockRow("SHARE")+`)
		INSERT INTO pbxauth_flows (`+flowCols+`) SELECT `+placeholders(13)+`
		WHERE NOT EXISTS (SELECT 1 FROM u WHERE epoch <> $13)`, flowArgs(f)...))
	if err == nil && n == 0 {
		err = store.ErrStale
	}
	return storeErr("create flow", err)
}

// Flow implements store.Store.
func (s *Store) Flow(ctx context.Context, h store.Hash, now time.Time) (store.Flow, error) {
	var f store.Flow
	err := s.db.QueryRowContext(ctx, `SELECT `+flowCols+` FROM pbxauth_flows WHERE hash = $1 AND expires_at > $2`,
		h[:], micros(now)).Scan(flowDest(&f)...)
	if err != nil {
		return store.Flow{}, storeErr("flow", err)
	}
	return f, nil
}

// UpdateFlow implements store.Store as a compare-and-swap on the version.
func (s *Store) UpdateFlow(ctx context.Context, f store.Flow, now time.Time) error {
	want := f.Version
	f.Version++
	args := append(flowArgs(f), want, micros(now))
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_flows SET purpose = $2, user_id = $3, tenant_id = $4,
		expires_at = $5, code_hash = $6, code_expires_at = $7, sends = $8, last_sent_at = $9, attempts = $10,
		data = $11, version = $12, epoch = $13
		WHERE hash = $1 AND version = $14 AND expires_at > $15`, args...))
	if err == nil && n == 0 {
		// Lost the swap, or the flow is gone: tell which.
		_, err = s.Flow(ctx, f.Hash, now)
		if err == nil {
			err = store.ErrConflict
		}
	}
	return storeErr("update flow", err)
}

// ConsumeFlow implements store.Store: the DELETE that removes the flow
// returns it, to one caller only.
func (s *Store) ConsumeFlow(ctx context.Context, h store.Hash, purpose store.FlowPurpose, now time.Time) (store.Flow, error) {
	var f store.Flow
	err := s.db.QueryRowContext(ctx, `DELETE FROM pbxauth_flows WHERE hash = $1 AND purpose = $2 AND expires_at > $3
		RETURNING `+flowCols, h[:], string(purpose), micros(now)).Scan(flowDest(&f)...)
	if err != nil {
		return store.Flow{}, storeErr("consume flow", err)
	}
	return f, nil
}
