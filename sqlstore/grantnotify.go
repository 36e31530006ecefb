// This file keeps the grant cache current across instances: a connection of
// its own LISTENs on the channel that the triggers of migration 0008 notify,
// drops the grants that a notification names, sends a heartbeat whenever it
// has heard nothing for a while, and lets the cache serve only while the
// heartbeats answer. When the connection fails the cache is emptied and
// bypassed until the listener is back.

package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/pbxauth/pbxauth/internal/grantcache"
	"github.com/pbxauth/pbxauth/sqlstore/internal/drivers"
	"github.com/pbxauth/pbxauth/store"
)

const (
	// grantChannel is the channel of migration 0008's triggers.
	grantChannel = "pbxauth_grants"
	// listenerName is the listener's application_name, by which operators
	// find its backend in pg_stat_activity.
	listenerName = "pbxauth grant listener"

	// heartbeatEvery is how long the listener waits for a notification
	// before it asks the server whether it is still there.
	heartbeatEvery = 200 * time.Millisecond
	// liveWindow is how long after the start of an answered heartbeat the
	// cache may serve. A heartbeat answered proves that every notification
	// committed before it was sent has arrived (the server delivers them
	// first), so a grant served is at most liveWindow behind the database,
	// even when the network drops everything silently.
	liveWindow = 500 * time.Millisecond
	// heartbeatTimeout is how long a heartbeat may take before the
	// connection counts as lost. The cache stops serving at liveWindow
	// anyway; this only decides when to reconnect.
	heartbeatTimeout = 2 * time.Second
	// sweepEach is how many grants each heartbeat looks at for expired
	// ones: a few microseconds under the cache's lock, five times a
	// second, so that the cache holds about the tokens in use.
	sweepEach = 256
	// connectTimeout bounds one connection attempt.
	connectTimeout = 5 * time.Second
	// Reconnections back off between these; the first after a connection
	// that lasted longer than maxBackoff is at once.
	firstBackoff, maxBackoff = 50 * time.Millisecond, 2 * time.Second
)

// grantCache is a Store's grant cache and its listener.
type grantCache struct {
	cache *grantcache.Cache[store.Hash, store.Grant]
	// schema holds the Store's tables; notifications of others are not
	// ours.
	schema string
	conns  drivers.Connector
	cancel context.CancelFunc
	done   chan struct{} // closed when the listener has stopped

	pid atomic.Uint32 // the listener's backend; 0 while it has none
	// beforeReconnect, when set (by tests), runs before each attempt to
	// reconnect.
	beforeReconnect atomic.Pointer[func(context.Context)]
	// deaf, when set (by tests), makes the listener ignore notifications,
	// so that only the Store's own writes drop grants.
	deaf atomic.Bool
}

// startGrantCache connects the listener and starts it; on error nothing is
// left running.
func startGrantCache(ctx context.Context, db *sql.DB, o Options) (*grantCache, error) {
	driver, ok := drivers.Lookup(int(Postgres))
	if !ok || driver.Listen == nil {
		return nil, errors.New("the PostgreSQL driver is not linked: open the Store with github.com/pbxauth/pbxauth/sqlstore/postgres")
	}
	// The schema of the tables the Store's statements resolve to, which is
	// what the triggers report, asked of the pool they resolve in.
	var schema string
	err := db.QueryRowContext(ctx, `SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.oid = 'pbxauth_families'::regclass`).Scan(&schema)
	if err != nil {
		return nil, fmt.Errorf("find the schema: %w", err)
	}
	entries, maxAge := o.GrantCacheEntries, o.GrantCacheMaxAge
	if entries <= 0 {
		entries = DefaultGrantCacheEntries
	}
	if maxAge <= 0 {
		maxAge = DefaultGrantCacheMaxAge
	}
	g := &grantCache{
		cache:  grantcache.New[store.Hash, store.Grant](entries, maxAge),
		schema: schema,
		done:   make(chan struct{}),
	}
	// Its own connections, rather than one held from db, because a held
	// connection would shrink the host's pool for good (to nothing, with a
	// pool of one), and it could never be given back: it carries the LISTEN.
	conns, err := driver.Listen(ctx, db, listenerName, g.notified)
	if err != nil {
		return nil, err
	}
	g.conns = conns
	pc, err := g.connect(ctx)
	if err != nil {
		return nil, err
	}
	run, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	go g.run(run, pc)
	return g, nil
}

// connect opens the listener's connection and LISTENs; then the cache,
// emptied, may fill and serve. Whatever was announced before the LISTEN
// is not heard, which is why the cache starts empty.
func (g *grantCache) connect(ctx context.Context) (drivers.Conn, error) {
	ctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	pc, err := g.conns.Connect(ctx)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	if err := pc.Exec(ctx, "LISTEN "+grantChannel); err != nil {
		closeListener(pc)
		return nil, err
	}
	g.pid.Store(pc.PID())
	g.cache.Up(start.Add(liveWindow))
	return pc, nil
}

// closeListener closes pc, within a bound: it may be dead.
func closeListener(pc drivers.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = pc.Close(ctx)
}

// run listens on pc until ctx ends, reconnecting whenever the connection
// fails; the cache is down from the failure until the LISTEN is back.
func (g *grantCache) run(ctx context.Context, pc drivers.Conn) {
	defer close(g.done)
	var pause time.Duration
	for pc != nil {
		since := time.Now()
		_ = g.serve(ctx, pc) // why it failed changes nothing: reconnect
		g.cache.Down()
		g.pid.Store(0)
		closeListener(pc)
		// At once after a connection that lasted; after one that failed
		// soon, not in a tight loop.
		if time.Since(since) > maxBackoff {
			pause = 0
		} else {
			pause = longer(pause)
		}
		pc = g.reconnect(ctx, pause)
	}
}

// longer is the pause after pause, growing from firstBackoff to maxBackoff.
func longer(pause time.Duration) time.Duration {
	return min(max(2*pause, firstBackoff), maxBackoff)
}

// reconnect connects again after pause, and then with longer pauses
// between attempts; nil once ctx ends.
func (g *grantCache) reconnect(ctx context.Context, pause time.Duration) drivers.Conn {
	for {
		if hook := g.beforeReconnect.Load(); hook != nil {
			(*hook)(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(pause):
		}
		if pc, err := g.connect(ctx); err == nil {
			return pc
		}
		pause = longer(pause)
	}
}

// serve waits for notifications on pc, which the connection's handler
// applies as they arrive, and sends a heartbeat after each heartbeatEvery
// (also while notifications keep coming); it returns the error that ends
// the connection, or ctx's.
func (g *grantCache) serve(ctx context.Context, pc drivers.Conn) error {
	beat := time.Now()
	for {
		next := beat.Add(heartbeatEvery)
		wait, cancel := context.WithDeadline(ctx, next)
		err := pc.Wait(wait)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case err != nil:
			return err
		case time.Now().Before(next):
			continue // a notification, already applied
		}
		beat = time.Now()
		hb, cancel := context.WithTimeout(ctx, heartbeatTimeout)
		err = pc.Exec(hb, "SELECT 1")
		cancel()
		if err != nil {
			return err
		}
		g.cache.Extend(beat.Add(liveWindow))
		// Expiry is decided by the now that Grant is given; sweeping by
		// the wall clock removes only what a caller on the wall clock is
		// no longer served, and a removal costs no more than a miss.
		g.cache.Sweep(time.Now(), sweepEach)
	}
}

// grantNotice is the payload of a notification: the schema, and the
// family or user changed; neither means all of the schema.
type grantNotice struct {
	Schema string `json:"schema"`
	Family string `json:"family"`
	User   string `json:"user"`
}

// notified applies a notification. One it cannot read empties the cache:
// it may have named anything.
func (g *grantCache) notified(payload string) {
	if g.deaf.Load() {
		return
	}
	var n grantNotice
	switch err := json.Unmarshal([]byte(payload), &n); {
	case err != nil:
		g.cache.ForgetAll()
	case n.Schema != g.schema:
	case n.Family != "":
		g.cache.ForgetFamily(n.Family)
	case n.User != "":
		g.cache.ForgetUser(n.User)
	default:
		g.cache.ForgetAll()
	}
}

// stop ends the listener and waits for it. Safe on a nil *grantCache.
func (g *grantCache) stop() {
	if g == nil {
		return
	}
	g.cancel()
	<-g.done
}
