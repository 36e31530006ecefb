// Black-box tests of when events fire: sign_in only for a sign-in that was
// issued, second_factor_required for a right password that still needs a
// code, each carrying its request's ID.

package pbxauth_test

import (
	"slices"
	"testing"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// since returns the events recorded after the first n, and how many there
// are now.
func (l *eventLog) since(n int) ([]pbxauth.Event, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events[n:]), len(l.events)
}

func kinds(evs []pbxauth.Event) []pbxauth.EventKind {
	var ks []pbxauth.EventKind
	for _, ev := range evs {
		ks = append(ks, ev.Kind)
	}
	return ks
}

// TestSignInEventOnlyWhenIssued: for a user with a second factor, the right
// password reports second_factor_required and no sign_in, through the token
// route and the cookie route; the verify_otp that completes the flow
// reports sign_in once. Every event carries the request ID of the answer it
// belongs to.
func TestSignInEventOnlyWhenIssued(t *testing.T) {
	var log eventLog
	e := newMailEnv(t, plainHTTP, log.record)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	n := 0
	who := map[string]pbxauth.Event{
		"alice": {UserID: aliceID, TenantID: acmeID, Username: "alice"},
		"admin": {UserID: adminID, Username: "admin"},
	}
	step := func(name, user string, r *apitest.Response, want ...pbxauth.EventKind) {
		t.Helper()
		var evs []pbxauth.Event
		evs, n = log.since(n)
		if !slices.Equal(kinds(evs), want) {
			t.Errorf("%s: events %v, want %v", name, kinds(evs), want)
		}
		for _, ev := range evs {
			if id := r.Header.Get("X-Request-ID"); ev.RequestID != id || id == "" {
				t.Errorf("%s: event %s has request ID %q, the answer %q", name, ev.Kind, ev.RequestID, id)
			}
		}
		for _, ev := range evs {
			if ev.Kind == pbxauth.EventSignIn || ev.Kind == pbxauth.EventSecondFactorRequired {
				u := who[user]
				if ev.UserID != u.UserID || ev.TenantID != u.TenantID || ev.Username != u.Username || ev.Method != "password" || ev.ClientIP != "127.0.0.1" {
					t.Errorf("%s: %+v", name, ev)
				}
			}
		}
	}

	for _, route := range []string{"/auth/sign_in", "/login"} {
		r := e.c.Do("POST", route, aliceCreds())
		if r.Status != 200 || r.String("token") == "" {
			t.Fatalf("POST %s: %d %s", route, r.Status, r.Body)
		}
		step("POST "+route, "alice", r, pbxauth.EventSecondFactorRequired)
		flow := r.String("token")
		code := e.sendCode(t, flow, aliceEmail)
		_, n = log.since(0) // two_factor_sent
		v := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
		if v.Status != 200 {
			t.Fatalf("verify_otp: %d %s", v.Status, v.Body)
		}
		step("verify_otp of "+route, "alice", v, pbxauth.EventTwoFactorVerified, pbxauth.EventSignIn)
		if r := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code}); r.Status != 401 {
			t.Fatalf("verify_otp again: %d", r.Status)
		}
		_, n = log.since(0) // two_factor_failed, replayed
	}

	// Without a second factor, the password issues the sign-in at once.
	r := e.c.Do("POST", "/auth/sign_in", map[string]any{"username": "admin", "password": adminPW})
	step("admin's sign_in", "admin", r, pbxauth.EventSignIn)
	r = newClient(t, e.env).Do("POST", "/login", map[string]any{"username": "admin", "password": adminPW})
	step("admin's POST /login", "admin", r, pbxauth.EventSignIn)
}

// TestSecondFactorRequiredKeepsQR: a sign-in through a provisioning QR code
// that needs a second factor reports QR on second_factor_required and on the
// sign_in its verify_otp issues.
func TestSecondFactorRequiredKeepsQR(t *testing.T) {
	var log eventLog
	e := newMailEnv(t, log.record)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	r := e.c.Do("POST", "/auth/sign_in?qr=true", aliceCreds())
	flow := r.String("token")
	if r.Status != 200 || flow == "" {
		t.Fatalf("sign_in?qr=true: %d %s", r.Status, r.Body)
	}
	code := e.sendCode(t, flow, aliceEmail)
	if s := e.verify(t, flow, code); s != 200 {
		t.Fatalf("verify_otp: %d", s)
	}
	evs, _ := log.since(0)
	var qr []pbxauth.EventKind
	for _, ev := range evs {
		if ev.QR {
			qr = append(qr, ev.Kind)
		}
	}
	if want := []pbxauth.EventKind{pbxauth.EventSecondFactorRequired, pbxauth.EventSignIn}; !slices.Equal(qr, want) {
		t.Errorf("events with QR: %v, want %v (all: %v)", qr, want, kinds(evs))
	}
}
