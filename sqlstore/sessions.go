// This file gives hosts on PostgreSQL a place for cookie sessions in the
// same database, so that several instances behind a load balancer share
// browser sessions as they share tokens.

package sqlstore

import (
	"errors"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/v2"
)

// SessionTable is the table of SessionStore's sessions.
const SessionTable = "pbxauth_sessions"

// SessionStore returns an scs session store over the Store's PostgreSQL
// database (table pbxauth_sessions, created by the migrations), for the
// Store of the *scs.SessionManager a host passes as
// pbxauth.Config.SessionManager. Expired sessions are deleted every five
// minutes until Close. On SQLite it returns an error: a single process
// keeps its sessions in scs's memory store.
func (s *Store) SessionStore() (scs.Store, error) {
	if s.dialect != Postgres {
		return nil, errors.New("sqlstore: SessionStore needs PostgreSQL")
	}
	ps := postgresstore.NewWithConfig(s.db, postgresstore.Config{TableName: SessionTable, CleanUpInterval: 5 * time.Minute})
	s.mu.Lock()
	s.sessionStores = append(s.sessionStores, ps)
	s.mu.Unlock()
	return ps, nil
}
