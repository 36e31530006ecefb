// This file reads a SQLite database with cookie sessions in it as whoever
// copies the file (or a backup) would: it must yield no bearer credential.

package sqlstore_test

import (
	"database/sql"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/alexedwards/scs/v2"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
)

// TestSQLiteFileHoldsNoCredential signs bob in through POST /login (a
// cookie session in pbxauth_sessions) and through POST /auth/sign_in (a
// token pair), then reads every row of the session table and every byte of
// the database, its -wal and -shm for the tokens and the cookie in any
// encoding. The session still works; a key of the table is no cookie; a
// session whose stored token was changed gets a fresh working token.
func TestSQLiteFileHoldsNoCredential(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pbxauth.db")
	st := open(t, "sqlite:"+path)
	seedBob(t, st)
	ss, err := st.SessionStore()
	if err != nil {
		t.Fatal(err)
	}
	c := instance(t, st, func(c *pbxauth.Config) { c.SessionStore, c.InsecureCookies = ss, true })

	secrets := map[string]string{}
	r := c.Do("POST", "/login", bobCreds())
	cookie := sessionCookieOf(t, r)
	if r.Status != 200 || cookie == "" {
		t.Fatalf("POST /login: %d %s", r.Status, r.Body)
	}
	secrets["the session's access token"], secrets["the session cookie"] = r.String("access_token"), cookie
	s := c.Do("GET", "/login", nil)
	if s.Status != 200 || s.String("access_token") != r.String("access_token") {
		t.Fatalf("GET /login: %d %s", s.Status, s.Body)
	}
	if u := c.Do("GET", "/auth/user", nil, apitest.Bearer(s.String("access_token"))...); u.Status != 200 {
		t.Fatalf("the session's token as bearer: %d", u.Status)
	}
	secrets["a bearer sign-in's access token"], secrets["a bearer sign-in's refresh token"] = signInBob(t, c)

	db, err := sql.Open("sqlite", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	type row struct {
		key  string
		data []byte
	}
	var sessions []row
	rows, err := db.Query(`SELECT token, data FROM pbxauth_sessions`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.key, &r.data); err != nil {
			t.Fatal(err)
		}
		sessions = append(sessions, r)
	}
	if err := rows.Err(); err != nil || len(sessions) != 1 {
		t.Fatalf("pbxauth_sessions holds %d rows (%v), want 1", len(sessions), err)
	}
	for _, r := range sessions {
		for name, secret := range secrets {
			if where := apitest.FindSecret(append([]byte(r.key+"\x00"), r.data...), secret); where != "" {
				t.Errorf("pbxauth_sessions holds %s (%s)", name, where)
			}
		}
		stranger := apitest.NewClient(t, c.URL)
		if got := stranger.Do("GET", "/login", nil, "Cookie", pbxauth.SessionCookieName+"="+r.key); got.Status != 401 {
			t.Errorf("the table's key as the cookie: %d %s", got.Status, got.Body)
		}
	}
	if _, found, err := ss.Find(cookie); found || err != nil {
		t.Errorf("the session store finds the session by its cookie (%v)", err)
	}
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		b, err := os.ReadFile(f)
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for name, secret := range secrets {
			if where := apitest.FindSecret(b, secret); where != "" {
				t.Errorf("%s holds %s (%s)", filepath.Base(f), name, where)
			}
		}
	}

	// Whoever can write the table and changes the stored token signs
	// nobody out and gets nothing: the next GET /login re-issues.
	for _, r := range sessions {
		deadline, values, err := scs.GobCodec{}.Decode(r.data)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range values {
			if s, ok := v.(string); ok && strings.HasSuffix(k, ".access") {
				values[k] = "A" + s[1:]
				if s[0] == 'A' {
					values[k] = "B" + s[1:]
				}
			}
		}
		b, err := scs.GobCodec{}.Encode(deadline, values)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`UPDATE pbxauth_sessions SET data = $1 WHERE token = $2`, b, r.key); err != nil {
			t.Fatal(err)
		}
	}
	s = c.Do("GET", "/login", nil)
	if s.Status != 200 || s.String("access_token") == "" || s.String("access_token") == r.String("access_token") {
		t.Fatalf("GET /login on a changed token: %d %s", s.Status, s.Body)
	}
	if u := c.Do("GET", "/auth/user", nil, apitest.Bearer(s.String("access_token"))...); u.Status != 200 {
		t.Errorf("the re-issued token as bearer: %d", u.Status)
	}
}

// sessionCookieOf returns the value of the session cookie an answer sets.
func sessionCookieOf(t *testing.T, r *apitest.Response) string {
	t.Helper()
	for _, line := range r.Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(line)
		if err != nil {
			t.Fatalf("Set-Cookie %q: %v", line, err)
		}
		if c.Name == pbxauth.SessionCookieName {
			return c.Value
		}
	}
	return ""
}
