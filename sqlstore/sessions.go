// This file gives hosts a place for cookie sessions in the same database,
// so that a restart keeps browsers signed in and several instances behind
// a load balancer share browser sessions as they share tokens.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/alexedwards/scs/v2"
)

// SessionStore returns an scs session store over the Store's database
// (table pbxauth_sessions, created by the migrations), for
// pbxauth.Config.SessionStore or the Store of a host's own
// *scs.SessionManager. The janitor's sweep (DeleteExpired) deletes expired
// sessions. It is the Store's own on both dialects, so that a host's go.sum
// names no driver it did not choose (scs's postgresstore brings lib/pq's).
func (s *Store) SessionStore() (scs.Store, error) {
	return sqlSessions{s.db, s.dialect}, nil
}

// sqlSessions is an scs.CtxStore in pbxauth_sessions. Its expiry column is
// unix microseconds on SQLite, a timestamptz on PostgreSQL (the table that
// scs's postgresstore made, kept as it was).
type sqlSessions struct {
	db      *sql.DB
	dialect Dialect
}

var _ scs.CtxStore = sqlSessions{}

// at is t as the expiry column keeps it.
func (ss sqlSessions) at(t time.Time) any {
	if ss.dialect == SQLite {
		return micros(t)
	}
	return t
}

// FindCtx implements scs.CtxStore: found is false for a missing or expired
// session.
func (ss sqlSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.db.QueryRowContext(ctx, `SELECT data FROM pbxauth_sessions WHERE token = $1 AND expiry > $2`,
		token, ss.at(time.Now())).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeErr("find session", err)
	}
	return b, true, nil
}

// CommitCtx implements scs.CtxStore.
func (ss sqlSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.db.ExecContext(ctx, `INSERT INTO pbxauth_sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, ss.at(expiry))
	return storeErr("commit session", err)
}

// DeleteCtx implements scs.CtxStore.
func (ss sqlSessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.db.ExecContext(ctx, `DELETE FROM pbxauth_sessions WHERE token = $1`, token)
	return storeErr("delete session", err)
}

// Find implements scs.Store.
func (ss sqlSessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (ss sqlSessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (ss sqlSessions) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}
