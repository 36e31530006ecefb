// This file measures GET /auth/user on each store — memory, SQLite and
// PostgreSQL, the last without and with the grant cache — in rounds of one
// run, each beside the memory store, and how many database sessions the
// pools had to open per 10,000 requests.

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
	"strings"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/postgres"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
	"github.com/pbxauth/pbxauth/store"
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
	open func(ctx context.Context) (store.Store, *sql.DB, func(), error)
}

// opened is how many connections a pool has opened so far: those still
// open and those it closed.
func opened(s sql.DBStats) int64 {
	return int64(s.OpenConnections) + s.MaxIdleClosed + s.MaxIdleTimeClosed + s.MaxLifetimeClosed
}

// storeKinds are the stores compared; pg is the PostgreSQL URL of a
// database in which a schema of their own is made and dropped.
func storeKinds(pg string) []storeKind {
	openSQL := func(dsn func() (string, func(), error), o sqlstore.Options) func(context.Context) (store.Store, *sql.DB, func(), error) {
		return func(ctx context.Context) (store.Store, *sql.DB, func(), error) {
			d, drop, err := dsn()
			if err != nil {
				return nil, nil, nil, err
			}
			st, err := openDSN(ctx, d, o)
			if err != nil {
				drop()
				return nil, nil, nil, err
			}
			return st, st.DB(), func() { st.Close(); drop() }, nil
		}
	}
	sqliteDSN := func() (string, func(), error) {
		dir, err := os.MkdirTemp("", "pbxauth-load-")
		return "sqlite:" + filepath.Join(dir, "pbxauth.db"), func() { os.RemoveAll(dir) }, err
	}
	postgresDSN := func() (string, func(), error) { return freshSchema(pg) }
	return []storeKind{
		{"memory store", func(context.Context) (store.Store, *sql.DB, func(), error) {
			return memstore.New(), nil, func() {}, nil
		}},
		{"SQLite", openSQL(sqliteDSN, sqlstore.Options{})},
		{"PostgreSQL", openSQL(postgresDSN, sqlstore.Options{})},
		{"PostgreSQL, grant cache", openSQL(postgresDSN, sqlstore.Options{GrantCache: true})},
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

// storeThroughput drives GET /auth/user on every store, o.rounds times: each
// round opens every store afresh and takes them in turn, starting one
// further along each round, so that no store always runs first (on a
// shared machine the first of a series is often the slowest). It returns
// the runs by store, in storeKinds' order.
func storeThroughput(ctx context.Context, o options) ([][]storeRun, error) {
	kinds := storeKinds(o.pg)
	runs := make([][]storeRun, len(kinds))
	for round := range o.rounds {
		for i := range kinds {
			k := (round + i) % len(kinds)
			r, err := oneStore(ctx, o, kinds[k])
			if err != nil {
				return nil, fmt.Errorf("%s: %w", kinds[k].name, err)
			}
			runs[k] = append(runs[k], r)
		}
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

// printStores writes the comparison as a Markdown table: each store's
// median rate over the rounds and its ratio to the memory store's median,
// the ratio in each round, and the latencies of all rounds together.
func printStores(w io.Writer, runs [][]storeRun, o options) {
	fmt.Fprintf(w, "\nGET /auth/user by store: %d requests each over %d connections, %d rounds\n\n", o.requests, o.conns, o.rounds)
	fmt.Fprintln(w, "| store | req/s (median) | / memory store | per round | p50 | p99 | non-200 | sessions opened per 10,000 requests |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	memory := runs[0] // storeKinds lists the memory store first
	memRate := median(rateOf(memory))
	for _, rs := range runs {
		var (
			samples []*sample
			rounds  []string
			bad     int
			opened  []float64
		)
		for i, r := range rs {
			samples = append(samples, r.s)
			rounds = append(rounds, fmt.Sprintf("%.0f%%", 100*r.s.perSecond()/memory[i].s.perSecond()))
			for st, n := range r.s.statuses {
				if st != http.StatusOK {
					bad += n
				}
			}
			if r.sessions >= 0 {
				opened = append(opened, r.sessions)
			}
		}
		sessions := "—"
		if len(opened) > 0 {
			sessions = fmt.Sprintf("%.1f", median(opened))
		}
		lat := latencies(samples...)
		rate := median(rateOf(rs))
		fmt.Fprintf(w, "| %s | %.0f | %.0f%% | %s | %s | %s | %d | %s |\n", rs[0].name, rate, 100*rate/memRate,
			strings.Join(rounds, " · "), ms(percentile(lat, 50)), ms(percentile(lat, 99)), bad, sessions)
	}
}

// rateOf returns the request rates of runs.
func rateOf(runs []storeRun) []float64 {
	rates := make([]float64, len(runs))
	for i, r := range runs {
		rates[i] = r.s.perSecond()
	}
	return rates
}

// openDSN opens a sqlstore on dsn, "sqlite:PATH" or a PostgreSQL URL,
// through the package of its database.
func openDSN(ctx context.Context, dsn string, o sqlstore.Options) (*sqlstore.Store, error) {
	if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		return sqlite.OpenWith(ctx, path, o)
	}
	return postgres.OpenWith(ctx, dsn, o)
}
