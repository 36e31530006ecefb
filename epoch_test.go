// The attacker's tests of the sign-in epoch: an attacker who knows the old
// password keeps signing in while the victim resets it (or an operator
// disables the account, or the victim signs out everywhere). Once that
// step has answered, no sign-in that proved the old password — however
// long it waited for hashing — may hold a working token.

package pbxauth_test

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// holdingStore holds the user reads of password sign-ins — the read that
// fetches the hash and the epoch before hashing — while hold is armed,
// until release is closed. It makes the window the attacker hit by chance
// (a sign-in answered 16–120 ms after reset_password had) certain: the
// held sign-ins have read the user before the victim's step starts and
// go on to hash and issue only after it answered.
type holdingStore struct {
	*memstore.Store
	armed   atomic.Bool
	held    sync.WaitGroup // the reads that are held
	holding atomic.Int32
	release chan struct{}
}

func (s *holdingStore) UserByName(ctx context.Context, tenantID, username string) (store.User, error) {
	u, err := s.Store.UserByName(ctx, tenantID, username)
	if s.armed.Load() {
		s.holding.Add(1)
		s.held.Done()
		<-s.release
	}
	return u, err
}

// epochEnder is a step that ends every sign-in of alice, as the victim or
// an operator takes it; it reports failures itself.
type epochEnder struct {
	name string
	// changesPassword: the old password proves nothing after the step, so
	// no sign-in with it may work, whenever it began; otherwise (a
	// disable and enable, a global sign-out) sign-ins begun after the
	// step are new and legitimate, and only those in flight must end.
	changesPassword bool
	end             func(t *testing.T, e *mailEnv, access string)
}

var epochEnders = []epochEnder{
	{"reset_password", true, func(t *testing.T, e *mailEnv, _ string) {
		e.forget(t, "alice")
		tok := e.resetToken(t, aliceEmail)
		if r := e.reset(t, tok, "victims-new-pw-1"); r.Status != 200 {
			t.Fatalf("reset_password: %d %s", r.Status, r.Body)
		}
	}},
	{"SetPassword", true, func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.SetPassword(t.Context(), aliceID, "victims-new-pw-1", false); err != nil {
			t.Fatal(err)
		}
	}},
	{"DisableUser", false, func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.DisableUser(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
		// Enabled again at once: what was started before must not revive.
		if err := e.auth.EnableUser(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}},
	{"sign_out?scope=global", false, func(t *testing.T, e *mailEnv, access string) {
		if r := e.c.Do("POST", "/auth/sign_out?scope=global", nil, apitest.Bearer(access)...); r.Status != 200 {
			t.Fatalf("sign_out global: %d %s", r.Status, r.Body)
		}
	}},
	{"SignOutEverywhere", false, func(t *testing.T, e *mailEnv, _ string) {
		if _, err := e.auth.SignOutEverywhere(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}},
	{"ResetTOTP", false, func(t *testing.T, e *mailEnv, _ string) {
		if err := e.auth.ResetTOTP(t.Context(), aliceID); err != nil {
			t.Fatal(err)
		}
	}},
}

// TestEpochEndsSignInsInFlight: for each way of ending alice's sign-ins,
// and for both sign-in routes, several attacker loops sign in with the old
// password at once; the first few are held after reading alice (see
// holdingStore) while the victim's step runs and answers. Each held
// sign-in must be answered 401 with the event of a credential change (not
// counted as a wrong password); after a password change every token the
// attacker ever got — before, during and after — must be refused.
func TestEpochEndsSignInsInFlight(t *testing.T) {
	for _, ender := range epochEnders {
		for _, route := range []string{"/auth/sign_in", "/login"} {
			t.Run(ender.name+" "+route, func(t *testing.T) {
				testEpochRace(t, ender, route)
			})
		}
	}
}

func testEpochRace(t *testing.T, ender epochEnder, route string) {
	const loops = 6
	st := &holdingStore{Store: memstore.New(), release: make(chan struct{})}
	seed(t, st)
	var (
		mu     sync.Mutex
		events []pbxauth.Event
	)
	e := newMailEnv(t, func(c *pbxauth.Config) {
		c.Store = st
		c.InsecureCookies = true
		// The attacker's own loops must not take the held sign-ins' slots
		// of the account's limit: this test is about what the password
		// proves, not about how many are checked.
		c.Limits.PasswordAttempts = 1000
		c.HashQueue = 1000 // nor be turned away by a full hashing queue
		c.OnEvent = func(_ context.Context, ev pbxauth.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		}
	})
	victim, _ := e.signIn(t, aliceCreds())

	// attempt is one attacker sign-in: its working credential, if any —
	// a bearer token, or for /login the session cookie's client.
	type attempt struct {
		status int
		access string
		jar    *apitest.Client
	}
	signIn := func() attempt {
		c := e.c
		if route == "/login" {
			c = apitest.NewClient(t, e.c.URL) // a browser of its own
		}
		r := c.Do("POST", route, aliceCreds())
		a := attempt{status: r.Status, jar: c}
		if r.Status == 200 {
			a.access = r.String("access_token")
		}
		return a
	}

	var (
		wg       sync.WaitGroup
		results  = make(chan attempt, 10000)
		held     = make(chan attempt, loops)
		stopping atomic.Bool
	)
	// The held sign-ins: they read alice, then wait for the victim.
	st.held.Add(loops)
	st.armed.Store(true)
	for range loops {
		wg.Go(func() { held <- signIn() })
	}
	st.held.Wait()
	st.armed.Store(false)
	// Meanwhile the attacker's loops go on, before, during and after.
	for range loops {
		wg.Go(func() {
			for !stopping.Load() {
				results <- signIn()
			}
		})
	}
	ender.end(t, e, victim)
	close(st.release) // the step has answered: the held sign-ins go on
	// A few more rounds after the step, then stop.
	for range loops {
		results <- signIn()
	}
	stopping.Store(true)
	wg.Wait()
	close(results)
	close(held)

	if n := st.holding.Load(); n != loops {
		t.Fatalf("%d sign-ins were held across the step, want %d: the window was not hit", n, loops)
	}
	for a := range held {
		if a.status != http.StatusUnauthorized {
			t.Errorf("a sign-in that proved the password before %s answered, and issued after: %d, want 401", ender.name, a.status)
		}
	}
	got := 0
	for a := range results {
		if !ender.changesPassword {
			continue
		}
		if a.status != 200 {
			continue
		}
		got++
		if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(a.access)...); r.Status != 401 {
			t.Errorf("an attacker's token answered %d on /auth/user after %s had answered", r.Status, ender.name)
		}
		if route == "/login" {
			if r := a.jar.Do("GET", "/login", nil); r.Status != 401 {
				t.Errorf("an attacker's cookie session answered %d on GET /login after %s had answered", r.Status, ender.name)
			}
		}
	}
	t.Logf("%s %s: %d attacker sign-ins answered 200 in all, %d held across the step", ender.name, route, got, loops)
	mu.Lock()
	defer mu.Unlock()
	changed := 0
	for _, ev := range events {
		if ev.Kind == pbxauth.EventSignInFailed && ev.Reason == pbxauth.ReasonCredentialsChanged && ev.UserID == aliceID {
			changed++
		}
	}
	if changed < loops {
		t.Errorf("%d sign_in_failed events with reason credentials_changed, want at least the %d held sign-ins", changed, loops)
	}
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(victim)...); r.Status != 401 {
		t.Errorf("the victim's own earlier token answered %d after %s", r.Status, ender.name)
	}
}

// TestEpochEndsSecondFactorFlows: a second-factor flow begun before the
// user's sign-ins were ended cannot complete after, with the right code.
func TestEpochEndsSecondFactorFlows(t *testing.T) {
	for _, ender := range epochEnders {
		t.Run(ender.name, func(t *testing.T) {
			e := newMailEnv(t, func(c *pbxauth.Config) { c.InsecureCookies = true })
			victim, _ := e.signIn(t, aliceCreds())
			e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
			r := e.c.Do("POST", "/auth/sign_in", aliceCreds())
			if r.Status != 200 || r.String("token") == "" {
				t.Fatalf("sign_in of a 2FA user: %d %s", r.Status, r.Body)
			}
			flow := r.String("token")
			code := e.sendCode(t, flow, aliceEmail)
			ender.end(t, e, victim)
			if got := e.verify(t, flow, code); got != http.StatusUnauthorized {
				t.Errorf("verify_otp with the right code of a flow begun before %s: %d, want 401", ender.name, got)
			}
		})
	}
}

// TestSignInsPerUserEvicts: the 4th sign-in of a user with a bound of 3
// ends the least recently used, reported as evicted, and the list of
// sessions keeps 3.
func TestSignInsPerUserEvicts(t *testing.T) {
	var (
		mu      sync.Mutex
		evicted []string
	)
	e := newEnv(t, func(c *pbxauth.Config) {
		c.Limits.SignInsPerUser = 3
		c.OnEvent = func(_ context.Context, ev pbxauth.Event) {
			if ev.Kind == pbxauth.EventSessionRevoked && ev.Reason == pbxauth.ReasonEvicted {
				mu.Lock()
				evicted = append(evicted, ev.SessionID)
				mu.Unlock()
			}
		}
	})
	var tokens []string
	for range 3 {
		a, _ := e.signIn(t, aliceCreds())
		tokens = append(tokens, a)
		e.clock.Advance(2 * time.Minute)
	}
	// The first is used now, so the second is the least recently used.
	if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(tokens[0])...); r.Status != 200 {
		t.Fatalf("first token: %d", r.Status)
	}
	e.clock.Advance(2 * time.Minute)
	fourth, _ := e.signIn(t, aliceCreds())
	for i, want := range []int{200, 401, 200} {
		if r := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(tokens[i])...); r.Status != want {
			t.Errorf("sign-in %d after the 4th: %d, want %d", i+1, r.Status, want)
		}
	}
	r := e.c.Do("GET", "/auth/sessions", nil, apitest.Bearer(fourth)...)
	if r.Status != 200 {
		t.Fatalf("sessions: %d %s", r.Status, r.Body)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(evicted) != 1 {
		t.Errorf("evicted events: %v, want one", evicted)
	}
}
