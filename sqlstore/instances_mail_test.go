// This file runs two instances on one PostgreSQL database for what this
// package adds to their sharing: the outbox, delivered once by whichever
// instance claims it, and refresh retries answered alike by both.

package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/store"
)

// TestInstancesDeliverEachMailOnce: 10 reset requests spread over two
// instances with their own mail workers give exactly 10 mails.
func TestInstancesDeliverEachMailOnce(t *testing.T) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	for i := range 10 {
		u := store.User{ID: fmt.Sprint("u", i), TenantID: "acme", Username: fmt.Sprint("user", i),
			Email: fmt.Sprintf("user%d@acme.example.test", i), Role: "StandardUser"}
		if err := stA.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
	}
	srv := smtptest.Start(t, smtptest.Options{})
	mailing := func(c *pbxauth.Config) {
		m, err := pbxauth.ParseSMTP(srv.Addr, "pbx@pbxauth.test")
		if err != nil {
			t.Fatal(err)
		}
		c.Mailer, c.CallbackOrigins = m, []string{"http://127.0.0.1:9999"}
	}
	a, b := instance(t, stA, mailing), instance(t, stB, mailing)
	for i := range 10 {
		c := a
		if i%2 == 1 {
			c = b
		}
		r := c.Do("POST", "/auth/forget_password", map[string]string{"domain": "acme.example.test", "username": fmt.Sprint("user", i), "callback_url": "http://127.0.0.1:9999/r"})
		if r.Status != 200 {
			t.Fatalf("forget_password: %d %s", r.Status, r.Body)
		}
	}
	got := map[string]bool{}
	for range 10 {
		got[srv.Receive(t).To[0]] = true
	}
	if len(got) != 10 {
		t.Fatalf("mails to %d users, want 10: %v", len(got), got)
	}
	// Nothing more may come: every record was claimed once. The outbox
	// is empty once both instances have dealt with every record.
	deadline := time.Now().Add(smtptest.Timeout)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var n int
		if err := stA.DB().QueryRow(`SELECT count(*) FROM pbxauth_outbox`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d outbox records left", n)
		}
		<-tick.C
	}
	select {
	case m := <-srv.Messages:
		t.Fatalf("an eleventh mail arrived: %v", m.To)
	default:
	}
}

// TestInstancesRefreshRetry: with a grace, concurrent refreshes of one
// token on two instances all answer the same pair.
func TestInstancesRefreshRetry(t *testing.T) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	grace := func(c *pbxauth.Config) { c.RefreshReuseGrace = time.Minute }
	a, b := instance(t, stA, grace), instance(t, stB, grace)
	_, refresh := signInBob(t, a)
	pairs := make(chan string, 20)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range 20 {
		c := a
		if i%2 == 1 {
			c = b
		}
		wg.Go(func() {
			<-start
			r := c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh})
			if r.Status != 200 {
				t.Errorf("refresh: %d %s", r.Status, r.Body)
			}
			pairs <- r.String("access_token") + " " + r.String("refresh_token")
		})
	}
	close(start)
	wg.Wait()
	close(pairs)
	seen := map[string]bool{}
	for p := range pairs {
		seen[p] = true
	}
	if len(seen) != 1 {
		t.Fatalf("%d different pairs, want 1", len(seen))
	}
}
