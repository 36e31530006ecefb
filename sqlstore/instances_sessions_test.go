// This file drives the session routes over two instances sharing one
// PostgreSQL database: a sign-in ended on one is refused on the other at
// once, and of racing ends across both exactly one succeeds.

package sqlstore_test

import (
	"testing"

	"github.com/pbxauth/pbxauth/internal/apitest"
)

// currentID returns the session id of the sign-in of access, as c lists it.
func currentID(t *testing.T, c *apitest.Client, access string) (id string, listed int) {
	t.Helper()
	r := c.Do("GET", "/auth/sessions", nil, apitest.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("GET /auth/sessions: %d %s", r.Status, r.Body)
	}
	list := r.JSON()["sessions"].([]any)
	for _, s := range list {
		if m := s.(map[string]any); m["current"] == true {
			id = m["id"].(string)
		}
	}
	return id, len(list)
}

func TestInstancesShareSessions(t *testing.T) {
	a, b := twoInstances(t)
	onA, onARefresh := signInBob(t, a)
	onB, _ := signInBob(t, b)
	idA, n := currentID(t, b, onA)
	if n != 2 || idA == "" {
		t.Fatalf("B lists %d sessions (current %q), want 2", n, idA)
	}
	if r := b.Do("DELETE", "/auth/sessions/"+idA, nil, apitest.Bearer(onB)...); r.Status != 204 {
		t.Fatalf("DELETE on B of A's session: %d %s", r.Status, r.Body)
	}
	if r := a.Do("GET", "/auth/user", nil, apitest.Bearer(onA)...); r.Status != 401 {
		t.Errorf("the deleted session's access token on A: %d", r.Status)
	}
	if r := a.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": onARefresh}); r.Status != 401 {
		t.Errorf("the deleted session's refresh token on A: %d", r.Status)
	}
	if r := a.Do("DELETE", "/auth/sessions/"+idA, nil, apitest.Bearer(onB)...); r.Status != 404 {
		t.Errorf("DELETE on A of the session B ended: %d", r.Status)
	}

	// scope=others on A ends B's sign-ins at once; scope=global on B ends the rest.
	others := []string{}
	for range 3 {
		tok, _ := signInBob(t, b)
		others = append(others, tok)
	}
	if r := a.Do("POST", "/auth/sign_out?scope=others", nil, apitest.Bearer(onB)...); r.Status != 200 {
		t.Fatalf("sign_out?scope=others on A: %d %s", r.Status, r.Body)
	}
	for _, tok := range others {
		if r := b.Do("GET", "/auth/user", nil, apitest.Bearer(tok)...); r.Status != 401 {
			t.Errorf("another sign-in on B after scope=others on A: %d", r.Status)
		}
	}
	if _, n := currentID(t, b, onB); n != 1 {
		t.Errorf("after scope=others, B lists %d sessions, want 1", n)
	}
	if r := b.Do("POST", "/auth/sign_out?scope=global", nil, apitest.Bearer(onB)...); r.Status != 200 {
		t.Fatalf("sign_out?scope=global on B: %d", r.Status)
	}
	if r := a.Do("GET", "/auth/user", nil, apitest.Bearer(onB)...); r.Status != 401 {
		t.Errorf("the caller's own token on A after scope=global on B: %d", r.Status)
	}
}

func TestInstancesRaceToEndOneSession(t *testing.T) {
	a, b := twoInstances(t)
	me, _ := signInBob(t, a)
	victim, _ := signInBob(t, b)
	id, _ := currentID(t, a, victim)
	got := apitest.Race(40, func(i int) *apitest.Response {
		c := a
		if i%2 == 1 {
			c = b
		}
		return c.Do("DELETE", "/auth/sessions/"+id, nil, apitest.Bearer(me)...)
	})
	if got[204] != 1 || got[404] != 39 {
		t.Errorf("40 DELETEs of one session over A and B: %v, want 1 × 204 and 39 × 404", got)
	}
}

// TestInstancesEndCookieSession: a browser signed in on A, its session
// listed and ended from a phone on B, is signed out on A at once.
func TestInstancesEndCookieSession(t *testing.T) {
	a, b := cookieInstances(t, freshPostgres)
	login := a.Do("POST", "/login", bobCreds())
	if login.Status != 200 {
		t.Fatalf("login on A: %d %s", login.Status, login.Body)
	}
	browserID, _ := currentID(t, a, login.String("access_token"))
	phone, _ := signInBob(t, b)
	if _, n := currentID(t, b, phone); n != 2 {
		t.Fatalf("B lists %d sessions, want 2 (the browser's included)", n)
	}
	if r := b.Do("DELETE", "/auth/sessions/"+browserID, nil, apitest.Bearer(phone)...); r.Status != 204 {
		t.Fatalf("DELETE on B of the browser's session: %d %s", r.Status, r.Body)
	}
	if r := a.Do("GET", "/login", nil); r.Status != 401 {
		t.Errorf("the browser's session on A after B ended it: %d %s", r.Status, r.Body)
	}
	if r := a.Do("GET", "/auth/user", nil, apitest.Bearer(login.String("access_token"))...); r.Status != 401 {
		t.Errorf("the browser's access token on A: %d", r.Status)
	}
}
