// This file checks that SQLite takes concurrent writers in turn: they
// queue for the write lock instead of failing with SQLITE_BUSY.

package sqlstore_test

import (
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth"
)

// TestSQLiteConcurrentWriters: 20 clients signing in, refreshing and
// failing sign-ins at once over HTTP, each request writing, never get a
// 5xx answer.
func TestSQLiteConcurrentWriters(t *testing.T) {
	st := open(t, freshSQLite(t))
	seedBob(t, st)
	c := instance(t, st, func(c *pbxauth.Config) {
		c.HashQueue = 40                // no 503 from hashing
		c.Limits.PasswordAttempts = 100 // nor 429 from 20 concurrent sign-ins of one account
	})
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			r := c.Do("POST", "/auth/sign_in", bobCreds())
			if r.Status != 200 {
				t.Errorf("sign_in: %d %s", r.Status, r.Body)
				return
			}
			refresh := r.String("refresh_token")
			for range 5 {
				r := c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh})
				if r.Status != 200 {
					t.Errorf("refresh: %d %s", r.Status, r.Body)
					return
				}
				refresh = r.String("refresh_token")
				// A wrong password writes the throttle counters.
				wrong := bobCreds()
				wrong["password"] = "wrong-pw-123"
				if r := c.Do("POST", "/auth/sign_in", wrong); r.Status >= 500 {
					t.Errorf("wrong sign_in: %d %s", r.Status, r.Body)
					return
				}
			}
		})
	}
	close(start)
	wg.Wait()
}
