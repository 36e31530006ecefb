// Package drivers is how sqlstore/sqlite and sqlstore/postgres tell sqlstore
// about their database driver, the way database/sql drivers register
// themselves: sqlstore imports no driver, so a host links only the one it
// picked.
package drivers

import (
	"context"
	"database/sql"
	"sync"
)

// Driver is what a driver package registers.
type Driver struct {
	// Dialect is sqlstore's Dialect value this driver speaks.
	Dialect int
	// Unique, ForeignKey and Busy recognise the driver's errors: a
	// unique-key or primary-key violation, a foreign-key violation, and
	// "database is locked" (SQLite). Outage recognises the driver's own
	// errors of an unreachable or shutting-down server. A nil function
	// recognises nothing.
	Unique, ForeignKey, Busy, Outage func(error) bool
	// Listen, where the database has notifications (PostgreSQL), returns
	// a Connector for connections of their own to db's server, named
	// name, that deliver each notification's payload to notify.
	Listen func(ctx context.Context, db *sql.DB, name string, notify func(payload string)) (Connector, error)
}

// Connector makes notification connections.
type Connector interface {
	Connect(ctx context.Context) (Conn, error)
}

// Conn is one notification connection. It is used by one goroutine.
type Conn interface {
	// PID is the server's process ID of the connection.
	PID() uint32
	// Exec runs a statement that returns nothing of interest.
	Exec(ctx context.Context, sql string) error
	// Wait waits until a notification has been delivered or ctx ends: nil
	// after a notification or when ctx's deadline passed, ctx's error when
	// it was cancelled, else the error that ended the connection.
	Wait(ctx context.Context) error
	// Close closes the connection within ctx.
	Close(ctx context.Context) error
}

var (
	mu      sync.RWMutex
	drivers = map[int]Driver{}
)

// Register makes d known; registering a dialect twice keeps the last.
func Register(d Driver) {
	mu.Lock()
	defer mu.Unlock()
	drivers[d.Dialect] = d
}

// Lookup returns the driver registered for dialect.
func Lookup(dialect int) (Driver, bool) {
	mu.RLock()
	defer mu.RUnlock()
	d, ok := drivers[dialect]
	return d, ok
}

// Any reports whether the check that pick returns from any registered
// driver recognises err: drivers' error types are distinct, so a Store
// need not know which driver made err.
func Any(err error, pick func(Driver) func(error) bool) bool {
	mu.RLock()
	defer mu.RUnlock()
	for _, d := range drivers {
		if f := pick(d); f != nil && f(err) {
			return true
		}
	}
	return false
}
