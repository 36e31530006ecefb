package pbxauth_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// plainHTTP lets the test client (plain HTTP) keep and send the cookie.
func plainHTTP(c *pbxauth.Config) { c.InsecureCookies = true }

// sessionCookie returns the session cookie an answer sets, or nil.
func sessionCookie(t testing.TB, r *apitest.Response) *http.Cookie {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if strings.HasSuffix(c.Name, pbxauth.SessionCookieName) {
			return c
		}
	}
	return nil
}

// login POSTs alice's credentials to /login and checks the answer.
func (e *env) login(t testing.TB, c *apitest.Client, creds map[string]any) *apitest.Response {
	t.Helper()
	r := c.Do("POST", "/login", creds)
	if r.Status != 200 || r.String("access_token") == "" {
		t.Fatalf("POST /login: %d %s", r.Status, r.Body)
	}
	return r
}

// plant puts a session cookie in c's jar, as an attacker would in a victim's browser.
func plant(t testing.TB, c *apitest.Client, value string) {
	c.HTTP.Jar.SetCookies(mustURL(t, c.URL), []*http.Cookie{{Name: pbxauth.SessionCookieName, Value: value, Path: "/"}})
}

// withCookie sends GET /login with only the given session cookie value.
func withCookie(t testing.TB, e *env, value string) *apitest.Response {
	t.Helper()
	c := apitest.NewClient(t, e.c.URL)
	return c.Do("GET", "/login", nil, "Cookie", pbxauth.SessionCookieName+"="+value)
}

func TestLoginStatusLogout(t *testing.T) {
	e := newEnv(t, plainHTTP)
	if r := e.c.Do("GET", "/login", nil); r.Status != 401 || r.Code() != "UNAUTHORIZED" {
		t.Fatalf("GET /login without a session: %d %s", r.Status, r.Body)
	}
	r := e.login(t, e.c, aliceCreds())
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("POST /login Cache-Control = %q", r.Header.Values("Cache-Control"))
	}
	if r.String("role") != "Admin" || r.JSON()["expires_in"] != float64(3600) ||
		r.String("expires_at") != e.clock.Now().Add(time.Hour).Format(time.RFC3339) {
		t.Errorf("POST /login body %s", r.Body)
	}
	if _, ok := r.JSON()["refresh_token"]; ok {
		t.Error("POST /login hands out a refresh token")
	}
	c := sessionCookie(t, r)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Secure || c.Name != pbxauth.SessionCookieName {
		t.Fatalf("session cookie %+v", c)
	}

	s := e.c.Do("GET", "/login", nil)
	if s.Status != 200 || s.String("access_token") != r.String("access_token") || s.String("role") != "Admin" ||
		s.String("expires_at") != r.String("expires_at") || s.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("GET /login: %d %s", s.Status, s.Body)
	}
	access := s.String("access_token")
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 200 || u.String("role") != "Admin" || u.JSON()["password_verified"] != true {
		t.Fatalf("/auth/user with the session's token: %d %s", u.Status, u.Body)
	}

	out := e.c.Do("POST", "/logout", nil)
	if out.Status != 204 || len(out.Body) != 0 {
		t.Fatalf("POST /logout: %d %s", out.Status, out.Body)
	}
	if c := sessionCookie(t, out); c == nil || c.MaxAge >= 0 {
		t.Errorf("logout does not delete the cookie: %+v", c)
	}
	if r := e.c.Do("GET", "/login", nil); r.Status != 401 {
		t.Errorf("GET /login after logout: %d %s", r.Status, r.Body)
	}
	if r := withCookie(t, e, c.Value); r.Status != 401 {
		t.Errorf("the old cookie after logout: %d %s", r.Status, r.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 401 {
		t.Errorf("the session's token after logout: %d", u.Status)
	}
	if r := e.c.Do("POST", "/logout", nil); r.Status != 204 {
		t.Errorf("POST /logout without a session: %d %s", r.Status, r.Body)
	}
}

func TestLoginSystemUserAndFailures(t *testing.T) {
	e := newEnv(t, plainHTTP)
	r := e.login(t, e.c, map[string]any{"username": "admin", "password": adminPW})
	if r.String("role") != "SystemAdmin" {
		t.Errorf("admin: %s", r.Body)
	}
	other := apitest.NewClient(t, e.c.URL)
	for _, tc := range []struct {
		body   any
		ctype  string
		status int
	}{
		{map[string]any{"username": "alice", "password": "wrong-pw-123", "domain": acmeDomain}, "application/json", 401},
		{map[string]any{"username": "dave", "password": "dave-pw-123", "domain": acmeDomain}, "application/json", 401},
		{map[string]any{"username": "alice", "password": alicePW, "domain": "nowhere.example.test"}, "application/json", 401},
		{`{"username":"alice"`, "application/json", 400},
		{`username=alice`, "application/x-www-form-urlencoded", 415},
	} {
		r := other.Do("POST", "/login", tc.body, "Content-Type", tc.ctype)
		if r.Status != tc.status || sessionCookie(t, r) != nil {
			t.Errorf("POST /login %v: %d %s, cookie %v", tc.body, r.Status, r.Body, sessionCookie(t, r))
		}
	}
	if r := other.Do("GET", "/login", nil); r.Status != 401 {
		t.Errorf("GET /login after failures: %d", r.Status)
	}
}

func TestSecureCookieByDefault(t *testing.T) {
	e := newEnv(t)
	r := e.login(t, e.c, aliceCreds())
	c := sessionCookie(t, r)
	if c == nil || c.Name != "__Host-"+pbxauth.SessionCookieName || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Domain != "" {
		t.Fatalf("session cookie %+v", c)
	}
}

func TestLoginRenewsPlantedCookie(t *testing.T) {
	e := newEnv(t, plainHTTP)
	// The attacker's own, valid session...
	attacker := apitest.NewClient(t, e.c.URL)
	planted := sessionCookie(t, e.login(t, attacker, map[string]any{"username": "admin", "password": adminPW})).Value
	// ...planted in the victim's browser, and a made-up one in another.
	for _, value := range []string{planted, "made-up-session-token"} {
		victim := apitest.NewClient(t, e.c.URL)
		plant(t, victim, value)
		r := e.login(t, victim, aliceCreds())
		c := sessionCookie(t, r)
		if c == nil || c.Value == value {
			t.Fatalf("login kept the planted cookie: %+v", c)
		}
		if s := victim.Do("GET", "/login", nil); s.Status != 200 || s.String("role") != "Admin" {
			t.Errorf("victim's session: %d %s", s.Status, s.Body)
		}
		if s := withCookie(t, e, value); s.Status != 401 {
			t.Errorf("the planted cookie after login: %d %s", s.Status, s.Body)
		}
	}
}

func TestLoginAgainReplacesTheSignIn(t *testing.T) {
	e := newEnv(t, plainHTTP)
	first := e.login(t, e.c, aliceCreds()).String("access_token")
	second := e.login(t, e.c, map[string]any{"username": "admin", "password": adminPW})
	if s := e.c.Do("GET", "/login", nil); s.String("access_token") != second.String("access_token") || s.String("role") != "SystemAdmin" {
		t.Errorf("GET /login after a second login: %s", s.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(first)...); u.Status != 401 {
		t.Errorf("the first sign-in's token still works: %d", u.Status)
	}
}

func TestCrossOriginRefused(t *testing.T) {
	e := newEnv(t, plainHTTP, func(c *pbxauth.Config) { c.TrustedOrigins = []string{"https://admin.example.test"} })
	access := e.login(t, e.c, aliceCreds()).String("access_token")
	for _, h := range [][]string{
		{"Origin", "https://evil.example.test"},
		{"Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "same-site", "Origin", "https://sub.pbxauth.test"},
	} {
		for _, path := range []string{"/logout", "/login", "/login/by_microsoft"} {
			var body any
			if path == "/login" {
				body = aliceCreds()
			}
			r := e.c.Do("POST", path, body, h...)
			if r.Status != 403 || r.Code() != "FORBIDDEN" || sessionCookie(t, r) != nil {
				t.Errorf("POST %s with %v: %d %s", path, h, r.Status, r.Body)
			}
		}
	}
	// Nothing changed: the session and its token live.
	if s := e.c.Do("GET", "/login", nil); s.Status != 200 || s.String("access_token") != access {
		t.Fatalf("GET /login after refused logouts: %d %s", s.Status, s.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 200 {
		t.Fatalf("token after refused logouts: %d", u.Status)
	}
	// Same-origin browsers and trusted origins pass.
	if r := e.c.Do("POST", "/login", aliceCreds(), "Sec-Fetch-Site", "same-origin"); r.Status != 200 {
		t.Errorf("same-origin POST /login: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("POST", "/logout", nil, "Origin", "https://admin.example.test", "Sec-Fetch-Site", "cross-site"); r.Status != 204 {
		t.Errorf("POST /logout from a trusted origin: %d %s", r.Status, r.Body)
	}
}

func TestLoginReissuesExpiredToken(t *testing.T) {
	e := newEnv(t, plainHTTP)
	old := e.login(t, e.c, aliceCreds()).String("access_token")
	e.clock.Advance(30 * time.Minute)
	if s := e.c.Do("GET", "/login", nil); s.String("access_token") != old || s.JSON()["expires_in"] != float64(1800) {
		t.Fatalf("GET /login before expiry: %s", s.Body)
	}
	e.clock.Advance(31 * time.Minute)
	s := e.c.Do("GET", "/login", nil)
	fresh := s.String("access_token")
	if s.Status != 200 || fresh == "" || fresh == old || s.JSON()["expires_in"] != float64(3600) ||
		s.String("expires_at") != e.clock.Now().Add(time.Hour).Format(time.RFC3339) {
		t.Fatalf("GET /login after expiry: %d %s", s.Status, s.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(fresh)...); u.Status != 200 || u.JSON()["password_verified"] != true {
		t.Errorf("re-issued token: %d %s", u.Status, u.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(old)...); u.Status != 401 {
		t.Errorf("expired token: %d", u.Status)
	}
	if s := e.c.Do("GET", "/login", nil); s.String("access_token") != fresh {
		t.Errorf("the session does not keep the re-issued token: %s", s.Body)
	}
}

func TestSessionEndsWithItsSignIn(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		expired bool // end the sign-in while the access token has expired too
		end     func(t *testing.T, e *env, access string)
	}{
		{"sign_out", false, func(t *testing.T, e *env, access string) {
			if r := e.c.Do("POST", "/auth/sign_out", nil, apitest.Bearer(access)...); r.Status != 200 {
				t.Fatalf("sign_out: %d", r.Status)
			}
		}},
		{"RevokeUser", false, func(t *testing.T, e *env, _ string) { must(t, e.store.RevokeUser(ctx, aliceID)) }},
		{"RevokeUser/expired", true, func(t *testing.T, e *env, _ string) { must(t, e.store.RevokeUser(ctx, aliceID)) }},
		{"ResetPassword", false, func(t *testing.T, e *env, _ string) {
			u, err := e.store.User(ctx, aliceID)
			must(t, err)
			must(t, e.store.ResetPassword(ctx, aliceID, u.PasswordHash, false))
		}},
		{"disabled", false, disableAlice},
		{"disabled/expired", true, disableAlice},
		{"past SignInTTL", true, func(t *testing.T, e *env, _ string) { e.clock.Advance(30 * 24 * time.Hour) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, plainHTTP)
			access := e.login(t, e.c, aliceCreds()).String("access_token")
			cookie := slices.DeleteFunc(e.c.HTTP.Jar.Cookies(mustURL(t, e.c.URL)), func(c *http.Cookie) bool {
				return c.Name == pbxauth.DeviceCookieName // the sign-in also left a device cookie
			})
			if tc.expired {
				e.clock.Advance(2 * time.Hour)
			}
			tc.end(t, e, access)
			r := e.c.Do("GET", "/login", nil)
			if r.Status != 401 || r.Code() != "UNAUTHORIZED" {
				t.Fatalf("GET /login after the sign-in ended: %d %s", r.Status, r.Body)
			}
			if c := sessionCookie(t, r); c == nil || c.MaxAge >= 0 {
				t.Errorf("the session cookie is not deleted: %+v", c)
			}
			// The session itself is gone, not only hidden.
			if len(cookie) != 1 {
				t.Fatalf("cookies %v", cookie)
			}
			if r := withCookie(t, e, cookie[0].Value); r.Status != 401 || sessionCookie(t, r) != nil {
				t.Errorf("the destroyed session answers: %d %s", r.Status, r.Body)
			}
		})
	}
}

func disableAlice(t *testing.T, e *env, _ string) {
	e.changeUser(t, aliceID, func(u *store.User) { u.Disabled = true })
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustURL(t testing.TB, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	must(t, err)
	return u
}

func TestLoginWithSecondFactor(t *testing.T) {
	e := newEnv(t, plainHTTP)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	r := e.c.Do("POST", "/login", aliceCreds())
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true || len(r.String("token")) < 43 || r.String("access_token") != "" {
		t.Fatalf("POST /login for a 2FA user: %d %s", r.Status, r.Body)
	}
	if r.Header.Get("Cache-Control") != "no-store" || sessionCookie(t, r) != nil {
		t.Errorf("second-factor answer: headers %v", r.Header)
	}
	if s := e.c.Do("GET", "/login", nil); s.Status != 401 {
		t.Errorf("GET /login before the second factor: %d %s", s.Status, s.Body)
	}
	// The flow token is no bearer token.
	if s := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("token"))...); s.Status != 401 {
		t.Errorf("flow token as bearer: %d", s.Status)
	}
}

func TestSessionConfig(t *testing.T) {
	st := memstore.New()
	for name, cfg := range map[string]pbxauth.Config{
		"bad trusted origin":   {TrustedOrigins: []string{"admin.example.test"}},
		"origin with a path":   {TrustedOrigins: []string{"https://admin.example.test/app"}},
		"host cookie insecure": {SessionManager: scs.New()},
		"host cookie readable": {SessionManager: func() *scs.SessionManager {
			sm := scs.New()
			sm.Cookie.Secure, sm.Cookie.HttpOnly = true, false
			return sm
		}()},
	} {
		cfg.Store, cfg.Argon2 = st, cheap
		if _, err := pbxauth.New(cfg); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func TestHostSessionManager(t *testing.T) {
	sm := scs.New()
	sm.Cookie.Name = "host_session"
	var hostSeen string
	e := newEnv(t, func(c *pbxauth.Config) {
		c.SessionManager = sm
		c.InsecureCookies = true
	})
	// The host keeps its own value in the same session, through its own
	// LoadAndSave on its own routes.
	host := apitest.Serve(t, e.auth.Handler(), sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			sm.Put(r.Context(), "cart", "3 phones")
		}
		hostSeen = sm.GetString(r.Context(), "cart")
	})))
	r := host.Do("POST", "/login", aliceCreds())
	if r.Status != 200 || r.Header.Get("Set-Cookie") == "" || !strings.HasPrefix(r.Header.Get("Set-Cookie"), "host_session=") {
		t.Fatalf("POST /login with the host's manager: %d %v", r.Status, r.Header)
	}
	if s := host.Do("GET", "/login", nil); s.Status != 200 || s.String("role") != "Admin" {
		t.Fatalf("GET /login: %d %s", s.Status, s.Body)
	}
	req, _ := http.NewRequest("POST", host.URL+"/shop", nil)
	host.Send(req)
	req, _ = http.NewRequest("GET", host.URL+"/shop", nil)
	host.Send(req)
	if hostSeen != "3 phones" {
		t.Errorf("host value = %q", hostSeen)
	}
	if s := host.Do("GET", "/login", nil); s.Status != 200 {
		t.Errorf("GET /login after the host's write: %d %s", s.Status, s.Body)
	}
}

// A host that wraps everything in its manager's LoadAndSave (a common scs
// set-up) still gets working cookie routes.
func TestHostLoadAndSaveAroundAPI(t *testing.T) {
	sm := scs.New()
	e := newEnv(t, func(c *pbxauth.Config) {
		c.SessionManager = sm
		c.InsecureCookies = true
	})
	c := apitest.Serve(t, sm.LoadAndSave(e.auth.Handler()), nil)
	access := e.login(t, c, aliceCreds()).String("access_token")
	if s := c.Do("GET", "/login", nil); s.Status != 200 || s.String("access_token") != access {
		t.Fatalf("GET /login: %d %s", s.Status, s.Body)
	}
	if r := c.Do("POST", "/logout", nil); r.Status != 204 {
		t.Fatalf("POST /logout: %d %s", r.Status, r.Body)
	}
	if s := c.Do("GET", "/login", nil); s.Status != 401 {
		t.Errorf("GET /login after logout: %d %s", s.Status, s.Body)
	}
	if u := c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); u.Status != 401 {
		t.Errorf("token after logout: %d", u.Status)
	}
}

// The session cookie is no credential for bearer routes, and they set none.
func TestBearerRoutesIgnoreTheSession(t *testing.T) {
	e := newEnv(t, plainHTTP)
	e.login(t, e.c, aliceCreds())
	if r := e.c.Do("GET", "/auth/user", nil); r.Status != 401 {
		t.Errorf("/auth/user with only the cookie: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/sign_out", nil); r.Status != 401 {
		t.Errorf("/auth/sign_out with only the cookie: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 200 || sessionCookie(t, r) != nil {
		t.Errorf("/auth/sign_in: %d, cookie %v", r.Status, sessionCookie(t, r))
	}
	if s := e.c.Do("GET", "/login", nil); s.Status != 200 {
		t.Errorf("the session after bearer calls: %d", s.Status)
	}
}
