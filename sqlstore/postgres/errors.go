// This file tells sqlstore how to read pgx's errors.

package postgres

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/internal/drivers"
)

func init() {
	drivers.Register(drivers.Driver{
		Dialect:    int(sqlstore.Postgres),
		Unique:     sqlstate(uniqueViolation),
		ForeignKey: sqlstate(foreignKeyViolation),
		Outage:     isOutage,
		Listen:     listen,
	})
}

// SQLSTATE codes of constraint violations.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
)

// sqlstate returns a check for a server error with the given SQLSTATE.
func sqlstate(code string) func(error) bool {
	return func(err error) bool {
		var pe *pgconn.PgError
		return errors.As(err, &pe) && pe.Code == code
	}
}

// outages are SQLSTATEs of outages besides the connection-exception class
// 08: the server shutting down or starting, too many connections.
var outages = map[string]bool{
	"57P01": true, // admin_shutdown
	"57P02": true, // crash_shutdown
	"57P03": true, // cannot_connect_now
	"53300": true, // too_many_connections
	"57014": true, // query_canceled, by statement_timeout
}

// isOutage says whether err is pgx's word for a server that could not be
// reached or answer in time.
func isOutage(err error) bool {
	var (
		ce *pgconn.ConnectError
		pe *pgconn.PgError
	)
	switch {
	case errors.As(err, &ce), pgconn.Timeout(err):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || outages[pe.Code]
	}
	return false
}
