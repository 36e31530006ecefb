// This file maps driver errors onto the Store's error contract.

package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/pbxauth/pbxauth/sqlstore/internal/drivers"
	"github.com/pbxauth/pbxauth/store"
)

// storeErr turns err, from the operation op, into the Store's contract: the
// sentinels pass through, sql.ErrNoRows becomes ErrNotFound, a unique-key
// violation ErrConflict, and anything else a backend failure that wraps the
// driver's error.
func storeErr(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrTokenReused),
		errors.Is(err, store.ErrStale), errors.Is(err, store.ErrLimit):
		return err
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case isUniqueViolation(err):
		return store.ErrConflict
	case isOutage(err):
		return fmt.Errorf("sqlstore: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// isOutage says whether err means the database could not be reached or
// answer in time — the same request may succeed in a moment — rather than
// that the request itself failed.
func isOutage(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE):
		return true
	case errors.As(err, &ne), drivers.Any(err, func(d drivers.Driver) func(error) bool { return d.Outage }):
		return true
	case isBusy(err):
		// The busy timeout ran out: contention, worth a retry.
		return true
	}
	// database/sql's own error after Close (the host shutting down) and
	// pgx's for a connection that died mid-statement are not exported.
	msg := err.Error()
	return strings.Contains(msg, "sql: database is closed") || strings.Contains(msg, "conn closed") ||
		strings.Contains(msg, "unexpected EOF")
}

// isUniqueViolation says whether err is a primary-key or unique-constraint
// violation.
func isUniqueViolation(err error) bool {
	return drivers.Any(err, func(d drivers.Driver) func(error) bool { return d.Unique })
}

// isForeignKeyViolation says whether err is a foreign-key violation.
func isForeignKeyViolation(err error) bool {
	return drivers.Any(err, func(d drivers.Driver) func(error) bool { return d.ForeignKey })
}

// isBusy says whether err is SQLite's "database is locked", which its busy
// timeout does not cover in every case (switching a new database to WAL
// while another connection does the same).
func isBusy(err error) bool {
	return drivers.Any(err, func(d drivers.Driver) func(error) bool { return d.Busy })
}
