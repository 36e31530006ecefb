// This file tells sqlstore how to read modernc.org/sqlite's errors.

package sqlite

import (
	"errors"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/internal/drivers"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

func init() {
	drivers.Register(drivers.Driver{
		Dialect:    int(sqlstore.SQLite),
		Unique:     isUniqueViolation,
		ForeignKey: isForeignKeyViolation,
		Busy:       isBusy,
	})
}

// isUniqueViolation says whether err is a primary-key or unique-constraint
// violation.
func isUniqueViolation(err error) bool {
	var le *sqlite.Error
	return errors.As(err, &le) && (le.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || le.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
}

// isForeignKeyViolation says whether err is a foreign-key violation.
func isForeignKeyViolation(err error) bool {
	var le *sqlite.Error
	return errors.As(err, &le) && le.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
}

// isBusy says whether err is "database is locked".
func isBusy(err error) bool {
	var le *sqlite.Error
	return errors.As(err, &le) && le.Code()&0xff == sqlite3.SQLITE_BUSY
}
