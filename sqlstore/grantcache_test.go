// This file checks the grant cache (Options.GrantCache) from outside: two
// instances on one PostgreSQL database, each with its own cached Store,
// driven over HTTP. What one instance changes, the other must refuse or
// show within a second; with the notification connection lost the cache
// must be bypassed, and start empty when it is back.

package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/sqlstore"
	"github.com/pbxauth/pbxauth/store"
)

// staleBound is how long after a change answered on one instance the other
// may still show the old state: the notification delay, bounded by the
// listener's heartbeat window.
const staleBound = time.Second

// cachedPair opens two cached stores on one fresh PostgreSQL database,
// seeds bob, and serves an instance over each.
func cachedPair(t *testing.T, configure ...func(*pbxauth.Config)) (a, b *apitest.Client, stA, stB *sqlstore.Store) {
	t.Helper()
	dsn := freshPostgres(t)
	stA, stB = openWith(t, dsn, cached), openWith(t, dsn, cached)
	seedBob(t, stA)
	return instance(t, stA, configure...), instance(t, stB, configure...), stA, stB
}

// userOf is GET /auth/user with the access token.
func userOf(c *apitest.Client, access string) *apitest.Response {
	return c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...)
}

// wantServedFromCache asks GET /auth/user on c until st's cache serves one
// (it may not in the instant the listener's heartbeat is late), failing on
// any answer but 200.
func wantServedFromCache(t *testing.T, c *apitest.Client, st *sqlstore.Store, access string) {
	t.Helper()
	untilServedFromCache(t, st, func() {
		if r := userOf(c, access); r.Status != 200 {
			t.Fatalf("GET /auth/user: %d %s", r.Status, r.Body)
		}
	})
}

// untilServedFromCache calls ask until st's cache has served a grant
// meanwhile, failing after a few seconds.
func untilServedFromCache(t *testing.T, st *sqlstore.Store, ask func()) {
	t.Helper()
	before := st.GrantCacheStats().Hits
	for deadline := time.Now().Add(5 * time.Second); ; {
		ask()
		if st.GrantCacheStats().Hits > before {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no grant served from the cache in 5 s: %+v", st.GrantCacheStats())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wantWithin asks GET /auth/user on c until done accepts the answer,
// failing if it still does not staleBound after since.
func wantWithin(t *testing.T, c *apitest.Client, access string, since time.Time, what string, done func(*apitest.Response) bool) {
	t.Helper()
	for {
		r := userOf(c, access)
		if done(r) {
			return
		}
		if time.Since(since) > staleBound {
			t.Fatalf("%s: still %d %s %v after the change answered", what, r.Status, r.Body, time.Since(since).Round(time.Millisecond))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func refused(r *apitest.Response) bool { return r.Status == 401 }

// waitLive polls st's cache until it is live or not, as want says, failing
// after a few seconds.
func waitLive(t *testing.T, st *sqlstore.Store, want bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); st.GrantCacheStats().Live != want; {
		if time.Now().After(deadline) {
			t.Fatalf("the grant cache is not live=%v after 5 s: %+v", want, st.GrantCacheStats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestGrantCacheSeesOtherInstances: B serves bob's token from its cache;
// each change made through A (or by SQL of the host's own) reaches B
// within the bound.
func TestGrantCacheSeesOtherInstances(t *testing.T) {
	ctx := context.Background()
	newHash, err := cheapHash("another-pw-5678")
	if err != nil {
		t.Fatal(err)
	}
	exec := func(t *testing.T, db *sql.DB, q string) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, a *apitest.Client, stA *sqlstore.Store, access string)
		done   func(*apitest.Response) bool // default: refused
	}{
		{"sign out", func(t *testing.T, a *apitest.Client, _ *sqlstore.Store, access string) {
			if r := a.Do("POST", "/auth/sign_out", nil, apitest.Bearer(access)...); r.Status != 200 {
				t.Fatalf("sign_out on A: %d %s", r.Status, r.Body)
			}
		}, nil},
		{"sign out everywhere", func(t *testing.T, a *apitest.Client, _ *sqlstore.Store, access string) {
			if r := a.Do("POST", "/auth/sign_out?scope=global", nil, apitest.Bearer(access)...); r.Status != 200 {
				t.Fatalf("sign_out?scope=global on A: %d %s", r.Status, r.Body)
			}
		}, nil},
		{"user disabled", func(t *testing.T, _ *apitest.Client, stA *sqlstore.Store, _ string) {
			// The flag alone, without ending the sign-ins as DisableUser
			// does: the users' trigger must carry it.
			if err := stA.SetUserDisabled(ctx, "bob", true); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"password reset", func(t *testing.T, _ *apitest.Client, stA *sqlstore.Store, _ string) {
			if err := stA.ResetPassword(ctx, "bob", newHash, false); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"role changed", func(t *testing.T, _ *apitest.Client, stA *sqlstore.Store, _ string) {
			u, err := stA.User(ctx, "bob")
			if err != nil {
				t.Fatal(err)
			}
			u.Role = pbxauth.RoleQueueManager
			if err := stA.UpdateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}, func(r *apitest.Response) bool { return r.Status == 200 && r.String("role") == pbxauth.RoleQueueManager }},
		{"host SQL disables the user", func(t *testing.T, _ *apitest.Client, stA *sqlstore.Store, _ string) {
			exec(t, stA.DB(), `UPDATE pbxauth_users SET disabled = TRUE WHERE id = 'bob'`)
		}, nil},
		{"host SQL deletes the sign-in", func(t *testing.T, _ *apitest.Client, stA *sqlstore.Store, _ string) {
			exec(t, stA.DB(), `DELETE FROM pbxauth_families`)
		}, nil},
		{"host SQL empties the users", func(t *testing.T, _ *apitest.Client, stA *sqlstore.Store, _ string) {
			exec(t, stA.DB(), `TRUNCATE pbxauth_users`)
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			a, b, stA, stB := cachedPair(t)
			access, _ := signInBob(t, a)
			wantServedFromCache(t, b, stB, access)
			tc.change(t, a, stA, access)
			answered := time.Now()
			done := tc.done
			if done == nil {
				done = refused
			}
			wantWithin(t, b, access, answered, tc.name+" on A, then B", done)
			wantWithin(t, a, access, answered, tc.name+" on A, then A", done)
		})
	}
}

// killListener ends st's grant listener's backend, and only that one:
// other tests, of this package and others, share the server.
func killListener(t *testing.T, st *sqlstore.Store) {
	t.Helper()
	pid := sqlstore.GrantListenerPID(st)
	if pid == 0 {
		t.Fatal("the grant listener has no backend")
	}
	var killed bool
	err := admin(t).QueryRow(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE pid = $1 AND application_name = $2 AND datname = current_database()`, int64(pid), sqlstore.ListenerName).Scan(&killed)
	if err != nil || !killed {
		t.Fatalf("terminate the grant listener's backend %d: %v, %v", pid, killed, err)
	}
}

// TestGrantCacheListenerLost: with B's notification connection killed, a
// sign-out on A reaches B nonetheless (B notices the loss and asks the
// database), and B still refuses the token once it listens again (it came
// back empty); then the cache serves and hears again.
func TestGrantCacheListenerLost(t *testing.T) {
	a, b, _, stB := cachedPair(t)
	access, _ := signInBob(t, a)
	wantServedFromCache(t, b, stB, access)

	release := sqlstore.HoldGrantListener(stB) // B cannot listen again until released
	killListener(t, stB)
	if r := a.Do("POST", "/auth/sign_out", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("sign_out on A: %d %s", r.Status, r.Body)
	}
	wantWithin(t, b, access, time.Now(), "sign-out on A while B's listener is down", refused)
	release()
	waitLive(t, stB, true)
	if r := userOf(b, access); r.Status != 401 {
		t.Fatalf("the signed-out token on B after its listener is back: %d; a cache kept across the loss served it", r.Status)
	}

	access, _ = signInBob(t, a)
	wantServedFromCache(t, b, stB, access)
	if r := a.Do("POST", "/auth/sign_out", nil, apitest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("sign_out on A: %d %s", r.Status, r.Body)
	}
	wantWithin(t, b, access, time.Now(), "sign-out on A after B's listener is back", refused)
}

// TestGrantCacheBypassedWhileDown: while the notification connection is
// down, every check is a database read and none is served from memory.
func TestGrantCacheBypassedWhileDown(t *testing.T) {
	a, b, _, stB := cachedPair(t)
	access, _ := signInBob(t, a)
	wantServedFromCache(t, b, stB, access)

	release := sqlstore.HoldGrantListener(stB)
	defer release()
	killListener(t, stB)
	waitLive(t, stB, false)
	if s := stB.GrantCacheStats(); s.Entries != 0 {
		t.Errorf("the cache down holds %d grants; want it emptied", s.Entries)
	}
	before := stB.GrantCacheStats()
	const n = 20
	for range n {
		if r := userOf(b, access); r.Status != 200 {
			t.Fatalf("GET /auth/user on B while its listener is down: %d %s", r.Status, r.Body)
		}
	}
	after := stB.GrantCacheStats()
	if after.Hits != before.Hits || after.Misses-before.Misses != n || after.Entries != 0 || after.Live {
		t.Errorf("%d checks while down: before %+v, after %+v; want every one a miss, nothing cached", n, before, after)
	}

	release()
	waitLive(t, stB, true)
	wantServedFromCache(t, b, stB, access)
}

// TestGrantCacheTouch: the sign-in's last use is written about once a
// minute, not on every request once the cached grant's time is a minute
// old, also when another instance wrote it first.
func TestGrantCacheTouch(t *testing.T) {
	var elapsed atomic.Int64 // since t0, on both instances' clock
	clock := func() time.Time { return t0.Add(time.Duration(elapsed.Load())) }

	dsn := freshPostgres(t)
	stA, stB := openWith(t, dsn, cached), openWith(t, dsn, cached)
	seedBob(t, stA)
	touchesA, touchesB := &touchCounter{Store: stA}, &touchCounter{Store: stB}
	withClock := func(c *pbxauth.Config) { c.Now = clock }
	a, b := instance(t, touchesA, withClock), instance(t, touchesB, withClock)
	access, _ := signInBob(t, a)
	wantServedFromCache(t, a, stA, access)
	wantServedFromCache(t, b, stB, access)

	elapsed.Store(int64(61 * time.Second))
	for _, c := range []*apitest.Client{a, b, a, b, a, b} {
		if r := userOf(c, access); r.Status != 200 {
			t.Fatalf("GET /auth/user a minute on: %d %s", r.Status, r.Body)
		}
	}
	// A wrote; B found the time fresh and wrote nothing; each once.
	if ta, tb := touchesA.n.Load(), touchesB.n.Load(); ta != 1 || tb != 1 {
		t.Errorf("TouchFamily calls a minute on: A %d, B %d; want 1 each", ta, tb)
	}
	if s := stB.GrantCacheStats(); s.Hits < 2 {
		t.Errorf("B after the touch: %+v; want its grants served from the cache", s)
	}
}

// touchCounter counts a Store's TouchFamily calls.
type touchCounter struct {
	*sqlstore.Store
	n atomic.Int64
}

func (s *touchCounter) TouchFamily(ctx context.Context, familyID string, now, staleBefore time.Time) error {
	s.n.Add(1)
	return s.Store.TouchFamily(ctx, familyID, now, staleBefore)
}

// TestGrantCacheOpen: SQLite refuses the cache; a host's own *sql.DB gets
// one through NewWith; a Store without it reports zero stats.
func TestGrantCacheOpen(t *testing.T) {
	ctx := context.Background()
	_, err := openDSN(ctx, freshSQLite(t), cached)
	if err == nil || !strings.Contains(err.Error(), "GrantCache needs PostgreSQL") {
		t.Errorf("OpenWith on SQLite with the grant cache: %v; want it refused", err)
	}

	dsn := freshPostgres(t)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1) // the listener must not need a connection of the pool
	st, err := sqlstore.NewWith(ctx, db, sqlstore.Postgres, cached)
	if err != nil {
		t.Fatal(err)
	}
	seedBob(t, st)
	c := instance(t, st)
	access, _ := signInBob(t, c)
	wantServedFromCache(t, c, st, access)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if sqlstore.GrantListenerPID(st) != 0 {
		t.Error("the listener is still connected after Close")
	}
	if err := db.Ping(); err != nil {
		t.Errorf("Close closed the host's *sql.DB: %v", err)
	}
	if s := open(t, dsn).GrantCacheStats(); s != (sqlstore.GrantCacheStats{}) {
		t.Errorf("GrantCacheStats without the cache = %+v; want zero", s)
	}
}

// TestGrantCacheOwnWrites: what a cached Store changes itself, it answers
// at once, without waiting for the notification of its change (which the
// listener is made to ignore, so that the notification cannot make the
// test pass in the Store's place).
func TestGrantCacheOwnWrites(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		change func(st *sqlstore.Store) error
		check  func(g store.Grant, err error) bool
	}{
		{"RevokeFamily", func(st *sqlstore.Store) error { return st.RevokeFamily(ctx, "f1") }, nil},
		{"RevokeUser", func(st *sqlstore.Store) error { return st.RevokeUser(ctx, "u1") }, nil},
		{"RevokeUserFamily", func(st *sqlstore.Store) error { return st.RevokeUserFamily(ctx, "u1", "f1", t0) }, nil},
		{"RevokeOtherFamilies", func(st *sqlstore.Store) error {
			_, err := st.RevokeOtherFamilies(ctx, "u1", "f-other", t0)
			return err
		}, nil},
		{"SetUserDisabled", func(st *sqlstore.Store) error { return st.SetUserDisabled(ctx, "u1", true) }, nil},
		{"ResetPassword", func(st *sqlstore.Store) error { return st.ResetPassword(ctx, "u1", "$argon2id$new", false) }, nil},
		{"UpdateUser", func(st *sqlstore.Store) error {
			u, err := st.User(ctx, "u1")
			if err == nil {
				u.Role = "Admin"
				err = st.UpdateUser(ctx, u)
			}
			return err
		}, func(g store.Grant, err error) bool { return err == nil && g.User.Role == "Admin" }},
		{"SwapPasswordHash", func(st *sqlstore.Store) error {
			return st.SwapPasswordHash(ctx, "u1", "$argon2id$u1", "$argon2id$newer")
		}, func(g store.Grant, err error) bool { return err == nil && g.User.PasswordHash == "$argon2id$newer" }},
		{"SetPasswordForceReset", func(st *sqlstore.Store) error { return st.SetPasswordForceReset(ctx, "u1", true) },
			func(g store.Grant, err error) bool { return err == nil && g.User.PasswordForceReset }},
		{"TouchFamily", func(st *sqlstore.Store) error { return st.TouchFamily(ctx, "f1", t0.Add(time.Hour), t0) },
			func(g store.Grant, err error) bool {
				return err == nil && g.Family.LastUsedAt.Equal(t0.Add(time.Hour))
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			st := openWith(t, freshPostgres(t), cached)
			addUser(t, st, "u1")
			_, access, _ := signIn(t, st, "u1", "f1")
			sqlstore.IgnoreGrantNotifications(st)
			untilServedFromCache(t, st, func() {
				if _, err := st.Grant(ctx, access, store.AccessToken, t0); err != nil {
					t.Fatal(err)
				}
			})
			if err := tc.change(st); err != nil {
				t.Fatal(err)
			}
			g, err := st.Grant(ctx, access, store.AccessToken, t0)
			if check := tc.check; check == nil && !errors.Is(err, store.ErrNotFound) || check != nil && !check(g, err) {
				t.Errorf("Grant right after %s: %v; family %+v, user %+v", tc.name, err, g.Family, g.User)
			}
		})
	}
}
