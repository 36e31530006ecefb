// This file attacks two instances on one PostgreSQL database at once: the
// attempt slots of a limit are taken in the database, so the instances
// together check no more secrets than one would.

package sqlstore_test

import (
	"context"
	"sync"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// burst sends n requests at once, alternating between the clients, and
// tallies the statuses.
func burst(n int, clients []*apitest.Client, send func(i int, c *apitest.Client) int) map[int]int {
	var mu sync.Mutex
	tally := map[int]int{}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			s := send(i, clients[i%len(clients)])
			mu.Lock()
			tally[s]++
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	return tally
}

func TestInstancesShareAttemptSlots(t *testing.T) {
	a, b := twoInstances(t)
	wrong := map[string]string{"username": "bob", "password": "wrong-pw-123", "domain": "acme.example.test"}
	n := burst(40, []*apitest.Client{a, b}, func(i int, c *apitest.Client) int {
		return c.Do("POST", "/auth/sign_in", wrong).Status
	})
	if n[401] == 0 || n[401] > 5 || n[401]+n[429]+n[503] != 40 {
		t.Fatalf("40 concurrent wrong passwords over two instances: %v, want at most 5 of 401", n)
	}
	for name, c := range map[string]*apitest.Client{"A": a, "B": b} {
		if r := c.Do("POST", "/auth/sign_in", bobCreds()); r.Status != 429 {
			t.Errorf("the correct password on %s after the burst: %d", name, r.Status)
		}
	}
}

func TestInstancesShareCodeSlots(t *testing.T) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	ctx := context.Background()
	u, err := stA.User(ctx, "bob")
	if err != nil {
		t.Fatal(err)
	}
	u.TwoFactorEnabled, u.Email = true, "bob@acme.example.test"
	if err := stA.UpdateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a, b := instance(t, stA), instance(t, stB)
	var flows []string
	for range 8 {
		// A fresh client each: no device cookie, so the codes count on bob.
		c := apitest.NewClient(t, a.URL)
		r := c.Do("POST", "/auth/sign_in", bobCreds())
		if r.Status != 200 || r.String("token") == "" {
			t.Fatalf("sign_in: %d %s", r.Status, r.Body)
		}
		flows = append(flows, r.String("token"))
	}
	n := burst(40, []*apitest.Client{apitest.NewClient(t, a.URL), apitest.NewClient(t, b.URL)}, func(i int, c *apitest.Client) int {
		return c.Do("POST", "/auth/verify_otp", map[string]string{"token": flows[i%8], "code": "000000"}).Status
	})
	if n[401] == 0 || n[401] > 10 || n[401]+n[429] != 40 {
		t.Fatalf("40 concurrent wrong codes over two instances: %v, want at most 10 of 401 and the rest 429", n)
	}
}

// TestInstancesShareDevices: a device made on A is known on B, and passes
// the account's lock there.
func TestInstancesShareDevices(t *testing.T) {
	dsn := freshPostgres(t)
	stA, stB := open(t, dsn), open(t, dsn)
	seedBob(t, stA)
	insecure := func(c *pbxauth.Config) { c.InsecureCookies = true }
	a, b := instance(t, stA, insecure), instance(t, stB, insecure)
	b.HTTP.Jar = a.HTTP.Jar // one browser
	if r := a.Do("POST", "/auth/sign_in", bobCreds()); r.Status != 200 {
		t.Fatalf("sign_in on A: %d", r.Status)
	}
	attacker := apitest.NewClient(t, a.URL)
	for range 5 {
		attacker.Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "wrong-pw-123", "domain": "acme.example.test"})
	}
	if r := b.Do("POST", "/auth/sign_in", bobCreds()); r.Status != 200 {
		t.Fatalf("the device made on A, on B during the account's lock: %d %s", r.Status, r.Body)
	}
}
