// The attacker's tests of a user's change of their own password (POST
// /user/password, POST /admin/password): who may call it, that wrong old
// passwords are charged to the caller's sign-in only (the 5th ends it; the
// account stays open), that the caller's sign-in survives while every other
// one ends, and that of two concurrent changes one wins and the other
// changes nothing.

package pbxauth_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// changeBody is the body of a password change.
func changeBody(old, new string) map[string]any {
	return map[string]any{"old_password": old, "new_password": new}
}

// wantSignIn checks how a sign-in of alice with password answers.
func (e *env) wantSignIn(t *testing.T, password string, status int) {
	t.Helper()
	creds := aliceCreds()
	creds["password"] = password
	if r := e.c.Do("POST", "/auth/sign_in", creds); r.Status != status {
		t.Errorf("sign-in with %q: %d %s, want %d", password, r.Status, r.Body, status)
	}
}

// wantBearer checks how GET /auth/user answers access.
func (e *env) wantBearer(t *testing.T, what, access string, status int) {
	t.Helper()
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(access)...); r.Status != status {
		t.Errorf("%s: GET /auth/user %d, want %d", what, r.Status, status)
	}
}

// wantChanged checks alice's state after her password was changed from
// alicePW to "new-alice-pw-9": how refresh (one of her refresh tokens from
// before) answers, that only the new password signs in, and that
// password_force_reset is cleared.
func (e *env) wantChanged(t *testing.T, what, refresh string, status int) {
	t.Helper()
	if r := e.c.Do("POST", "/auth/refresh_token", map[string]any{"refresh_token": refresh}); r.Status != status {
		t.Errorf("%s after the change: %d %s, want %d", what, r.Status, r.Body, status)
	}
	e.wantSignIn(t, alicePW, 401)
	e.wantSignIn(t, "new-alice-pw-9", 200)
	if u, _ := e.store.User(t.Context(), aliceID); u.PasswordForceReset {
		t.Error("password_force_reset is still set after the change")
	}
}

func TestChangePasswordKeepsCallerEndsOthers(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	if err := e.store.SetPasswordForceReset(t.Context(), aliceID, true); err != nil {
		t.Fatal(err)
	}
	caller, refresh := e.signIn(t, aliceCreds())
	other, _ := e.signIn(t, aliceCreds())
	r := e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(caller)...)
	if r.Status != 200 || len(r.Body) != 0 {
		t.Fatalf("POST /user/password: %d %s", r.Status, r.Body)
	}
	e.wantBearer(t, "the caller's sign-in", caller, 200)
	e.wantBearer(t, "a second sign-in of the user", other, 401)
	e.wantChanged(t, "the caller's refresh token", refresh, 200)
	kinds := ev.kinds()
	if !slices.Contains(kinds, pbxauth.EventPasswordChanged) || !slices.Contains(kinds, pbxauth.EventSessionRevoked) {
		t.Errorf("events %v, want password_changed and session_revoked", kinds)
	}
}

func TestChangePasswordWrongOldChargesSignInOnly(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	guesser, _ := e.signIn(t, aliceCreds())
	owner, _ := e.signIn(t, aliceCreds())
	for i := range 4 {
		r := e.c.Do("POST", "/user/password", changeBody("guess-"+string(rune('a'+i))+"-pw", "new-alice-pw-9"), apitest.Bearer(guesser)...)
		if r.Status != 400 || r.Code() != pbxauth.CodeInvalidArgument || r.Reason() != pbxauth.ReasonWrongPassword {
			t.Fatalf("wrong old password %d: %d %s, want 400 wrong_password", i+1, r.Status, r.Body)
		}
	}
	// Not charged to the account: it still signs in.
	e.wantSignIn(t, alicePW, 200)
	r := e.c.Do("POST", "/user/password", changeBody("guess-e-pw", "new-alice-pw-9"), apitest.Bearer(guesser)...)
	if r.Status != 401 || r.Header.Get("WWW-Authenticate") == "" {
		t.Fatalf("the 5th wrong old password: %d %s, want 401", r.Status, r.Body)
	}
	e.wantBearer(t, "the guessing sign-in", guesser, 401)
	e.wantBearer(t, "the owner's sign-in", owner, 200)
	e.wantSignIn(t, alicePW, 200)
	ev.mu.Lock()
	guessed := slices.ContainsFunc(ev.list, func(x pbxauth.Event) bool {
		return x.Kind == pbxauth.EventSessionRevoked && x.Reason == pbxauth.ReasonPasswordGuessing
	})
	ev.mu.Unlock()
	if !guessed {
		t.Error("no session_revoked event with reason password_guessing")
	}
	// The owner's own change goes through; the password did not change.
	if r := e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(owner)...); r.Status != 200 {
		t.Errorf("the owner's change after the guessing: %d %s", r.Status, r.Body)
	}
}

func TestChangePasswordIgnoresAccountLock(t *testing.T) {
	e := newEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	for range 5 {
		e.wantSignIn(t, "wrong-pw-123", 401)
	}
	e.wantSignIn(t, alicePW, 429) // locked by others
	if r := e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(access)...); r.Status != 200 {
		t.Fatalf("a change while the account is locked: %d %s", r.Status, r.Body)
	}
}

func TestChangePasswordRefusals(t *testing.T) {
	e := newEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	for _, c := range []struct {
		what string
		body map[string]any
	}{
		{"no old password", map[string]any{"new_password": "new-alice-pw-9"}},
		{"a short new password", changeBody(alicePW, "short")},
		{"the username as new password", changeBody(alicePW, "Alice")},
	} {
		if r := e.c.Do("POST", "/user/password", c.body, apitest.Bearer(access)...); r.Status != 400 || r.Reason() != "" {
			t.Errorf("%s: %d %s, want 400", c.what, r.Status, r.Body)
		}
	}
	if r := e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9")); r.Status != 401 {
		t.Errorf("no bearer: %d", r.Status)
	}
	e.wantSignIn(t, alicePW, 200)
}

func TestAdminPasswordOnlySystemAdmin(t *testing.T) {
	e := newEnv(t)
	alice, _ := e.signIn(t, aliceCreds())
	standard, _ := e.signIn(t, map[string]any{"username": "alice", "password": "other-pw-123", "domain": "other.example.test"})
	for who, access := range map[string]string{"an Admin": alice, "a StandardUser": standard} {
		r := e.c.Do("POST", "/admin/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(access)...)
		if r.Status != 403 {
			t.Errorf("POST /admin/password by %s: %d %s, want 403", who, r.Status, r.Body)
		}
	}
	e.wantSignIn(t, alicePW, 200)
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	if r := e.c.Do("POST", "/admin/password", changeBody(adminPW, "new-admin-pw-9"), apitest.Bearer(admin)...); r.Status != 200 {
		t.Fatalf("POST /admin/password by the SystemAdmin: %d %s", r.Status, r.Body)
	}
	e.wantBearer(t, "the SystemAdmin's sign-in", admin, 200)
	if r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": "new-admin-pw-9"}); r.Status != 200 {
		t.Errorf("sign-in with the new admin password: %d", r.Status)
	}
}

// changeHold holds every ChangePassword until release is closed, and
// tells arrived of each.
type changeHold struct {
	*memstore.Store
	arrived chan struct{}
	release chan struct{}
}

func (s *changeHold) ChangePassword(ctx context.Context, userID string, epoch int64, keep, newHash string, now time.Time) ([]string, error) {
	s.arrived <- struct{}{}
	<-s.release
	return s.Store.ChangePassword(ctx, userID, epoch, keep, newHash, now)
}

func newChangeHold(t *testing.T) (*changeHold, *env) {
	st := &changeHold{Store: memstore.New(), arrived: make(chan struct{}, 2), release: make(chan struct{})}
	seed(t, st)
	return st, newEnvWith(t, st)
}

// TestChangePasswordConcurrent: two changes of one password that both
// proved the old one: one wins, the other changes nothing.
func TestChangePasswordConcurrent(t *testing.T) {
	st, e := newChangeHold(t)
	access, _ := e.signIn(t, aliceCreds())
	answers := make(chan *apitest.Response, 2)
	for _, pw := range []string{"first-new-pw-1", "second-new-pw-2"} {
		go func() {
			answers <- e.c.Do("POST", "/user/password", changeBody(alicePW, pw), apitest.Bearer(access)...)
		}()
	}
	<-st.arrived
	<-st.arrived
	close(st.release)
	statuses := map[int]int{}
	for range 2 {
		r := <-answers
		statuses[r.Status]++
		if r.Status == 400 && r.Reason() != pbxauth.ReasonCredentialsChanged {
			t.Errorf("the loser: 400 with reason %q, want credentials_changed", r.Reason())
		}
	}
	if statuses[200] != 1 || statuses[400] != 1 {
		t.Fatalf("two concurrent changes answered %v, want one 200 and one 400", statuses)
	}
	works := 0
	for _, pw := range []string{"first-new-pw-1", "second-new-pw-2"} {
		creds := aliceCreds()
		creds["password"] = pw
		if e.c.Do("POST", "/auth/sign_in", creds).Status == 200 {
			works++
		}
	}
	if works != 1 {
		t.Errorf("%d of the two new passwords sign in, want exactly the winner's", works)
	}
	e.wantBearer(t, "the caller's sign-in", access, 200)
}

// TestChangePasswordCallerEnded: a change whose caller's sign-in ended
// while it ran is refused 401 and changes nothing.
func TestChangePasswordCallerEnded(t *testing.T) {
	st, e := newChangeHold(t)
	access, _ := e.signIn(t, aliceCreds())
	answer := make(chan *apitest.Response, 1)
	go func() {
		answer <- e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(access)...)
	}()
	<-st.arrived
	if _, err := e.auth.SignOutEverywhere(t.Context(), aliceID); err != nil {
		t.Fatal(err)
	}
	close(st.release)
	if r := <-answer; r.Status != 401 {
		t.Fatalf("a change whose sign-in ended meanwhile: %d %s, want 401", r.Status, r.Body)
	}
	e.wantSignIn(t, alicePW, 200)
}

// TestChangePasswordConcurrentGuesses: however many wrong old passwords
// arrive at once through one sign-in, at most 5 are checked (at most 4
// answered 400, the 5th ending the sign-in); the rest are 429 (or 503 when
// hashing is full) or, once the sign-in ended, 401; the account stays open.
func TestChangePasswordConcurrentGuesses(t *testing.T) {
	ev := &events{}
	e := newEnv(t, func(c *pbxauth.Config) { c.OnEvent = ev.add })
	guesser, _ := e.signIn(t, aliceCreds())
	counts := apitest.Race(30, func(i int) *apitest.Response {
		return e.c.Do("POST", "/user/password", changeBody("guess-pw-"+string(rune('a'+i)), "new-alice-pw-9"), apitest.Bearer(guesser)...)
	})
	if counts[400] > 4 || counts[400]+counts[401]+counts[429]+counts[503] != 30 {
		t.Errorf("30 concurrent wrong old passwords answered %v, want at most 4 wrong_password and the rest 401, 429 or 503", counts)
	}
	ev.mu.Lock()
	ended := 0
	for _, x := range ev.list {
		if x.Reason == pbxauth.ReasonPasswordGuessing {
			ended++
		}
	}
	ev.mu.Unlock()
	if ended > 1 || (ended == 1) != (counts[400] == 4) {
		t.Errorf("%d sign-ins ended for guessing after %d wrong_password answers", ended, counts[400])
	}
	e.wantSignIn(t, alicePW, 200)
}

// changeFailsStore fails the Store step of a password change, as a
// database that went away between the old password's check and the
// change would.
type changeFailsStore struct{ store.Store }

func (changeFailsStore) ChangePassword(context.Context, string, int64, string, string, time.Time) ([]string, error) {
	return nil, errOutage
}

// TestChangePasswordStoreStepFails: when the change's Store step fails the
// answer is 503 without the Store's text, nothing is reported, and every
// sign-in and the old password stand.
func TestChangePasswordStoreStepFails(t *testing.T) {
	ev := &events{}
	st := memstore.New()
	seed(t, st)
	e := newEnvWith(t, changeFailsStore{st}, func(c *pbxauth.Config) { c.OnEvent, c.VolatileMail = ev.add, true })
	caller, _ := e.signIn(t, aliceCreds())
	other, _ := e.signIn(t, aliceCreds())
	before := len(ev.kinds())
	r := e.c.Do("POST", "/user/password", changeBody(alicePW, "new-alice-pw-9"), apitest.Bearer(caller)...)
	if r.Status != 503 || strings.Contains(string(r.Body), "secret-dsn-detail") {
		t.Fatalf("POST /user/password with the Store step failing: %d %s", r.Status, r.Body)
	}
	if kinds := ev.kinds()[before:]; len(kinds) != 0 {
		t.Errorf("events %v reported for a change that failed", kinds)
	}
	e.wantBearer(t, "the caller's sign-in", caller, 200)
	e.wantBearer(t, "a second sign-in of the user", other, 200)
	e.wantSignIn(t, "new-alice-pw-9", 401)
	e.wantSignIn(t, alicePW, 200)
}
