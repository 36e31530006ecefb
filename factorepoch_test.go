// The attacker's tests of factors registered in a race with the end of
// the sign-in that asked for them: an attacker holding a victim's bearer
// token confirms an authenticator app of their own (or buys a new set of
// recovery codes) while the victim resets the password or signs out
// everywhere. Once that step has answered, nothing the attacker's request
// registers may survive it.

package pbxauth_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// factorHold holds one request inside the store while the victim's step
// runs: after it read the user's sign-ins (and found its own live), after
// it read the user's app, or at the write that stores the factor, before
// it reaches the store. The step then surely falls between the bearer
// check and the write, which by chance it would hit rarely.
type factorHold struct {
	*memstore.Store
	at      string // "Families", "TOTP", "ActivateTOTP" or "ReplaceRecoveryCodes"
	armed   atomic.Bool
	held    chan struct{}
	release chan struct{}
}

// factorEnv serves a mail env with keys over a seeded factorHold that
// holds at at.
func factorEnv(t *testing.T, at string) (*factorHold, *mailEnv) {
	st := &factorHold{Store: memstore.New(), at: at, held: make(chan struct{}), release: make(chan struct{})}
	seed(t, st)
	return st, newMailEnv(t, withKeys, func(c *pbxauth.Config) { c.Store = st })
}

// pendingApp starts an enrolment of alice's with access and returns the
// body that confirms it.
func pendingApp(t *testing.T, e *mailEnv, access string) map[string]any {
	t.Helper()
	r := e.c.Do("POST", "/auth/totp", nil, apitest.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("POST /auth/totp: %d %s", r.Status, r.Body)
	}
	return map[string]any{"code": apitest.TOTPCode(t, r.String("secret"), e.clock.Now())}
}

// hold holds the armed request at method, once.
func (s *factorHold) hold(method string) {
	if s.at == method && s.armed.CompareAndSwap(true, false) {
		close(s.held)
		<-s.release
	}
}

func (s *factorHold) Families(ctx context.Context, userID string, now time.Time) ([]store.Family, error) {
	fs, err := s.Store.Families(ctx, userID, now)
	s.hold("Families")
	return fs, err
}

func (s *factorHold) TOTP(ctx context.Context, userID string) (store.TOTP, error) {
	t, err := s.Store.TOTP(ctx, userID)
	s.hold("TOTP")
	return t, err
}

func (s *factorHold) ActivateTOTP(ctx context.Context, userID string, epoch, step int64, hashes []string) error {
	s.hold("ActivateTOTP")
	return s.Store.ActivateTOTP(ctx, userID, epoch, step, hashes)
}

func (s *factorHold) ReplaceRecoveryCodes(ctx context.Context, userID string, epoch int64, hashes []string) error {
	s.hold("ReplaceRecoveryCodes")
	return s.Store.ReplaceRecoveryCodes(ctx, userID, epoch, hashes)
}

// holdAcross sends do with st armed, runs end once do is held, and
// returns do's answer.
func holdAcross(t *testing.T, st *factorHold, do func() *apitest.Response, end func()) *apitest.Response {
	t.Helper()
	st.armed.Store(true)
	answer := make(chan *apitest.Response, 1)
	go func() { answer <- do() }()
	select {
	case <-st.held:
	case r := <-answer:
		t.Fatalf("the request was not held at %s: %d %s", st.at, r.Status, r.Body)
	}
	end()
	close(st.release)
	return <-answer
}

// wantEndedBearer insists on the 401 of a bearer token whose sign-in ended.
func wantEndedBearer(t *testing.T, what string, r *apitest.Response) {
	t.Helper()
	if r.Status != 401 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Errorf("%s: %d %s (WWW-Authenticate %q), want 401 invalid_token", what, r.Status, r.Body, r.Header.Get("WWW-Authenticate"))
	}
}

// aliceAfter returns alice's credentials after ender.
func aliceAfter(ender epochEnder) map[string]any {
	c := aliceCreds()
	if ender.changesPassword {
		c["password"] = "victims-new-pw-1"
	}
	return c
}

// TestAppConfirmedInRaceWithEnd: the attacker's confirmation of an app,
// held after the bearer check while the victim's step runs, is answered
// 401 invalid_token and leaves no active app — held at each read after
// the bearer check, and at the store's write itself.
func TestAppConfirmedInRaceWithEnd(t *testing.T) {
	for _, at := range []string{"Families", "TOTP", "ActivateTOTP"} {
		for _, ender := range epochEnders {
			t.Run(at+" "+ender.name, func(t *testing.T) {
				st, e := factorEnv(t, at)
				attacker, _ := e.signIn(t, aliceCreds())
				confirm := pendingApp(t, e, attacker)
				r := holdAcross(t, st, func() *apitest.Response {
					return e.c.Do("POST", "/auth/totp/confirm", confirm, apitest.Bearer(attacker)...)
				}, func() { ender.end(t, e, attacker) })
				if ender.name != "ResetTOTP" || r.Status != 400 { // it may remove the enrolment first
					wantEndedBearer(t, "confirm held across "+ender.name, r)
				}
				if app, err := st.Store.TOTP(t.Context(), aliceID); err == nil && app.Active {
					t.Errorf("the attacker's app is active after %s", ender.name)
				}
				// Alice signs in with her password alone: no app stands in her way.
				if r := e.c.Do("POST", "/auth/sign_in", aliceAfter(ender)); r.Status != 200 || r.String("access_token") == "" {
					t.Errorf("alice's sign-in after %s: %d %s, want tokens without a second factor", ender.name, r.Status, r.Body)
				}
			})
		}
	}
}

// TestRecoveryCodesReplacedInRaceWithEnd: the attacker's request for new
// recovery codes, held after the bearer check while the victim's step
// runs, is answered 401 invalid_token, and the victim's own codes still
// work.
func TestRecoveryCodesReplacedInRaceWithEnd(t *testing.T) {
	for _, at := range []string{"Families", "TOTP", "ReplaceRecoveryCodes"} {
		for _, ender := range epochEnders {
			if ender.name == "ResetTOTP" {
				continue // it deletes the codes itself
			}
			t.Run(at+" "+ender.name, func(t *testing.T) {
				st, e := factorEnv(t, at)
				secret, codes := enrolAlice(t, e)
				flow := e.startFlow(t)
				r := e.verifyApp(flow, apitest.TOTPCode(t, secret, e.clock.Now()))
				if r.Status != 200 {
					t.Fatalf("verify_otp: %d %s", r.Status, r.Body)
				}
				attacker := r.String("access_token")
				e.clock.Advance(30 * time.Second) // the next step's code is unused
				code := apitest.TOTPCode(t, secret, e.clock.Now())
				r = holdAcross(t, st, func() *apitest.Response {
					return e.c.Do("POST", "/auth/recovery_codes", map[string]any{"code": code}, apitest.Bearer(attacker)...)
				}, func() { ender.end(t, e, attacker) })
				wantEndedBearer(t, "recovery_codes held across "+ender.name, r)
				if _, shown := r.JSON()["recovery_codes"]; shown {
					t.Errorf("new recovery codes were shown after %s", ender.name)
				}
				// The victim's own codes were not replaced.
				r = e.c.Do("POST", "/auth/sign_in", aliceAfter(ender))
				if r.Status != 200 || r.String("token") == "" {
					t.Fatalf("alice's sign-in after %s: %d %s", ender.name, r.Status, r.Body)
				}
				if r := e.verifyApp(r.String("token"), codes[0]); r.Status != 200 {
					t.Errorf("alice's own recovery code after %s: %d %s, want 200", ender.name, r.Status, r.Body)
				}
			})
		}
	}
}

// TestFactorRefusedWhenOthersEnded: a factor change held while its own
// sign-in signs out the others (scope=others: the caller's sign-in is
// carried over, the epoch moves) is refused with 400 and reason
// credentials_changed, and nothing is stored; sent again, it succeeds.
func TestFactorRefusedWhenOthersEnded(t *testing.T) {
	for _, at := range []string{"TOTP", "ActivateTOTP"} {
		t.Run(at, func(t *testing.T) {
			st, e := factorEnv(t, at)
			access, _ := e.signIn(t, aliceCreds())
			confirm := pendingApp(t, e, access)
			r := holdAcross(t, st, func() *apitest.Response {
				return e.c.Do("POST", "/auth/totp/confirm", confirm, apitest.Bearer(access)...)
			}, func() {
				if r := e.c.Do("POST", "/auth/sign_out?scope=others", nil, apitest.Bearer(access)...); r.Status != 200 {
					t.Fatalf("sign_out others: %d %s", r.Status, r.Body)
				}
			})
			if r.Status != 400 || r.Code() != pbxauth.CodeInvalidArgument || r.Reason() != pbxauth.ReasonCredentialsChanged {
				t.Fatalf("confirm held across sign_out?scope=others: %d %s, want 400 with reason credentials_changed", r.Status, r.Body)
			}
			if app, err := st.Store.TOTP(t.Context(), aliceID); err != nil || app.Active {
				t.Fatalf("the app after a refused confirmation: %+v %v, want pending", app, err)
			}
			if r := e.c.Do("POST", "/auth/totp/confirm", confirm, apitest.Bearer(access)...); r.Status != 200 {
				t.Errorf("the confirmation sent again: %d %s", r.Status, r.Body)
			}
		})
	}
}
