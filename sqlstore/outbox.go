// This file keeps the outbox of accepted mail requests (pbxauth.Outbox).
// A claim is one UPDATE of the record due longest: on PostgreSQL its row is
// picked with FOR UPDATE SKIP LOCKED, so concurrent workers in any process
// take different records without waiting on each other; on SQLite the
// statement runs under the database's single write lock.

package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/pbxauth/pbxauth/store"
)

var _ store.Outbox = (*Store)(nil)

const outboxCols = "id, kind, data, created_at, next_at, attempts, flow_hash, claim, lease_until"

func outboxDest(m *store.OutboxMail) []any {
	return []any{&m.ID, &m.Kind, &m.Data, timeDest{&m.CreatedAt}, timeDest{&m.NextAt}, &m.Attempts,
		hashDest{&m.FlowHash}, &m.Claim, timeDest{&m.LeaseUntil}}
}

func outboxArgs(m store.OutboxMail) []any {
	return []any{m.ID, m.Kind, m.Data, micros(m.CreatedAt), micros(m.NextAt), m.Attempts,
		m.FlowHash[:], m.Claim, micros(m.LeaseUntil)}
}

// claimQuery sets claim $1 and lease $3 on the record due longest at $2
// whose lease has run out. %s is the dialect's row-locking clause.
const claimQuery = `UPDATE pbxauth_outbox SET claim = $1, lease_until = $3
	WHERE id = (SELECT id FROM pbxauth_outbox WHERE next_at <= $2 AND lease_until <= $2
		ORDER BY next_at, id LIMIT 1 %s)
	RETURNING ` + outboxCols

// AddMail implements pbxauth.Outbox.
func (s *Store) AddMail(ctx context.Context, m store.OutboxMail) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO pbxauth_outbox (`+outboxCols+`) VALUES (`+placeholders(9)+`)`, outboxArgs(m)...)
	return storeErr("add mail", err)
}

// ClaimMail implements pbxauth.Outbox in one statement.
func (s *Store) ClaimMail(ctx context.Context, claim string, now, until time.Time) (store.OutboxMail, error) {
	q := fmt.Sprintf(claimQuery, "")
	if s.dialect == Postgres {
		q = fmt.Sprintf(claimQuery, "FOR UPDATE SKIP LOCKED")
	}
	var m store.OutboxMail
	err := s.db.QueryRowContext(ctx, q, claim, micros(now), micros(until)).Scan(outboxDest(&m)...)
	if err != nil {
		return store.OutboxMail{}, storeErr("claim mail", err)
	}
	return m, nil
}

// UpdateMail implements pbxauth.Outbox as a compare-and-swap on the claim.
func (s *Store) UpdateMail(ctx context.Context, m store.OutboxMail, claim string) error {
	n, err := affected(s.db.ExecContext(ctx, `UPDATE pbxauth_outbox SET next_at = $2, attempts = $3, flow_hash = $4,
		claim = $5, lease_until = $6 WHERE id = $1 AND claim = $7`,
		m.ID, micros(m.NextAt), m.Attempts, m.FlowHash[:], m.Claim, micros(m.LeaseUntil), claim))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("update mail", err)
}

// DeleteMail implements pbxauth.Outbox.
func (s *Store) DeleteMail(ctx context.Context, id, claim string) error {
	n, err := affected(s.db.ExecContext(ctx, `DELETE FROM pbxauth_outbox WHERE id = $1 AND claim = $2`, id, claim))
	if err == nil && n == 0 {
		err = store.ErrNotFound
	}
	return storeErr("delete mail", err)
}

var _ store.OutboxReporter = (*Store)(nil)

// OutboxStats implements pbxauth.OutboxReporter.
func (s *Store) OutboxStats(ctx context.Context) (int, time.Time, error) {
	var (
		n      int
		oldest sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT count(*), min(created_at) FROM pbxauth_outbox`).Scan(&n, &oldest)
	if err != nil || !oldest.Valid {
		return n, time.Time{}, storeErr("outbox stats", err)
	}
	return n, time.UnixMicro(oldest.Int64).UTC(), nil
}
