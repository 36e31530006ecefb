package pbxauth_test

import (
	"context"
	"strings"
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

// refresh posts a refresh token.
func (e *env) refresh(token string) *apitest.Response {
	return e.c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": token})
}

// TestRefreshGraceRetry: a refresh whose answer was lost, retried within
// the grace, gets the same pair with expires_in counting down; once that
// pair's refresh token was used, the old one is reuse and revokes.
func TestRefreshGraceRetry(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.RefreshReuseGrace = 10 * time.Second })
	_, r0 := e.signIn(t, aliceCreds())
	lost := e.refresh(r0) // the client never read this answer
	if lost.Status != 200 {
		t.Fatalf("refresh: %d %s", lost.Status, lost.Body)
	}
	e.clock.Advance(3 * time.Second)
	retry := e.refresh(r0)
	if retry.Status != 200 || retry.String("access_token") != lost.String("access_token") ||
		retry.String("refresh_token") != lost.String("refresh_token") {
		t.Fatalf("retry within the grace: %d %s, want the pair %s", retry.Status, retry.Body, lost.Body)
	}
	if got, want := retry.JSON()["expires_in"], lost.JSON()["expires_in"].(float64)-3; got != want {
		t.Errorf("retry expires_in %v, want %v", got, want)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(retry.String("access_token"))...); r.Status != 200 {
		t.Fatalf("the retried access token: %d", r.Status)
	}
	next := e.refresh(retry.String("refresh_token"))
	if next.Status != 200 {
		t.Fatalf("refresh with the retried pair: %d %s", next.Status, next.Body)
	}
	e.clock.Advance(time.Second)
	e.wantReuseRevokes(t, r0, next.String("access_token"), "after its successor was used")
}

// wantReuseRevokes presents a rotated refresh token and checks that it is
// refused and revokes the family of access.
func (e *env) wantReuseRevokes(t *testing.T, refresh, access, when string) {
	t.Helper()
	if r := e.refresh(refresh); r.Status != 401 {
		t.Fatalf("reuse %s: %d %s", when, r.Status, r.Body)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 401 {
		t.Fatalf("reuse %s did not revoke: %d", when, r.Status)
	}
}

// TestRefreshGraceWindowEnds: past the grace, the same token is reuse.
func TestRefreshGraceWindowEnds(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.RefreshReuseGrace = 10 * time.Second })
	_, r0 := e.signIn(t, aliceCreds())
	n := e.refresh(r0)
	e.clock.Advance(10*time.Second + time.Millisecond)
	e.wantReuseRevokes(t, r0, n.String("access_token"), "after the grace")
}

// TestRefreshGraceConcurrent: of 20 concurrent refreshes of one token
// within a grace, every one answers the same pair, and it works.
func TestRefreshGraceConcurrent(t *testing.T) {
	e := newEnv(t, func(c *pbxauth.Config) { c.RefreshReuseGrace = 10 * time.Second })
	_, r0 := e.signIn(t, aliceCreds())
	answers := make(chan *apitest.Response, 20)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 20 {
		wg.Go(func() {
			<-start
			answers <- e.refresh(r0)
		})
	}
	close(start)
	wg.Wait()
	close(answers)
	pairs := map[string]bool{}
	for r := range answers {
		if r.Status != 200 {
			t.Fatalf("a concurrent refresh: %d %s", r.Status, r.Body)
		}
		pairs[r.String("access_token")+" "+r.String("refresh_token")] = true
	}
	if len(pairs) != 1 {
		t.Fatalf("%d different pairs, want 1", len(pairs))
	}
	for p := range pairs {
		access, refresh, _ := strings.Cut(p, " ")
		if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != 200 {
			t.Fatalf("the pair's access token: %d", r.Status)
		}
		if r := e.refresh(refresh); r.Status != 200 {
			t.Fatalf("the pair's refresh token: %d", r.Status)
		}
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
