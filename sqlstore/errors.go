// This file maps driver errors onto the Store's error contract.

package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/pbxauth/pbxauth"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// PostgreSQL SQLSTATE codes of constraint violations.
const (
	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// storeErr turns err, from the operation op, into the Store's contract: the
// sentinels pass through, sql.ErrNoRows becomes ErrNotFound, a unique-key
// violation ErrConflict, and anything else a backend failure that wraps the
// driver's error.
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, pbxauth.ErrNotFound), errors.Is(err, pbxauth.ErrConflict), errors.Is(err, pbxauth.ErrTokenReused):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return pbxauth.ErrNotFound
	case isUniqueViolation(err):
		return pbxauth.ErrConflict
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// isUniqueViolation says whether err is a primary-key or unique-constraint
// violation.
func isUniqueViolation(err error) bool {
	var le *sqlite.Error
	if errors.As(err, &le) {
		return le.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || le.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// isForeignKeyViolation says whether err is a foreign-key violation.
func isForeignKeyViolation(err error) bool {
	var le *sqlite.Error
	if errors.As(err, &le) {
		return le.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgForeignKeyViolation
}

// isBusy says whether err is SQLite's "database is locked", which its busy
// timeout does not cover in every case (switching a new database to WAL
// while another connection does the same).
func isBusy(err error) bool {
	var le *sqlite.Error
	return errors.As(err, &le) && le.Code()&0xff == sqlite3.SQLITE_BUSY
}
