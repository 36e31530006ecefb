// This file measures GET /auth/user on each store — memory, SQLite and
// PostgreSQL, the last with database/sql's default pool (unbounded, 2 idle),
// with sqlstore's bounded default, and with the grant cache — in one run,
// and how many database sessions PostgreSQL had to open per 10,000
// requests.

package main

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/sqlstore"
)

// storeRun is the throughput of one store.
type storeRun struct {
	name string
	s    *sample
	// sessions is how many connections the pool opened per 10,000
	// requests; negative for stores without a pool.
	sessions float64
}

// storeKind opens one store for the comparison.
type storeKind struct {
	name string
	open func(ctx context.Context) (pbxauth.Store, *sql.DB, func(), error)
}

// opened is how many connections a pool has opened so far: those still
// open and those it closed.
func opened(s sql.DBStats) int64 {
	return int64(s.OpenConnections) + s.MaxIdleClosed + s.MaxIdleTimeClosed + s.MaxLifetimeClosed
}

// storeKinds are the stores compared; pg is the PostgreSQL URL of a
// database in which a schema of their own is made and dropped.
func storeKinds(pg string) []storeKind {
	openSQL := func(dsn func() (string, func(), error), o sqlstore.Options) func(context.Context) (pbxauth.Store, *sql.DB, func(), error) {
		return func(ctx context.Context) (pbxauth.Store, *sql.DB, func(), error) {
			d, drop, err := dsn()
			if err != nil {
				return nil, nil, nil, err
			}
			st, err := sqlstore.OpenWith(ctx, d, o)
			if err != nil {
				drop()
				return nil, nil, nil, err
			}
			return st, st.DB(), func() { st.Close(); drop() }, nil
		}
	}
	sqlite := func() (string, func(), error) {
		dir, err := os.MkdirTemp("", "pbxauth-load-")
		return "sqlite:" + filepath.Join(dir, "pbxauth.db"), func() { os.RemoveAll(dir) }, err
	}
	postgres := func() (string, func(), error) { return freshSchema(pg) }
	return []storeKind{
		{"memory store", func(context.Context) (pbxauth.Store, *sql.DB, func(), error) {
			return pbxauth.NewMemoryStore(), nil, func() {}, nil
		}},
		{"SQLite", openSQL(sqlite, sqlstore.Options{})},
		{"PostgreSQL, before: database/sql's pool (unbounded, 2 idle)", openSQL(postgres, sqlstore.Options{MaxOpenConns: -1, MaxIdleConns: 2})},
		{"PostgreSQL, after: bounded pool (open = idle = 4 × GOMAXPROCS)", openSQL(postgres, sqlstore.Options{})},
		{"PostgreSQL, grant cache", openSQL(postgres, sqlstore.Options{GrantCache: true})},
	}
}

// freshSchema makes a schema with a random name in the database pg names
// and returns a URL that uses it, and a function dropping it.
func freshSchema(pg string) (string, func(), error) {
	admin, err := sql.Open("pgx", pg)
	if err != nil {
		return "", nil, err
	}
	schema := fmt.Sprintf("pbxauth_load_%d", time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		return "", nil, err
	}
	u, err := url.Parse(pg)
	if err != nil {
		admin.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); admin.Close() }, nil
}

// storeThroughput drives GET /auth/user on every store in turn.
func storeThroughput(ctx context.Context, o options) ([]storeRun, error) {
	var runs []storeRun
	for _, k := range storeKinds(o.pg) {
		r, err := oneStore(ctx, o, k)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", k.name, err)
		}
		runs = append(runs, r)
	}
	return runs, nil
}

func oneStore(ctx context.Context, o options, k storeKind) (storeRun, error) {
	st, db, closeStore, err := k.open(ctx)
	if err != nil {
		return storeRun{}, err
	}
	defer closeStore()
	srv, err := startServer(ctx, pbxauth.Config{Store: st})
	if err != nil {
		return storeRun{}, err
	}
	defer srv.Close()
	defer srv.auth.Close()
	tr := &http.Transport{MaxIdleConns: o.conns, MaxIdleConnsPerHost: o.conns, MaxConnsPerHost: o.conns, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	token, err := signIn(ctx, client, srv.url+"/api", srv.user, srv.pw)
	if err != nil {
		return storeRun{}, err
	}
	t := target{k.name, srv.url + "/api/auth/user", token}
	if _, err := drive(ctx, client, t, 10*o.conns, o.conns); err != nil { // warm up
		return storeRun{}, err
	}
	var before int64
	if db != nil {
		before = opened(db.Stats())
	}
	s, err := drive(ctx, client, t, o.requests, o.conns)
	if err != nil {
		return storeRun{}, err
	}
	r := storeRun{name: k.name, s: s, sessions: -1}
	if db != nil {
		r.sessions = float64(opened(db.Stats())-before) * 10000 / float64(o.requests)
	}
	return r, nil
}

// printStores writes the comparison as a Markdown table.
func printStores(w io.Writer, runs []storeRun, o options) {
	fmt.Fprintf(w, "\nGET /auth/user by store: %d requests each over %d connections\n\n", o.requests, o.conns)
	fmt.Fprintln(w, "| store | req/s | p50 | p99 | non-200 | sessions opened per 10,000 requests |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range runs {
		lat := latencies(r.s)
		bad := 0
		for st, n := range r.s.statuses {
			if st != http.StatusOK {
				bad += n
			}
		}
		sessions := "—"
		if r.sessions >= 0 {
			sessions = fmt.Sprintf("%.1f", r.sessions)
		}
		fmt.Fprintf(w, "| %s | %.0f | %s | %s | %d | %s |\n", r.name, r.s.perSecond(), ms(percentile(lat, 50)), ms(percentile(lat, 99)), bad, sessions)
	}
}
