// This file gives hosts a place for cookie sessions in the same database,
// so that a restart keeps browsers signed in and several instances behind
// a load balancer share browser sessions as they share tokens.

package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
)

// sessionTable is the table of SessionStore's sessions.
const sessionTable = "pbxauth_sessions"

// SessionStore returns an scs session store over the Store's database
// (table pbxauth_sessions, created by the migrations), for
// pbxauth.Config.SessionStore or the Store of a host's own
// *scs.SessionManager. On PostgreSQL it is scs's postgresstore, which
// deletes expired sessions every five minutes until Close; on SQLite the
// janitor's sweep (DeleteExpired) deletes them.
func (s *Store) SessionStore() (scs.Store, error) {
	if s.dialect == SQLite {
		return sqliteSessions{s.db}, nil
	}
	ps := postgresstore.NewWithConfig(s.db, postgresstore.Config{TableName: sessionTable, CleanUpInterval: 5 * time.Minute})
	s.mu.Lock()
	s.sessionStores = append(s.sessionStores, ps)
	s.mu.Unlock()
	return pgSessions{ps}, nil
}

// pgSessions is scs's postgresstore with its errors mapped like the
// Store's, so that an outage on a cookie route is 503, not 500.
type pgSessions struct{ ps *postgresstore.PostgresStore }

// Find implements scs.Store.
func (p pgSessions) Find(token string) ([]byte, bool, error) {
	b, found, err := p.ps.Find(token)
	return b, found, storeErr("find session", err)
}

// Commit implements scs.Store.
func (p pgSessions) Commit(token string, b []byte, expiry time.Time) error {
	return storeErr("commit session", p.ps.Commit(token, b, expiry))
}

// Delete implements scs.Store.
func (p pgSessions) Delete(token string) error {
	return storeErr("delete session", p.ps.Delete(token))
}

// sqliteSessions is an scs.CtxStore on SQLite.
type sqliteSessions struct{ db *sql.DB }

var _ scs.CtxStore = sqliteSessions{}

// FindCtx implements scs.CtxStore: found is false for a missing or expired
// session.
func (ss sqliteSessions) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	var b []byte
	err := ss.db.QueryRowContext(ctx, `SELECT data FROM pbxauth_sessions WHERE token = $1 AND expiry > $2`,
		token, micros(time.Now())).Scan(&b)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, storeErr("find session", err)
	}
	return b, true, nil
}

// CommitCtx implements scs.CtxStore.
func (ss sqliteSessions) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	_, err := ss.db.ExecContext(ctx, `INSERT INTO pbxauth_sessions (token, data, expiry) VALUES ($1, $2, $3)
		ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, b, micros(expiry))
	return storeErr("commit session", err)
}

// DeleteCtx implements scs.CtxStore.
func (ss sqliteSessions) DeleteCtx(ctx context.Context, token string) error {
	_, err := ss.db.ExecContext(ctx, `DELETE FROM pbxauth_sessions WHERE token = $1`, token)
	return storeErr("delete session", err)
}

// Find implements scs.Store.
func (ss sqliteSessions) Find(token string) ([]byte, bool, error) {
	return ss.FindCtx(context.Background(), token)
}

// Commit implements scs.Store.
func (ss sqliteSessions) Commit(token string, b []byte, expiry time.Time) error {
	return ss.CommitCtx(context.Background(), token, b, expiry)
}

// Delete implements scs.Store.
func (ss sqliteSessions) Delete(token string) error {
	return ss.DeleteCtx(context.Background(), token)
}
