package pbxauth_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// TestRefreshReplayRevokesFamily: presenting a rotated refresh token again
// revokes the whole sign-in, including the newest tokens; other sign-ins of
// the same user live on.
func TestRefreshReplayRevokesFamily(t *testing.T) {
	var events []pbxauth.EventKind
	var mu sync.Mutex
	e := newEnv(t, func(c *pbxauth.Config) {
		c.OnEvent = func(_ context.Context, ev pbxauth.Event) { mu.Lock(); events = append(events, ev.Kind); mu.Unlock() }
	})
	_, r0 := e.signIn(t, aliceCreds())
	otherAccess, _ := e.signIn(t, aliceCreds())
	n := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r0})
	a1, r1 := n.String("access_token"), n.String("refresh_token")
	if n.Status != 200 || a1 == "" || r1 == "" {
		t.Fatalf("refresh: %d %s", n.Status, n.Body)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r0}); r.Status != 401 || r.Code() != pbxauth.CodeUnauthorized {
		t.Fatalf("replay: %d %s", r.Status, r.Body)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(a1)...); r.Status != 401 {
		t.Errorf("newest access token after replay: %d", r.Status)
	}
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r1}); r.Status != 401 {
		t.Errorf("newest refresh token after replay: %d", r.Status)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(otherAccess)...); r.Status != 200 {
		t.Errorf("another sign-in was revoked too: %d", r.Status)
	}
	mu.Lock()
	defer mu.Unlock()
	if !containsKind(events, pbxauth.EventRefreshReuse) {
		t.Errorf("events %v lack %s", events, pbxauth.EventRefreshReuse)
	}
}

func containsKind(ks []pbxauth.EventKind, k pbxauth.EventKind) bool {
	for _, x := range ks {
		if x == k {
			return true
		}
	}
	return false
}

// TestConcurrentRefreshOneWinner: of 10 concurrent refreshes of one token
// exactly one succeeds (and, strict reuse, the losers revoke the family).
func TestConcurrentRefreshOneWinner(t *testing.T) {
	e := newEnv(t)
	_, refresh := e.signIn(t, aliceCreds())
	var wg sync.WaitGroup
	start := make(chan struct{})
	statuses := make(chan int, 10)
	for range 10 {
		wg.Go(func() {
			<-start
			statuses <- e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}).Status
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	ok := 0
	for s := range statuses {
		switch s {
		case 200:
			ok++
		case 401:
		default:
			t.Errorf("status %d", s)
		}
	}
	if ok != 1 {
		t.Fatalf("%d refreshes succeeded, want 1", ok)
	}
}

// TestRefreshReuseGrace: inside the grace window a replay is refused without
// revoking; after it, strict.
func TestRefreshReuseGrace(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.RefreshReuseGrace = 10 * time.Second })
	_, r0 := e.signIn(t, aliceCreds())
	n := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r0})
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r0}); r.Status != 401 {
		t.Fatalf("replay in grace: %d", r.Status)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(n.String("access_token"))...); r.Status != 200 {
		t.Fatalf("replay in grace revoked the family: %d", r.Status)
	}
	e.clock.Advance(11 * time.Second)
	e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r0})
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(n.String("access_token"))...); r.Status != 401 {
		t.Fatalf("replay after grace did not revoke: %d", r.Status)
	}
}

// TestSignInLifetimeIsAbsolute: refreshing never extends a sign-in past
// SignInTTL.
func TestSignInLifetimeIsAbsolute(t *testing.T) {
	e := newEnv(t)
	_, refresh := e.signIn(t, aliceCreds())
	for range 29 {
		e.clock.Advance(24 * time.Hour)
		n := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh})
		if n.Status != 200 {
			t.Fatalf("refresh: %d", n.Status)
		}
		refresh = n.String("refresh_token")
	}
	e.clock.Advance(24*time.Hour + time.Second)
	if n := e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": refresh}); n.Status != 401 {
		t.Fatalf("refresh after 30 days: %d", n.Status)
	}
}
