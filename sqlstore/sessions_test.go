// This file checks cookie sessions in the SQL store through an outage.

package sqlstore_test

import (
	"testing"

	"github.com/pbxauth/pbxauth"
)

// TestCookieSessionOutage: with PostgreSQL refusing the store, a cookie
// route answers 503 with Retry-After, and the session works again after.
func TestCookieSessionOutage(t *testing.T) {
	pg := cuttablePostgres(t)
	st := open(t, pg.dsn)
	seedBob(t, st)
	ss, err := st.SessionStore()
	if err != nil {
		t.Fatal(err)
	}
	c := instance(t, st, func(c *pbxauth.Config) { c.SessionStore, c.InsecureCookies = ss, true })
	if r := c.Do("POST", "/login", bobCreds()); r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Body)
	}
	pg.cut()
	if r := c.Do("GET", "/login", nil); r.Status != 503 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("GET /login during the outage: %d %s", r.Status, r.Body)
	}
	pg.restore()
	if r := c.Do("GET", "/login", nil); r.Status != 200 {
		t.Fatalf("GET /login after the outage: %d %s", r.Status, r.Body)
	}
}
