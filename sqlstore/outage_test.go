// This file checks what a Store does when its database goes away: every
// method fails with a backend error, never with one of the contract's
// sentinels (a handler must not read "not found" as "no such user"), and when
// the database is back the same Store works again.

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
	"github.com/pbxauth/pbxauth/store"
)

// call is one use of every Store method, on records that exist (set up by
// setUpCalls), so that a healthy store answers each without error.
type call struct {
	name string
	fn   func(ctx context.Context, st *sqlstore.Store) error
}

var calls = []call{
	{"System", func(ctx context.Context, st *sqlstore.Store) error { _, err := st.System(ctx); return err }},
	{"PutSystem", func(ctx context.Context, st *sqlstore.Store) error { return st.PutSystem(ctx, store.System{}) }},
	{"CreateTenant", func(ctx context.Context, st *sqlstore.Store) error {
		return st.CreateTenant(ctx, store.Tenant{ID: randomName("t"), Domain: randomName("d")})
	}},
	{"UpdateTenant", func(ctx context.Context, st *sqlstore.Store) error {
		return st.UpdateTenant(ctx, store.Tenant{ID: "t1", Domain: "acme.example.test"})
	}},
	{"Tenant", func(ctx context.Context, st *sqlstore.Store) error { _, err := st.Tenant(ctx, "t1"); return err }},
	{"TenantByDomain", func(ctx context.Context, st *sqlstore.Store) error {
		_, err := st.TenantByDomain(ctx, "acme.example.test")
		return err
	}},
	{"CreateUser", func(ctx context.Context, st *sqlstore.Store) error {
		return st.CreateUser(ctx, store.User{ID: randomName("u"), Username: randomName("n"), Role: "User"})
	}},
	{"UpdateUser", func(ctx context.Context, st *sqlstore.Store) error {
		u, err := st.User(ctx, "u1")
		if err == nil {
			err = st.UpdateUser(ctx, u)
		}
		return err
	}},
	{"User", func(ctx context.Context, st *sqlstore.Store) error { _, err := st.User(ctx, "u1"); return err }},
	{"UserByName", func(ctx context.Context, st *sqlstore.Store) error {
		_, err := st.UserByName(ctx, "t1", "user-u1")
		return err
	}},
	{"UsersByEmail", func(ctx context.Context, st *sqlstore.Store) error {
		_, err := st.UsersByEmail(ctx, "t1", "u1@example.test")
		return err
	}},
	{"SwapPasswordHash", func(ctx context.Context, st *sqlstore.Store) error {
		return st.SwapPasswordHash(ctx, "u1", "$argon2id$u1", "$argon2id$u1")
	}},
	{"ResetPassword", func(ctx context.Context, st *sqlstore.Store) error {
		return st.ResetPassword(ctx, "u2", "$argon2id$u2", false)
	}},
	{"CreateFamily", func(ctx context.Context, st *sqlstore.Store) error {
		id := randomName("f")
		_, err := st.CreateFamily(ctx, store.Family{ID: id, UserID: "u1", Method: "password", ExpiresAt: t0.Add(time.Hour)}, 0, nextTokens(id, id)...)
		return err
	}},
	{"AddToken", func(ctx context.Context, st *sqlstore.Store) error {
		return st.AddToken(ctx, nextTokens("f1", randomName("a"))[0], t0)
	}},
	{"Grant", func(ctx context.Context, st *sqlstore.Store) error {
		_, err := st.Grant(ctx, store.HashToken("access f1"), store.AccessToken, t0)
		return err
	}},
	{"RotateRefresh", func(ctx context.Context, st *sqlstore.Store) error {
		id := randomName("f")
		_, err := st.CreateFamily(ctx, store.Family{ID: id, UserID: "u1", Method: "password", ExpiresAt: t0.Add(time.Hour)}, 0, nextTokens(id, id)...)
		if err == nil {
			_, err = st.RotateRefresh(ctx, store.HashToken("refresh "+id), t0)
		}
		return err
	}},
	{"RevokeFamily", func(ctx context.Context, st *sqlstore.Store) error { return st.RevokeFamily(ctx, "f9") }},
	{"RevokeUser", func(ctx context.Context, st *sqlstore.Store) error { return st.RevokeUser(ctx, "u9") }},
	{"CreateFlow", func(ctx context.Context, st *sqlstore.Store) error {
		return st.CreateFlow(ctx, store.Flow{Hash: store.HashToken(randomName("flow")), ExpiresAt: t0.Add(time.Hour)})
	}},
	{"Flow", func(ctx context.Context, st *sqlstore.Store) error {
		_, err := st.Flow(ctx, store.HashToken("flow"), t0)
		return err
	}},
	{"UpdateFlow", func(ctx context.Context, st *sqlstore.Store) error {
		f, err := st.Flow(ctx, store.HashToken("flow"), t0)
		if err == nil {
			err = st.UpdateFlow(ctx, f, t0)
		}
		return err
	}},
	{"ConsumeFlow", func(ctx context.Context, st *sqlstore.Store) error {
		h := store.HashToken(randomName("flow"))
		err := st.CreateFlow(ctx, store.Flow{Hash: h, Purpose: store.FlowMicrosoft, ExpiresAt: t0.Add(time.Hour)})
		if err == nil {
			_, err = st.ConsumeFlow(ctx, h, store.FlowMicrosoft, t0)
		}
		return err
	}},
	{"Counter", func(ctx context.Context, st *sqlstore.Store) error { _, err := st.Counter(ctx, "k", t0); return err }},
	{"PutCounter", func(ctx context.Context, st *sqlstore.Store) error {
		return st.PutCounter(ctx, store.Counter{Key: randomName("k"), ExpiresAt: t0.Add(time.Hour)}, t0)
	}},
	{"DeleteCounter", func(ctx context.Context, st *sqlstore.Store) error { return st.DeleteCounter(ctx, "k9") }},
	{"LinkIdentity", func(ctx context.Context, st *sqlstore.Store) error {
		return st.LinkIdentity(ctx, store.Identity{TenantID: randomName("t"), Issuer: "iss", Subject: "sub", UserID: "u1"})
	}},
	{"IdentityUser", func(ctx context.Context, st *sqlstore.Store) error {
		_, err := st.IdentityUser(ctx, "t1", "iss", "sub")
		return err
	}},
	{"RekeyIdentity", func(ctx context.Context, st *sqlstore.Store) error {
		return st.RekeyIdentity(ctx, store.Identity{TenantID: "t1", Issuer: "iss", Subject: "sub", UserID: "u1"}, "sub")
	}},
	{"DeleteExpired", func(ctx context.Context, st *sqlstore.Store) error { _, err := st.DeleteExpired(ctx, t0); return err }},
}

// setUpCalls stores the records that calls use.
func setUpCalls(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	ctx := context.Background()
	if err := st.CreateTenant(ctx, store.Tenant{ID: "t1", Domain: "acme.example.test"}); err != nil {
		t.Fatal(err)
	}
	addUser(t, st, "u1")
	addUser(t, st, "u2")
	signIn(t, st, "u1", "f1")
	if err := st.CreateFlow(ctx, store.Flow{Hash: store.HashToken("flow"), ExpiresAt: t0.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := st.LinkIdentity(ctx, store.Identity{TenantID: "t1", Issuer: "iss", Subject: "sub", UserID: "u1"}); err != nil {
		t.Fatal(err)
	}
}

// wantCalls runs every call; up says whether they must succeed, or fail
// with a backend error.
func wantCalls(t *testing.T, st *sqlstore.Store, up bool) {
	t.Helper()
	ctx := context.Background()
	for _, c := range calls {
		err := c.fn(ctx, st)
		switch {
		case up && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case !up && err == nil:
			t.Errorf("%s succeeded without a database", c.name)
		case !up && (errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrTokenReused)):
			t.Errorf("%s without a database: %v; want a backend error, not a sentinel", c.name, err)
		case !up && !errors.Is(err, store.ErrUnavailable):
			t.Errorf("%s without a database: %v; want it to wrap ErrUnavailable", c.name, err)
		}
	}
}

// TestClosedDB closes the host's *sql.DB under a Store.
func TestClosedDB(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		driver, dialect, dsn := "pgx", sqlstore.Postgres, b.fresh(t)
		if path, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
			driver, dialect, dsn = "sqlite", sqlstore.SQLite, sqlite.DSN(path)
		}
		db, err := sql.Open(driver, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		st, err := sqlstore.New(context.Background(), db, dialect)
		if err != nil {
			t.Fatal(err)
		}
		setUpCalls(t, st)
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		if err := db.Ping(); err != nil {
			t.Fatalf("Close closed the host's *sql.DB: %v", err)
		}

		st, err = sqlstore.New(context.Background(), db, dialect)
		if err != nil {
			t.Fatal(err)
		}
		wantCalls(t, st, true)
		db.Close()
		wantCalls(t, st, false)
	})
}

// TestPostgresOutage cuts a Store off from PostgreSQL and lets it back.
func TestPostgresOutage(t *testing.T) {
	pg := cuttablePostgres(t)
	st := open(t, pg.dsn)
	setUpCalls(t, st)
	wantCalls(t, st, true)

	pg.cut()
	wantCalls(t, st, false)
	// Every connection the Store had is found dead by now: the calls
	// outnumber them.
	if n := st.DB().Stats().OpenConnections; n != 0 {
		t.Errorf("%d connections still open while PostgreSQL refuses the role", n)
	}

	pg.restore()
	wantCalls(t, st, true)
}
