package pbxauth_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// device is one of alice's sign-ins as a client holds it.
type device struct {
	access, refresh string
	c               *apitest.Client // a browser's client, for cookie sign-ins
}

// signInAs signs alice in over POST /auth/sign_in with the given User-Agent.
func (e *env) signInAs(t testing.TB, agent string) device {
	t.Helper()
	r := e.c.Do("POST", "/auth/sign_in", aliceCreds(), "User-Agent", agent)
	if r.Status != 200 {
		t.Fatalf("sign_in as %q: %d %s", agent, r.Status, r.Body)
	}
	return device{access: r.String("access_token"), refresh: r.String("refresh_token")}
}

// browser signs alice in over POST /login in a browser of its own.
func (e *env) browser(t testing.TB) device {
	t.Helper()
	c := apitest.NewClient(t, e.c.URL)
	r := c.Do("POST", "/login", aliceCreds(), "User-Agent", "Browser/1.0")
	if r.Status != 200 {
		t.Fatalf("POST /login: %d %s", r.Status, r.Body)
	}
	return device{access: r.String("access_token"), c: c}
}

// sessions lists the sign-ins with GET /auth/sessions as the holder of access.
func (e *env) sessions(t testing.TB, access string) []map[string]any {
	t.Helper()
	r := e.c.Do("GET", "/auth/sessions", nil, apitest.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("GET /auth/sessions: %d %s", r.Status, r.Body)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /auth/sessions: Cache-Control %q, want no-store", cc)
	}
	var list []map[string]any
	for _, s := range r.JSON()["sessions"].([]any) {
		list = append(list, s.(map[string]any))
	}
	return list
}

// id returns the session id of the sign-in whose access token is access.
func (e *env) id(t testing.TB, access string) string {
	t.Helper()
	for _, s := range e.sessions(t, access) {
		if s["current"] == true {
			return s["id"].(string)
		}
	}
	t.Fatal("no current session listed")
	return ""
}

// wantUsable checks that every token of d works, or that none does.
func (e *env) wantUsable(t testing.TB, d device, usable bool, what string) {
	t.Helper()
	want, wantLogin := 401, 401
	if usable {
		want, wantLogin = 200, 200
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(d.access)...); r.Status != want {
		t.Errorf("%s: access token: %d, want %d", what, r.Status, want)
	}
	if d.refresh != "" && !usable {
		// A refused refresh changes nothing; a usable one is not spent
		// here, so the device stays as it was.
		if r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": d.refresh}); r.Status != 401 {
			t.Errorf("%s: refresh token: %d, want 401", what, r.Status)
		}
	}
	if d.c != nil {
		if r := d.c.Do("GET", "/login", nil); r.Status != wantLogin {
			t.Errorf("%s: cookie session: %d, want %d", what, r.Status, wantLogin)
		}
	}
}

func TestSessionsList(t *testing.T) {
	e := newEnv(t, plainHTTP)
	t0 := e.clock.Now()
	phone := e.signInAs(t, "Phone\tApp\u0085\u202e/2.0")
	e.clock.Advance(time.Second)
	web := e.browser(t)
	e.clock.Advance(time.Second)
	long := make([]byte, 0, 400)
	for len(long) < 400 {
		long = append(long, "ü"...)
	}
	desk := e.signInAs(t, string(long))
	e.clock.Advance(time.Second)
	gone := e.signInAs(t, "Gone/1")
	if r := e.c.Do("POST", "/auth/sign_out", nil, apitest.Bearer(gone.access)...); r.Status != 200 {
		t.Fatalf("sign_out: %d", r.Status)
	}
	// Another user's sign-in is never listed.
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": adminPW}); r.Status != 200 {
		t.Fatalf("admin sign_in: %d", r.Status)
	}

	list := e.sessions(t, web.access)
	if len(list) != 3 {
		t.Fatalf("listed %d sessions, want 3: %v", len(list), list)
	}
	cut := string(long[:256])
	for i, want := range []struct {
		agent   string
		created time.Time
		current bool
		life    time.Duration
	}{
		{cut, t0.Add(2 * time.Second), false, 30 * 24 * time.Hour},
		// Only the browser session holds a POST /login sign-in: it ends with it.
		{"Browser/1.0", t0.Add(time.Second), true, pbxauth.DefaultSessionLifetime},
		{"PhoneApp/2.0", t0, false, 30 * 24 * time.Hour},
	} {
		s := list[i]
		if s["user_agent"] != want.agent || s["current"] != want.current || s["method"] != "password" ||
			s["client_ip"] != "127.0.0.1" || s["created_at"] != want.created.Format(time.RFC3339) ||
			s["last_used_at"] != want.created.Format(time.RFC3339) ||
			s["expires_at"] != want.created.Add(want.life).Format(time.RFC3339) || s["id"] == "" {
			t.Errorf("session %d: %v, want agent %q created %v current %v", i, s, want.agent, want.created, want.current)
		}
	}
	if got := e.sessions(t, phone.access); got[2]["current"] != true || got[1]["current"] != false {
		t.Errorf("listed by the phone: %v", got)
	}
	if got := e.sessions(t, desk.access); got[0]["current"] != true {
		t.Errorf("listed by the desktop: %v", got)
	}
	if r := e.c.Do("GET", "/auth/sessions", nil); r.Status != 401 {
		t.Errorf("GET /auth/sessions without a token: %d", r.Status)
	}
	if r := e.c.Do("GET", "/auth/sessions", nil, apitest.Bearer(phone.refresh)...); r.Status != 401 {
		t.Errorf("GET /auth/sessions with a refresh token: %d", r.Status)
	}
}

func TestSessionsExpiredNotListed(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.SignInTTL = 2 * time.Hour })
	old := e.signInAs(t, "Old/1")
	oldID := e.id(t, old.access)
	e.clock.Advance(90 * time.Minute)
	cur := e.signInAs(t, "New/1")
	e.clock.Advance(31 * time.Minute) // old's sign-in ended; cur's access token too
	r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": cur.refresh})
	if r.Status != 200 {
		t.Fatalf("refresh: %d %s", r.Status, r.Body)
	}
	cur.access = r.String("access_token")
	list := e.sessions(t, cur.access)
	if len(list) != 1 || list[0]["current"] != true {
		t.Fatalf("after one sign-in ended: %v", list)
	}
	if r := e.c.Do("DELETE", "/auth/sessions/"+oldID, nil, apitest.Bearer(cur.access)...); r.Status != 404 || r.Code() != pbxauth.CodeNotFound {
		t.Errorf("DELETE of an expired session: %d %s", r.Status, r.Body)
	}
}

// countingStore counts the writes of sign-ins' last use.
type countingStore struct {
	store.Store
	touches atomic.Int64
}

func (s *countingStore) TouchFamily(ctx context.Context, id string, now, stale time.Time) error {
	s.touches.Add(1)
	return s.Store.TouchFamily(ctx, id, now, stale)
}

func TestSessionsLastUsedOncePerMinute(t *testing.T) {
	st := &countingStore{Store: memstore.New()}
	seed(t, st)
	e := newEnvWith(t, st, plainHTTP, volatileMail)
	t0 := e.clock.Now()
	lister := e.signInAs(t, "Lister/1")
	d := e.signInAs(t, "Device/1")
	lastUsed := func() string {
		t.Helper()
		for _, s := range e.sessions(t, lister.access) {
			if s["user_agent"] == "Device/1" {
				return s["last_used_at"].(string)
			}
		}
		t.Fatal("device not listed")
		return ""
	}
	user := func(n int) {
		t.Helper()
		var wg sync.WaitGroup
		for range n {
			wg.Go(func() {
				if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(d.access)...); r.Status != 200 {
					t.Errorf("GET /auth/user: %d", r.Status)
				}
			})
		}
		wg.Wait()
	}
	e.clock.Advance(30 * time.Second)
	user(20)
	if n := st.touches.Load(); n != 0 {
		t.Errorf("20 requests within the minute of signing in wrote the last use %d times, want 0", n)
	}
	if got := lastUsed(); got != t0.Format(time.RFC3339) {
		t.Errorf("last_used_at within the minute: %s, want %s", got, t0.Format(time.RFC3339))
	}
	e.clock.Advance(45 * time.Second)
	before := st.touches.Load()
	user(1)
	if got, want := lastUsed(), t0.Add(75*time.Second).Format(time.RFC3339); got != want {
		t.Errorf("last_used_at after a minute: %s, want %s", got, want)
	}
	user(10)
	// The lister's own requests touch the lister's sign-in (once, when it
	// was a minute old); the device's 10 later requests touch nothing.
	if n := st.touches.Load() - before; n != 2 {
		t.Errorf("requests a minute after signing in wrote the last use %d times, want 2 (device, lister)", n)
	}
	// A refresh is a use too.
	e.clock.Advance(2 * time.Minute)
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": d.refresh}); r.Status != 200 {
		t.Fatalf("refresh: %d", r.Status)
	}
	if got, want := lastUsed(), t0.Add(195*time.Second).Format(time.RFC3339); got != want {
		t.Errorf("last_used_at after a refresh: %s, want %s", got, want)
	}
}

func TestSessionsDelete(t *testing.T) {
	ev := &events{}
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	me := e.signInAs(t, "Me/1")
	other := e.signInAs(t, "Other/1")
	web := e.browser(t)
	otherID, webID := e.id(t, other.access), e.id(t, web.access)
	r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "alice", "password": "other-pw-123", "domain": "other.example.test"})
	if r.Status != 200 {
		t.Fatalf("sign_in of the other alice: %d", r.Status)
	}
	stranger := device{access: r.String("access_token"), refresh: r.String("refresh_token")}
	strangerID := e.id(t, stranger.access)

	del := func(id, access string) *apitest.Response {
		return e.c.Do("DELETE", "/auth/sessions/"+id, nil, apitest.Bearer(access)...)
	}
	for _, id := range []string{otherID, webID} {
		if r := del(id, me.access); r.Status != 204 || len(r.Body) != 0 {
			t.Fatalf("DELETE own other session: %d %s", r.Status, r.Body)
		}
	}
	// Every token of each ended sign-in and its cookie session are refused at once.
	e.wantUsable(t, other, false, "the deleted session")
	e.wantUsable(t, web, false, "the deleted cookie session")
	e.wantUsable(t, me, true, "the caller")
	for _, c := range []struct{ name, id string }{
		{"another user's session", strangerID},
		{"an unknown id", "no-such-session"},
		{"a revoked id", otherID},
		{"an overlong id", strings.Repeat("x", 200)},
	} {
		if r := del(c.id, me.access); r.Status != 404 || r.Code() != pbxauth.CodeNotFound {
			t.Errorf("DELETE of %s: %d %s", c.name, r.Status, r.Body)
		}
	}
	e.wantUsable(t, stranger, true, "another user's session after a DELETE of it")
	if r := del(otherID, ""); r.Status != 401 {
		t.Errorf("DELETE without a token: %d", r.Status)
	}
	if r := e.c.Do("GET", "/auth/sessions/"+otherID, nil, apitest.Bearer(me.access)...); r.Status != 405 {
		t.Errorf("GET /auth/sessions/{id}: %d", r.Status)
	}
	// Ending one's own current sign-in is a sign-out.
	if r := del(e.id(t, me.access), me.access); r.Status != 204 {
		t.Fatalf("DELETE of the current session: %d %s", r.Status, r.Body)
	}
	e.wantUsable(t, me, false, "the caller after deleting its own session")
	var got []string
	for _, x := range ev.list {
		if x.Kind == pbxauth.EventSessionRevoked || x.Kind == pbxauth.EventSignOut {
			got = append(got, fmt.Sprintf("%s %s %v", x.Kind, x.UserID, x.SessionID == otherID || x.SessionID == webID))
		}
	}
	want := []string{"session_revoked user-alice true", "session_revoked user-alice true", "sign_out user-alice false"}
	if !slices.Equal(got, want) {
		t.Errorf("events %q, want %q", got, want)
	}
}

func TestSessionsDeleteRace(t *testing.T) {
	e := newEnv(t)
	me, victim := e.signInAs(t, "Me/1"), e.signInAs(t, "Victim/1")
	id := e.id(t, victim.access)
	got := apitest.Race(40, func(int) *apitest.Response {
		return e.c.Do("DELETE", "/auth/sessions/"+id, nil, apitest.Bearer(me.access)...)
	})
	if got[204] != 1 || got[404] != 39 {
		t.Errorf("40 concurrent DELETEs of one session: %v, want 1 × 204 and 39 × 404", got)
	}
}

func TestSignOutScopes(t *testing.T) {
	ev := &events{}
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	admin := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": adminPW})
	adminDev := device{access: admin.String("access_token"), refresh: admin.String("refresh_token")}

	me := e.signInAs(t, "Me/1")
	phone, web := e.signInAs(t, "Phone/1"), e.browser(t)
	for _, scope := range []string{"everything", "", "Others", "others&scope=global"} {
		r := e.c.Do("POST", "/auth/sign_out?scope="+scope, nil, apitest.Bearer(me.access)...)
		if r.Status != 400 || r.Code() != pbxauth.CodeInvalidArgument {
			t.Errorf("sign_out?scope=%s: %d %s", scope, r.Status, r.Body)
		}
	}
	e.wantUsable(t, phone, true, "after refused scopes")

	if r := e.c.Do("POST", "/auth/sign_out?scope=others", nil, apitest.Bearer(me.access)...); r.Status != 200 {
		t.Fatalf("sign_out?scope=others: %d %s", r.Status, r.Body)
	}
	e.wantUsable(t, phone, false, "another device after scope=others")
	e.wantUsable(t, web, false, "a browser after scope=others")
	e.wantUsable(t, me, true, "the caller after scope=others")
	if n := len(e.sessions(t, me.access)); n != 1 {
		t.Errorf("after scope=others %d sessions listed, want 1", n)
	}
	if n := countKind(ev, pbxauth.EventSessionRevoked); n != 2 {
		t.Errorf("scope=others reported %d session_revoked, want 2", n)
	}

	phone, web = e.signInAs(t, "Phone/2"), e.browser(t)
	if r := e.c.Do("POST", "/auth/sign_out?scope=global", nil, apitest.Bearer(me.access)...); r.Status != 200 {
		t.Fatalf("sign_out?scope=global: %d %s", r.Status, r.Body)
	}
	for name, d := range map[string]device{"caller": me, "phone": phone, "browser": web} {
		e.wantUsable(t, d, false, name+" after scope=global")
	}
	e.wantUsable(t, adminDev, true, "another user after scope=global")
	if n, s := countKind(ev, pbxauth.EventSessionRevoked), countKind(ev, pbxauth.EventSignOut); n != 4 || s != 1 {
		t.Errorf("after scope=global: %d session_revoked and %d sign_out, want 4 and 1", n, s)
	}
	// Without a scope, as before: the caller's sign-in alone.
	a, b := e.signInAs(t, "A/1"), e.signInAs(t, "B/1")
	if r := e.c.Do("POST", "/auth/sign_out", nil, apitest.Bearer(a.access)...); r.Status != 200 {
		t.Fatalf("sign_out: %d", r.Status)
	}
	e.wantUsable(t, a, false, "the caller after a plain sign_out")
	e.wantUsable(t, b, true, "another device after a plain sign_out")
}

func countKind(ev *events, k pbxauth.EventKind) int {
	n := 0
	for _, got := range ev.kinds() {
		if got == k {
			n++
		}
	}
	return n
}

// TestSessionsCookieOnlyEndsWithItsSession: a POST /login sign-in, whose
// refresh token no client ever sees, ends with its browser session's
// lifetime instead of being listed for a month.
func TestSessionsCookieOnlyEndsWithItsSession(t *testing.T) {
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.SessionLifetime, c.SessionIdleTimeout = 3*time.Hour, 3*time.Hour })
	web := e.browser(t)
	t0 := e.clock.Now()
	list := e.sessions(t, web.access)
	if len(list) != 1 || list[0]["expires_at"] != t0.Add(3*time.Hour).Format(time.RFC3339) {
		t.Fatalf("a cookie sign-in: %v, want it to end with its session at %s", list, t0.Add(3*time.Hour).Format(time.RFC3339))
	}
	e.clock.Advance(3 * time.Hour)
	phone := e.signInAs(t, "Phone/1")
	if list := e.sessions(t, phone.access); len(list) != 1 || list[0]["current"] != true {
		t.Errorf("after the browser session's lifetime: %v, want only the phone", list)
	}
}

// brokenTouch fails every write of a sign-in's last use.
type brokenTouch struct{ store.Store }

func (brokenTouch) TouchFamily(context.Context, string, time.Time, time.Time) error {
	return errors.New("disk full")
}

// TestSessionsTouchFailureGrantsAnyway: the request was granted; failing to
// note when is logged, not answered.
func TestSessionsTouchFailureGrantsAnyway(t *testing.T) {
	st := memstore.New()
	seed(t, st)
	e := newEnvWith(t, brokenTouch{st}, volatileMail)
	d := e.signInAs(t, "Phone/1")
	e.clock.Advance(2 * time.Minute)
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(d.access)...); r.Status != 200 {
		t.Errorf("GET /auth/user when the last use cannot be written: %d %s", r.Status, r.Body)
	}
}
