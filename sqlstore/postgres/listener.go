// This file makes the grant cache's notification connections with pgconn:
// connections of their own, with the settings of the host's pool.

package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pbxauth/pbxauth/sqlstore/internal/drivers"
)

// listen returns a Connector for connections with the settings of db's
// connections (same server, user, TLS and search_path), named name, that
// hand each notification's payload to notify.
func listen(ctx context.Context, db *sql.DB, name string, notify func(string)) (drivers.Connector, error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	var config *pgconn.Config
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("the *sql.DB must be of the pgx driver (github.com/jackc/pgx/v5/stdlib), not %T", dc)
		}
		config = c.Conn().Config().Config.Copy()
		return nil
	})
	if err != nil {
		return nil, err
	}
	config.RuntimeParams["application_name"] = name
	// A wait that times out must leave the connection usable: set a
	// deadline on it, never send the server a cancel request.
	config.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.DeadlineContextWatcherHandler{Conn: pc.Conn()}
	}
	config.OnNotification = func(_ *pgconn.PgConn, n *pgconn.Notification) { notify(n.Payload) }
	return connector{config}, nil
}

// connector makes listener connections from one configuration.
type connector struct{ config *pgconn.Config }

func (c connector) Connect(ctx context.Context) (drivers.Conn, error) {
	pc, err := pgconn.ConnectConfig(ctx, c.config)
	if err != nil {
		return nil, err
	}
	return listenerConn{pc}, nil
}

// listenerConn is a drivers.Conn over a pgconn connection.
type listenerConn struct{ pc *pgconn.PgConn }

func (l listenerConn) PID() uint32 { return l.pc.PID() }

func (l listenerConn) Exec(ctx context.Context, sql string) error {
	_, err := l.pc.Exec(ctx, sql).ReadAll()
	return err
}

func (l listenerConn) Wait(ctx context.Context) error {
	err := l.pc.WaitForNotification(ctx)
	if err != nil && pgconn.Timeout(err) {
		return nil // the wait's own deadline: no notification this time
	}
	return err
}

func (l listenerConn) Close(ctx context.Context) error { return l.pc.Close(ctx) }
