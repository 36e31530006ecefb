// The attacker's tests of recovery codes racing on one second-factor
// flow: a code may be spent only by the request that completes the flow.
// A request that loses the flow — to a concurrent request with the same
// code or with another right code — must leave its code unspent, so a
// user's ten codes are not burnt by their own retries or by a double
// click.

package pbxauth_test

import (
	"net/http"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// recoveryRaceEnv is a mail env with keys over st in which alice has an
// app and its ten recovery codes. Her sign-ins come from one browser, a
// known device after the first: its sign-ins a minute, the codes checked
// at once per user and a flow's attempts are raised, so that every racer
// reaches its code.
func recoveryRaceEnv(t *testing.T, st store.Store) (*mailEnv, []string) {
	e := newMailEnv(t, withKeys, func(c *pbxauth.Config) {
		c.Store = st
		c.Limits.DeviceSignIns, c.Limits.CodeAttempts, c.Limits.FlowCodeAttempts = 1000, 1000, 1000
	})
	_, codes := enrolAlice(t, e)
	return e, codes
}

// wantCodesWork checks that each of codes still signs alice in.
func wantCodesWork(t *testing.T, e *mailEnv, codes []string, what string) {
	t.Helper()
	for _, code := range codes {
		if r := e.verifyApp(e.startFlow(t), code); r.Status != http.StatusOK {
			t.Errorf("recovery code %s %s: %d %s, want 200: it was spent by a request that did not sign in", code, what, r.Status, r.Body)
		}
	}
}

// TestRecoveryCodeRaceOnOneFlow: one flow, and 10 concurrent submissions
// of one right recovery code, then 8 of 8 different right codes, each
// racer held until all have counted their attempt on the flow (a
// barrierStore at UpdateFlow): each time exactly one signs in, and every
// other code — the losers' included — still works afterwards.
func TestRecoveryCodeRaceOnOneFlow(t *testing.T) {
	st := newBarrierStore(t, "UpdateFlow")
	e, codes := recoveryRaceEnv(t, st)

	flow := e.startFlow(t)
	st.arm(10)
	got := apitest.Race(10, func(int) *apitest.Response { return e.verifyApp(flow, codes[0]) })
	if got[200] != 1 || got[401] != 9 {
		t.Fatalf("10 submissions of one recovery code on one flow: %v, want one 200 and 9 of 401", got)
	}

	flow = e.startFlow(t)
	racing := codes[1:9]
	answers := make([]int, len(racing))
	st.arm(len(racing))
	got = apitest.Race(len(racing), func(i int) *apitest.Response {
		r := e.verifyApp(flow, racing[i])
		answers[i] = r.Status
		return r
	})
	if got[200] != 1 || got[401] != len(racing)-1 {
		t.Fatalf("%d different recovery codes on one flow: %v, want one 200 and 401 for the rest", len(racing), got)
	}
	var losers []string
	for i, status := range answers {
		if status != http.StatusOK {
			losers = append(losers, racing[i])
		}
	}
	wantCodesWork(t, e, append(losers, codes[9]), "that lost the flow")
}
