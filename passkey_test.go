// Passkeys over HTTP with a software authenticator, as an attacker would
// try them: ceremonies changed in every checked part, replays and races,
// credential IDs taken twice, the per-user limit, counters and backup
// flags, other users' passkeys, and the password reset.

package pbxauth_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/softauthn"
	"github.com/pbxauth/pbxauth/memstore"
	"github.com/pbxauth/pbxauth/store"
)

// The relying party of the test env's PublicURL (http://pbxauth.test/api).
const (
	pkRPID   = "pbxauth.test"
	pkOrigin = "http://pbxauth.test"
)

var pkKey = bytes.Repeat([]byte{7}, 32)

// withPasskeys gives the Auth the encryption key passkeys need.
func withPasskeys(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{pkKey} }

// newPasskeyEnv is a mail env with passkeys on and events recorded.
func newPasskeyEnv(t *testing.T, configure ...func(*pbxauth.Config)) (*mailEnv, *eventLog) {
	t.Helper()
	ev := &eventLog{}
	base := func(c *pbxauth.Config) { withPasskeys(c); ev.record(c) }
	return newMailEnv(t, append([]func(*pbxauth.Config){base}, configure...)...), ev
}

// find returns the events of kind (and reason, when not "").
func (l *eventLog) find(kind pbxauth.EventKind, reason string) []pbxauth.Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []pbxauth.Event
	for _, e := range l.events {
		if e.Kind == kind && (reason == "" || e.Reason == reason) {
			out = append(out, e)
		}
	}
	return out
}

// publicKeyOf reads an options answer: its token, challenge and user.id.
func publicKeyOf(t *testing.T, r *apitest.Response) (token string, challenge, handle []byte) {
	t.Helper()
	if r.Status != 200 {
		t.Fatalf("options: %d %s", r.Status, r.Body)
	}
	pk, _ := r.JSON()["publicKey"].(map[string]any)
	challenge = b64d(t, pk["challenge"])
	if u, ok := pk["user"].(map[string]any); ok {
		handle = b64d(t, u["id"])
	}
	return r.String("token"), challenge, handle
}

func b64d(t *testing.T, v any) []byte {
	t.Helper()
	s, _ := v.(string)
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil || len(b) == 0 {
		t.Fatalf("base64url %q: %v", s, err)
	}
	return b
}

// registration starts a registration for the bearer and returns the token,
// challenge and user handle.
func (e *env) registration(t *testing.T, access string) (string, []byte, []byte) {
	t.Helper()
	return publicKeyOf(t, e.c.Do("POST", "/auth/passkeys/options", map[string]any{}, apitest.Bearer(access)...))
}

// finishRegistration posts c's answer to a registration.
func (e *env) finishRegistration(access, token string, c *softauthn.Credential, cer softauthn.Ceremony) *apitest.Response {
	return e.c.Do("POST", "/auth/passkeys", map[string]any{"token": token, "credential": json.RawMessage(c.Register(cer))}, apitest.Bearer(access)...)
}

// addPasskey registers a new device-bound passkey (synced when synced)
// for the bearer and returns it with its id.
func (e *env) addPasskey(t *testing.T, access string, synced bool) (*softauthn.Credential, string) {
	t.Helper()
	tok, ch, handle := e.registration(t, access)
	c := softauthn.New(pkRPID, handle)
	if synced {
		c.Synced()
	}
	r := e.finishRegistration(access, tok, c, softauthn.Ceremony{Challenge: ch, Origin: pkOrigin})
	if r.Status != 201 {
		t.Fatalf("register passkey: %d %s", r.Status, r.Body)
	}
	return c, r.String("id")
}

// passkeyStart starts a passkey sign-in.
func (e *env) passkeyStart(t *testing.T, body map[string]any) (string, []byte) {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	tok, ch, _ := publicKeyOf(t, e.c.Do("POST", "/auth/sign_in/passkey/options", body))
	return tok, ch
}

// passkeySignIn signs in with c, the ceremony changed by change.
func (e *env) passkeySignIn(t *testing.T, c *softauthn.Credential, change func(*softauthn.Ceremony)) *apitest.Response {
	t.Helper()
	tok, ch := e.passkeyStart(t, nil)
	cer := softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}
	if change != nil {
		change(&cer)
	}
	return e.c.Do("POST", "/auth/sign_in/passkey", map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(cer))})
}

// passkeys lists the bearer's passkeys.
func (e *env) passkeys(t *testing.T, access string) []map[string]any {
	t.Helper()
	r := e.c.Do("GET", "/auth/passkeys", nil, apitest.Bearer(access)...)
	if r.Status != 200 {
		t.Fatalf("GET /auth/passkeys: %d %s", r.Status, r.Body)
	}
	var out []map[string]any
	for _, p := range r.JSON()["passkeys"].([]any) {
		out = append(out, p.(map[string]any))
	}
	return out
}

// receiveMail returns the next mail whose text has sub, skipping others.
func (e *mailEnv) receiveMail(t *testing.T, sub string) string {
	t.Helper()
	var seen []string
	for range 6 {
		m := e.smtp.Receive(t)
		if strings.Contains(m.Text, sub) {
			return m.Text
		}
		seen = append(seen, m.Text)
	}
	t.Fatalf("no mail says %q; got %q", sub, seen)
	return ""
}

func TestPasskeyRegisterSignInAndLogin(t *testing.T) {
	e, ev := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, id := e.addPasskey(t, access, false)
	e.receiveMail(t, "was added")
	list := e.c.Do("GET", "/auth/passkeys", nil, apitest.Bearer(access)...)
	ps := list.JSON()["passkeys"].([]any)
	if list.Status != 200 || len(ps) != 1 || ps[0].(map[string]any)["id"] != id || ps[0].(map[string]any)["name"] != "Passkey" ||
		!bytes.Equal(b64d(t, list.JSON()["user_handle"]), c.UserHandle) || len(c.UserHandle) != 64 {
		t.Fatalf("list: %d %s", list.Status, list.Body)
	}
	if len(ev.find(pbxauth.EventPasskeyAdded, "")) != 1 {
		t.Error("no passkey_added event")
	}

	r := e.passkeySignIn(t, c, nil)
	if r.Status != 200 || r.String("access_token") == "" || r.String("refresh_token") == "" {
		t.Fatalf("passkey sign-in: %d %s", r.Status, r.Body)
	}
	pkAccess := r.String("access_token")
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(pkAccess)...); u.JSON()["password_verified"] != false || u.String("username") != "alice" {
		t.Errorf("/auth/user after a passkey sign-in: %s", u.Body)
	}
	found := false
	for _, s := range e.sessions(t, pkAccess) {
		found = found || (s["current"] == true && s["method"] == "passkey")
	}
	if !found {
		t.Error("the passkey sign-in is not listed with method passkey")
	}
	if s := ev.find(pbxauth.EventSignIn, ""); len(s) == 0 || s[len(s)-1].Method != "passkey" || s[len(s)-1].UserID != aliceID {
		t.Errorf("sign_in events: %+v", s)
	}
	// A passkey sign-in is recent: it may add another passkey.
	e.addPasskey(t, pkAccess, true)

	// The cookie session, same-origin.
	tok, ch := e.passkeyStart(t, nil)
	body := map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
	cross := e.c.Do("POST", "/login/passkey", body, "Sec-Fetch-Site", "cross-site")
	if cross.Status != 403 {
		t.Fatalf("cross-site /login/passkey: %d", cross.Status)
	}
	tok, ch = e.passkeyStart(t, nil)
	body = map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
	l := e.c.Do("POST", "/login/passkey", body)
	if l.Status != 200 || l.String("access_token") == "" {
		t.Fatalf("/login/passkey: %d %s", l.Status, l.Body)
	}
	// A known device is one the password came through: no device cookie.
	for _, resp := range []*apitest.Response{r, l} {
		if c := strings.Join(resp.Header.Values("Set-Cookie"), "; "); strings.Contains(c, pbxauth.DeviceCookieName) {
			t.Errorf("a passkey sign-in set the device cookie: %s", c)
		}
	}
	wantStatus(t, "GET /login after /login/passkey", e.c.Do("GET", "/login", nil), 200)
}

// TestPasskeyCeremonyChangedIsRefused: every part of an assertion and of a
// registration that the server must check, changed by an attacker.
func TestPasskeyCeremonyChangedIsRefused(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	_, regChallenge, _ := e.registration(t, access)
	_, otherChallenge := e.passkeyStart(t, nil)
	for name, change := range map[string]func(*softauthn.Ceremony){
		"wrong origin":                 func(c *softauthn.Ceremony) { c.Origin = "http://evil.test" },
		"origin of another port":       func(c *softauthn.Ceremony) { c.Origin = "http://pbxauth.test:8080" },
		"wrong RP ID":                  func(c *softauthn.Ceremony) { c.RPID = "evil.test" },
		"UV off":                       func(c *softauthn.Ceremony) { c.NoUV = true },
		"UP off":                       func(c *softauthn.Ceremony) { c.NoUP = true },
		"challenge of a registration":  func(c *softauthn.Ceremony) { c.Challenge = regChallenge },
		"challenge of another sign-in": func(c *softauthn.Ceremony) { c.Challenge = otherChallenge },
		"type of a registration":       func(c *softauthn.Ceremony) { c.Type = "webauthn.create" },
		"cross-origin iframe":          func(c *softauthn.Ceremony) { c.CrossOrigin, c.TopOrigin = true, "http://evil.test" },
		"another user's handle":        func(c *softauthn.Ceremony) { c.UserHandle = bytes.Repeat([]byte{1}, 64) },
		"no user handle":               func(c *softauthn.Ceremony) { c.OmitUserHandle = true },
	} {
		c.Count-- // the assertion is refused before its count is recorded
		r := e.passkeySignIn(t, c, change)
		if r.Status != 401 || r.Code() != "UNAUTHORIZED" || r.Reason() != "" {
			t.Errorf("%s: %d %s, want 401 without reason", name, r.Status, r.Body)
		}
	}
	wantStatus(t, "the honest assertion after them", e.passkeySignIn(t, c, nil), 200)

	for name, change := range map[string]func(*softauthn.Ceremony){
		"wrong origin": func(c *softauthn.Ceremony) { c.Origin = "http://evil.test" },
		"wrong RP ID":  func(c *softauthn.Ceremony) { c.RPID = "evil.test" },
		"UV off":       func(c *softauthn.Ceremony) { c.NoUV = true },
		"UP off":       func(c *softauthn.Ceremony) { c.NoUP = true },
		"challenge of a sign-in": func(c *softauthn.Ceremony) {
			c.Challenge = otherChallenge
		},
	} {
		tok, ch, handle := e.registration(t, access)
		cer := softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}
		change(&cer)
		if r := e.finishRegistration(access, tok, softauthn.New(pkRPID, handle), cer); r.Status != 400 {
			t.Errorf("registration, %s: %d %s, want 400", name, r.Status, r.Body)
		}
	}
	if n := len(e.passkeys(t, access)); n != 1 {
		t.Fatalf("%d passkeys after refused registrations, want 1", n)
	}
}

// TestPasskeyAssertionReplayed: a sign-in's answer sent again, and 20
// copies of one sent at once: exactly one signs in.
func TestPasskeyAssertionReplayed(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	tok, ch := e.passkeyStart(t, nil)
	body := map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
	wantStatus(t, "first", e.c.Do("POST", "/auth/sign_in/passkey", body), 200)
	if r := e.c.Do("POST", "/auth/sign_in/passkey", body); r.Status != 401 || r.Reason() != "" {
		t.Fatalf("replayed: %d %s", r.Status, r.Body)
	}

	tok, ch = e.passkeyStart(t, nil)
	body = map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
	counts := apitest.Race(20, func(int) *apitest.Response { return e.c.Do("POST", "/auth/sign_in/passkey", body) })
	if counts[200] != 1 || counts[401] != 19 {
		t.Fatalf("20 concurrent finishes: %v, want one 200 and 19 401", counts)
	}
	// Nothing was counted as a clone: the passkey still signs in.
	wantStatus(t, "after the race", e.passkeySignIn(t, c, nil), 200)
}

// TestPasskeyCredentialIDTwice: a credential ID registered again, by its
// user or another, is refused.
func TestPasskeyCredentialIDTwice(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	alice, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, alice, false)
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	for who, access := range map[string]string{"alice": alice, "admin": admin} {
		tok, ch, handle := e.registration(t, access)
		again := softauthn.New(pkRPID, handle)
		again.ID = c.ID // the same credential ID, another key
		r := e.finishRegistration(access, tok, again, softauthn.Ceremony{Challenge: ch, Origin: pkOrigin})
		if r.Status != 400 || r.Code() != "INVALID_ARGUMENT" {
			t.Errorf("%s registers alice's credential ID: %d %s", who, r.Status, r.Body)
		}
	}
	if n := len(e.passkeys(t, admin)); n != 0 {
		t.Fatalf("admin has %d passkeys", n)
	}
}

// TestPasskeyLimit: the 11th passkey is refused, also when two
// registrations begun at 9 finish together.
func TestPasskeyLimit(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	for range 9 {
		e.addPasskey(t, access, true)
	}
	type reg struct {
		tok       string
		ch, handl []byte
	}
	var regs []reg
	for range 2 {
		tok, ch, h := e.registration(t, access)
		regs = append(regs, reg{tok, ch, h})
	}
	counts := apitest.Race(2, func(i int) *apitest.Response {
		return e.finishRegistration(access, regs[i].tok, softauthn.New(pkRPID, regs[i].handl), softauthn.Ceremony{Challenge: regs[i].ch, Origin: pkOrigin})
	})
	if counts[201] != 1 || counts[400] != 1 {
		t.Fatalf("the 10th and 11th at once: %v", counts)
	}
	wantStatus(t, "options at the limit", e.c.Do("POST", "/auth/passkeys/options", map[string]any{}, apitest.Bearer(access)...), 400)
	if n := len(e.passkeys(t, access)); n != 10 {
		t.Fatalf("%d passkeys, want 10", n)
	}
}

// TestPasskeyCounter: a device-bound passkey whose count goes back is
// refused and disabled; a synced one whose count stays 0 is accepted.
func TestPasskeyCounter(t *testing.T) {
	e, ev := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	bound, boundID := e.addPasskey(t, access, false)
	synced, _ := e.addPasskey(t, access, true)
	for range 3 {
		if r := e.passkeySignIn(t, bound, nil); r.Status != 200 {
			t.Fatalf("device-bound: %d %s", r.Status, r.Body)
		}
		if r := e.passkeySignIn(t, synced, nil); r.Status != 200 {
			t.Fatalf("synced with count 0: %d %s", r.Status, r.Body)
		}
	}
	clone := *bound
	clone.Count = 1 // a copy of the key, behind the original
	wantStatus(t, "count gone back", e.passkeySignIn(t, &clone, nil), 401)
	if s := ev.find(pbxauth.EventPasskeySuspicious, pbxauth.ReasonCounter); len(s) != 1 || s[0].PasskeyID != boundID {
		t.Fatalf("passkey_suspicious events: %+v", s)
	}
	e.receiveMail(t, "disabled")
	// Disabled: the original, counting forward, signs in no one either.
	wantStatus(t, "disabled passkey", e.passkeySignIn(t, bound, nil), 401)
	for _, p := range e.passkeys(t, access) {
		if p["id"] == boundID && p["disabled"] != true {
			t.Errorf("the passkey is not shown disabled: %v", p)
		}
	}
	// A synced passkey that reports a count that does not advance is
	// accepted and reported.
	synced.Count, synced.Step = 5, 0
	wantStatus(t, "synced, count 5", e.passkeySignIn(t, synced, nil), 200)
	wantStatus(t, "synced, count 5 again", e.passkeySignIn(t, synced, nil), 200)
	if n := len(ev.find(pbxauth.EventPasskeySuspicious, pbxauth.ReasonCounter)); n != 2 {
		t.Fatalf("%d counter events, want 2", n)
	}
}

// TestPasskeyBackupEligibilityChanged: BE differing from the registration,
// either way, or BS without BE, is refused.
func TestPasskeyBackupEligibilityChanged(t *testing.T) {
	e, ev := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	bound, _ := e.addPasskey(t, access, false)
	synced, _ := e.addPasskey(t, access, true)
	cases := []struct {
		name   string
		c      *softauthn.Credential
		be, bs bool
	}{
		{"BE 0 to 1", bound, true, false},
		{"BE 0 to 1, BS 1", bound, true, true},
		{"BS 1 with BE 0", bound, false, true},
		{"BE 1 to 0", synced, false, false},
	}
	for _, tc := range cases {
		c := *tc.c
		c.BackupEligible, c.BackupState = tc.be, tc.bs
		if r := e.passkeySignIn(t, &c, nil); r.Status != 401 {
			t.Errorf("%s: %d %s", tc.name, r.Status, r.Body)
		}
	}
	if n := len(ev.find(pbxauth.EventPasskeySuspicious, pbxauth.ReasonBackupEligibility)); n != len(cases) {
		t.Fatalf("%d backup_eligibility events, want %d", n, len(cases))
	}
	e.receiveMail(t, "register it again")
	// BS may change.
	synced.BackupState = false
	wantStatus(t, "BS changed", e.passkeySignIn(t, synced, nil), 200)
}

// TestPasskeyOtherUsersID: another user's passkey id is 404 everywhere.
func TestPasskeyOtherUsersID(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	alice, _ := e.signIn(t, aliceCreds())
	c, id := e.addPasskey(t, alice, false)
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	wantStatus(t, "DELETE another's", e.c.Do("DELETE", "/auth/passkeys/"+id, nil, apitest.Bearer(admin)...), 404)
	wantStatus(t, "PATCH another's", e.c.Do("PATCH", "/auth/passkeys/"+id, map[string]any{"name": "mine"}, apitest.Bearer(admin)...), 404)
	wantStatus(t, "DELETE unknown", e.c.Do("DELETE", "/auth/passkeys/nope", nil, apitest.Bearer(alice)...), 404)
	wantStatus(t, "alice's passkey after", e.passkeySignIn(t, c, nil), 200)
	// Renamed and removed by its owner; its sign-ins end with it.
	pkAccess := e.passkeySignIn(t, c, nil).String("access_token")
	if r := e.c.Do("PATCH", "/auth/passkeys/"+id, map[string]any{"name": "Laptop\u0007 key"}, apitest.Bearer(alice)...); r.Status != 200 || r.String("name") != "Laptop key" {
		t.Fatalf("rename: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "DELETE own", e.c.Do("DELETE", "/auth/passkeys/"+id, nil, apitest.Bearer(alice)...), 204)
	e.wantBearer(t, "a sign-in made with the removed passkey", pkAccess, 401)
	e.wantBearer(t, "the password sign-in that removed it", alice, 200)
	if r := e.passkeySignIn(t, c, nil); r.Status != 401 || r.Reason() != "unknown_credential" {
		t.Fatalf("removed passkey: %d %s", r.Status, r.Body)
	}
}

// TestPasskeyRegisteredInARaceWithAReset: a registration begun before a
// password change does not survive it.
func TestPasskeyRegisteredInARaceWithAReset(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	tok, ch, handle := e.registration(t, access)
	if err := e.auth.SetPassword(context.Background(), aliceID, "a-new-password-1", false); err != nil {
		t.Fatal(err)
	}
	r := e.finishRegistration(access, tok, softauthn.New(pkRPID, handle), softauthn.Ceremony{Challenge: ch, Origin: pkOrigin})
	if r.Status != 401 {
		t.Fatalf("registration after a reset: %d %s", r.Status, r.Body)
	}
	// The caller's own password change keeps its sign-in but moves the
	// epoch: the registration begun before it is refused too.
	access, _ = e.signIn(t, map[string]any{"username": "alice", "password": "a-new-password-1", "domain": acmeDomain})
	tok, ch, handle = e.registration(t, access)
	wantStatus(t, "change password", e.c.Do("POST", "/user/password", map[string]any{"old_password": "a-new-password-1", "new_password": "a-new-password-2"}, apitest.Bearer(access)...), 200)
	r = e.finishRegistration(access, tok, softauthn.New(pkRPID, handle), softauthn.Ceremony{Challenge: ch, Origin: pkOrigin})
	if r.Status != 400 || r.Reason() != "credentials_changed" {
		t.Fatalf("registration after a password change: %d %s", r.Status, r.Body)
	}
	if n := len(e.passkeys(t, access)); n != 0 {
		t.Fatalf("%d passkeys survived", n)
	}
}

// TestPasskeyResetDeletesRecentPasskeys: a password reset deletes the
// passkeys added in the 7 days before it, and mails their names.
func TestPasskeyResetDeletesRecentPasskeys(t *testing.T) {
	e, ev := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	old, _ := e.addPasskey(t, access, false)
	e.receiveMail(t, "was added")
	e.clock.Advance(8 * 24 * time.Hour)
	access, _ = e.signIn(t, aliceCreds())
	recent, recentID := e.addPasskey(t, access, true)
	e.receiveMail(t, "was added")
	e.forget(t, "alice")
	tok := e.resetToken(t, aliceEmail)
	wantStatus(t, "reset", e.reset(t, tok, "a-new-password-1"), 200)
	mail := e.receiveMail(t, "were removed")
	if !strings.Contains(mail, "remove any you do not recognise") {
		t.Errorf("reset mail: %s", mail)
	}
	if s := ev.find(pbxauth.EventPasskeyRemoved, pbxauth.ReasonPasswordReset); len(s) != 1 || s[0].PasskeyID != recentID {
		t.Fatalf("passkey_removed events: %+v", s)
	}
	if r := e.passkeySignIn(t, recent, nil); r.Status != 401 || r.Reason() != "unknown_credential" {
		t.Fatalf("the recent passkey after the reset: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "the older passkey after the reset", e.passkeySignIn(t, old, nil), 200)
}

// TestAdminSetPasswordOneMail: an administrator's set of the password of a
// user with passkeys mails the user once, saying who set it and what
// became of the passkeys.
func TestAdminSetPasswordOneMail(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	e.addPasskey(t, access, false)
	e.receiveMail(t, "was added")
	e.clock.Advance(8 * 24 * time.Hour)
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	wantStatus(t, "set alice's password", e.setPassword(admin, aliceID, "set-by-admin-123"), 200)
	m := e.smtp.Receive(t)
	if !strings.Contains(m.Text, "An administrator set a new password") || !strings.Contains(m.Text, "remove any you do not recognise") {
		t.Errorf("the notice of the set: %q", m.Text)
	}
	e.auth.Close() // every notice is sent
	select {
	case m := <-e.smtp.Messages:
		t.Errorf("a second notice: to %v: %q", m.To, m.Text)
	default:
	}
}

// TestPasskeySealedState: a state opened with a key rotated away is
// unknown; one whose key is still listed opens.
func TestPasskeySealedState(t *testing.T) {
	st := memstore.New()
	seed(t, st)
	k2 := bytes.Repeat([]byte{9}, 32)
	first := newEnvWith(t, st, withPasskeys)
	access, _ := first.signIn(t, aliceCreds())
	c, _ := first.addPasskey(t, access, false)
	tok, ch := first.passkeyStart(t, nil)
	regTok, regCh, handle := first.registration(t, access)

	rotated := newEnvWith(t, st, func(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{k2} })
	body := map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
	if r := rotated.c.Do("POST", "/auth/sign_in/passkey", body); r.Status != 401 || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("sign-in state of a key rotated away: %d %s", r.Status, r.Body)
	}
	r := rotated.finishRegistration(access, regTok, softauthn.New(pkRPID, handle), softauthn.Ceremony{Challenge: regCh, Origin: pkOrigin})
	if r.Status != 400 || r.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("registration state of a key rotated away: %d %s", r.Status, r.Body)
	}
	still := newEnvWith(t, st, func(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{k2, pkKey} })
	wantStatus(t, "state of a key still listed", still.c.Do("POST", "/auth/sign_in/passkey", body), 200)
	wantStatus(t, "the same state again, at another instance", still.c.Do("POST", "/auth/sign_in/passkey", body), 401)
}

// TestPasskeyUnknownCredentialReason: the reason is given only when no
// user holds the credential.
func TestPasskeyUnknownCredentialReason(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	stranger := softauthn.New(pkRPID, c.UserHandle)
	if r := e.passkeySignIn(t, stranger, nil); r.Status != 401 || r.Reason() != "unknown_credential" {
		t.Fatalf("unknown credential: %d %s", r.Status, r.Body)
	}
	// Alice's credential, but not from a user of the tenant asked for.
	tok, ch := e.passkeyStart(t, map[string]any{"domain": "other.example.test"})
	r := e.c.Do("POST", "/auth/sign_in/passkey", map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))})
	if r.Status != 401 || r.Reason() != "" {
		t.Fatalf("another tenant's domain: %d %s", r.Status, r.Body)
	}
	e.changeUser(t, aliceID, func(u *store.User) { u.Disabled = true })
	if r := e.passkeySignIn(t, c, nil); r.Status != 401 || r.Reason() != "" {
		t.Fatalf("disabled user: %d %s", r.Status, r.Body)
	}
}

// TestPasskeySecondFactor: the passkey completes PortSIP's second-factor
// step; failures count as wrong codes.
func TestPasskeySecondFactor(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })

	// Without passkeys: 400.
	admin := e.startTwoFactorAdmin(t)
	wantStatus(t, "options for a user without passkeys", e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": admin}), 400)

	flow := e.startTwoFactor(t, aliceCreds())
	_, ch, _ := publicKeyOf(t, e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": flow}))
	assert := func(cer softauthn.Ceremony) *apitest.Response {
		return e.c.Do("POST", "/auth/verify_passkey", map[string]any{"token": flow, "credential": json.RawMessage(c.Assert(cer))})
	}
	if r := assert(softauthn.Ceremony{Challenge: ch, Origin: "http://evil.test"}); r.Status != 401 || r.Reason() != "" {
		t.Fatalf("wrong origin: %d %s", r.Status, r.Body)
	}
	c.Count--
	if r := assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin, UserHandle: bytes.Repeat([]byte{2}, 64)}); r.Status != 401 {
		t.Fatalf("another user handle: %d %s", r.Status, r.Body)
	}
	c.Count--
	r := assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin})
	if r.Status != 200 || r.String("access_token") == "" {
		t.Fatalf("verify_passkey: %d %s", r.Status, r.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...); u.JSON()["password_verified"] != true {
		t.Errorf("/auth/user after password and passkey: %s", u.Body)
	}
	wantStatus(t, "the flow again", assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}), 401)

	// 5 options per flow, then 429; 5 failures end the flow.
	flow = e.startTwoFactor(t, aliceCreds())
	for i := range 6 {
		r := e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": flow})
		if want := map[bool]int{true: 200, false: 429}[i < 5]; r.Status != want {
			t.Fatalf("options %d: %d %s, want %d", i+1, r.Status, r.Body, want)
		}
		if r.Status == 200 {
			ch = b64d(t, r.JSON()["publicKey"].(map[string]any)["challenge"])
		}
	}
	for i := range 5 {
		c.Count--
		if r := assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin, NoUV: true}); r.Status != 401 {
			t.Fatalf("wrong %d: %d %s", i+1, r.Status, r.Body)
		}
	}
	wantStatus(t, "after 5 failures", assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}), 401)
}

// startTwoFactorAdmin starts the second factor of the system admin.
func (e *mailEnv) startTwoFactorAdmin(t *testing.T) string {
	t.Helper()
	e.changeUser(t, adminID, func(u *store.User) { u.TwoFactorEnabled = true })
	return e.startTwoFactor(t, map[string]any{"username": "admin", "password": adminPW})
}

// TestPasskeyNotTwoFactorInTenant: a tenant that does not count a passkey
// as two factors asks for another one.
func TestPasskeyNotTwoFactorInTenant(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	e.receiveMail(t, "was added")
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	if r := e.passkeySignIn(t, c, nil); r.Status != 200 || r.String("access_token") == "" {
		t.Fatalf("default: a passkey is two factors: %d %s", r.Status, r.Body)
	}
	ctx := context.Background()
	tn, err := e.auth.Tenant(ctx, acmeDomain)
	if err != nil {
		t.Fatal(err)
	}
	s := pbxauth.SettingsOf(tn)
	s.PasskeyNotTwoFactor = true
	if _, err := e.auth.UpdateTenant(ctx, acmeDomain, s); err != nil {
		t.Fatal(err)
	}
	r := e.passkeySignIn(t, c, nil)
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true || r.String("access_token") != "" {
		t.Fatalf("passkey_satisfies_two_factor false: %d %s", r.Status, r.Body)
	}
	flow := r.String("token")
	wantStatus(t, "a passkey again as the second factor", e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": flow}), 400)
	code := e.sendCode(t, flow, aliceEmail)
	v := e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
	if v.Status != 200 {
		t.Fatalf("verify_otp: %d %s", v.Status, v.Body)
	}
	if u := e.c.Do("GET", "/auth/user", nil, apitest.Bearer(v.String("access_token"))...); u.JSON()["password_verified"] != false {
		t.Errorf("/auth/user: %s", u.Body)
	}
}

// wantStatus fails the test unless r answered status.
func wantStatus(t *testing.T, what string, r *apitest.Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// TestPasskeyStartsLimited: passkey sign-in starts are limited per client
// address, in memory, with Retry-After; another address is not affected.
func TestPasskeyStartsLimited(t *testing.T) {
	e := newEnv(t, withPasskeys, func(c *pbxauth.Config) {
		c.Limits.PasskeyStarts = 3
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	})
	from := func(ip string) *apitest.Response {
		return e.c.Do("POST", "/auth/sign_in/passkey/options", map[string]any{}, "X-Forwarded-For", ip)
	}
	for range 3 {
		wantStatus(t, "a start within the limit", from("198.51.100.7"), 200)
	}
	r := from("198.51.100.7")
	if r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Fatalf("4th start: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "another address", from("203.0.113.9"), 200)
	e.clock.Advance(time.Minute)
	wantStatus(t, "a minute later", from("198.51.100.7"), 200)
}

// TestPasskeyUnknownDomain: a sign-in limited to a domain that is no
// tenant's signs in nobody, not even a system user.
func TestPasskeyUnknownDomain(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	c, _ := e.addPasskey(t, admin, false)
	tok, ch := e.passkeyStart(t, map[string]any{"domain": "nowhere.example.test"})
	r := e.c.Do("POST", "/auth/sign_in/passkey", map[string]any{"token": tok, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))})
	if r.Status != 401 || r.Reason() != "" {
		t.Fatalf("unknown domain: %d %s", r.Status, r.Body)
	}
	wantStatus(t, "no domain", e.passkeySignIn(t, c, nil), 200)
}

// TestPasskeyOptionsAsked: what the options ask of the authenticator.
func TestPasskeyOptionsAsked(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	reg := e.c.Do("POST", "/auth/passkeys/options", map[string]any{}, apitest.Bearer(access)...)
	var o struct {
		PublicKey struct {
			RP                     struct{ ID string }
			User                   struct{ Name string }
			Challenge              string
			PubKeyCredParams       []struct{ Alg int }
			ExcludeCredentials     []struct{ ID string }
			AuthenticatorSelection struct{ ResidentKey, UserVerification string }
			Attestation            string
		}
	}
	if err := json.Unmarshal(reg.Body, &o); err != nil {
		t.Fatal(err)
	}
	pk := o.PublicKey
	var algs []int
	for _, p := range pk.PubKeyCredParams {
		algs = append(algs, p.Alg)
	}
	if pk.RP.ID != pkRPID || pk.User.Name != "alice@acme.example.test" || len(b64d(t, pk.Challenge)) != 32 ||
		len(pk.ExcludeCredentials) != 1 || !bytes.Equal(b64d(t, pk.ExcludeCredentials[0].ID), c.ID) ||
		pk.AuthenticatorSelection.ResidentKey != "required" || pk.AuthenticatorSelection.UserVerification != "required" ||
		pk.Attestation != "none" || !slices.Equal(algs, []int{-8, -7, -257}) {
		t.Fatalf("creation options: %s", reg.Body)
	}
	sign := e.c.Do("POST", "/auth/sign_in/passkey/options", map[string]any{})
	got := sign.JSON()["publicKey"].(map[string]any)
	if allow, ok := got["allowCredentials"].([]any); !ok || len(allow) != 0 || got["userVerification"] != "required" || got["rpId"] != pkRPID {
		t.Fatalf("request options: %s", sign.Body)
	}
}

// TestPasskeySecondFactorReplayedAtOnce: 20 copies of one second-factor
// assertion sent at once complete the flow once, and the passkey is not
// taken for a clone.
func TestPasskeySecondFactorReplayedAtOnce(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	flow := e.startTwoFactor(t, aliceCreds())
	_, ch, _ := publicKeyOf(t, e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": flow}))
	body := map[string]any{"token": flow, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
	counts := apitest.Race(20, func(int) *apitest.Response { return e.c.Do("POST", "/auth/verify_passkey", body) })
	if counts[200] != 1 || counts[200]+counts[401] != 20 {
		t.Fatalf("20 concurrent verifications: %v", counts)
	}
	flow = e.startTwoFactor(t, aliceCreds())
	_, ch, _ = publicKeyOf(t, e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": flow}))
	r := e.c.Do("POST", "/auth/verify_passkey", map[string]any{"token": flow, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))})
	wantStatus(t, "the next second factor", r, 200)
}

// TestPasskeyRegistrationOfAnotherSignIn: a registration token is
// accepted only with a bearer of the sign-in that began it — not another
// sign-in of the same user, nor another user — and such an attempt does
// not spend it.
func TestPasskeyRegistrationOfAnotherSignIn(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	first, _ := e.signIn(t, aliceCreds())
	second, _ := e.signIn(t, aliceCreds())
	admin, _ := e.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	tok, ch, handle := e.registration(t, first)
	c := softauthn.New(pkRPID, handle)
	cer := softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}
	for who, access := range map[string]string{"alice's other sign-in": second, "admin": admin} {
		r := e.finishRegistration(access, tok, c, cer)
		if r.Status != 400 || r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("%s: %d %s", who, r.Status, r.Body)
		}
	}
	wantStatus(t, "the sign-in that began it", e.finishRegistration(first, tok, c, cer), 201)
	wantStatus(t, "the same token again", e.finishRegistration(first, tok, c, cer), 400)
}

// TestResetPasskeys: the host's ResetPasskeys deletes every passkey and
// ends every sign-in, also a registration in flight.
func TestResetPasskeys(t *testing.T) {
	e, ev := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, true)
	pkAccess := e.passkeySignIn(t, c, nil).String("access_token")
	tok, ch, handle := e.registration(t, access)
	if err := e.auth.ResetPasskeys(context.Background(), aliceID); err != nil {
		t.Fatal(err)
	}
	e.wantBearer(t, "the password sign-in", access, 401)
	e.wantBearer(t, "the passkey sign-in", pkAccess, 401)
	wantStatus(t, "a registration begun before", e.finishRegistration(access, tok, softauthn.New(pkRPID, handle), softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}), 401)
	r := e.passkeySignIn(t, c, nil)
	if r.Status != 401 || r.Reason() != "unknown_credential" {
		t.Fatalf("a reset passkey: %d %s", r.Status, r.Body)
	}
	if len(ev.find(pbxauth.EventPasskeyRemoved, "")) != 1 {
		t.Error("no passkey_removed event")
	}
	access, _ = e.signIn(t, aliceCreds())
	if n := len(e.passkeys(t, access)); n != 0 {
		t.Fatalf("%d passkeys after ResetPasskeys", n)
	}
	if err := e.auth.ResetPasskeys(context.Background(), "nobody"); !errors.Is(err, pbxauth.ErrNotFound) {
		t.Fatalf("ResetPasskeys of an unknown user: %v", err)
	}
}

// TestPasskeyNamedByAuthenticator: a passkey is named from its AAGUID
// unless the user names it; names lose control characters.
func TestPasskeyNamedByAuthenticator(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	for _, tc := range []struct {
		name     any
		want     string
		wantCode int
	}{
		{nil, "iCloud Keychain", 201},
		{"Work\tlaptop", "Worklaptop", 201},
		{strings.Repeat("x", 65), "", 400},
		{"\u0007", "", 400},
	} {
		tok, ch, handle := e.registration(t, access)
		c := softauthn.New(pkRPID, handle)
		copy(c.AAGUID[:], []byte{0xfb, 0xfc, 0x30, 0x07, 0x15, 0x4e, 0x4e, 0xcc, 0x8c, 0x0b, 0x6e, 0x02, 0x05, 0x57, 0xd7, 0xbd})
		body := map[string]any{"token": tok, "credential": json.RawMessage(c.Register(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))}
		if tc.name != nil {
			body["name"] = tc.name
		}
		r := e.c.Do("POST", "/auth/passkeys", body, apitest.Bearer(access)...)
		if r.Status != tc.wantCode || (tc.want != "" && (r.String("name") != tc.want || r.String("authenticator") != "iCloud Keychain")) {
			t.Errorf("name %q: %d %s", tc.name, r.Status, r.Body)
		}
	}
}

// TestPasskeySecondFactorOfLogin: the passkey completes a POST /login
// flow with the browser session.
func TestPasskeySecondFactorOfLogin(t *testing.T) {
	e, _ := newPasskeyEnv(t)
	access, _ := e.signIn(t, aliceCreds())
	c, _ := e.addPasskey(t, access, false)
	e.changeUser(t, aliceID, func(u *store.User) { u.TwoFactorEnabled = true })
	l := e.c.Do("POST", "/login", aliceCreds())
	flow := l.String("token")
	if l.Status != 200 || flow == "" {
		t.Fatalf("POST /login: %d %s", l.Status, l.Body)
	}
	wantStatus(t, "GET /login before the second factor", e.c.Do("GET", "/login", nil), 401)
	_, ch, _ := publicKeyOf(t, e.c.Do("POST", "/auth/verify_passkey/options", map[string]any{"token": flow}))
	r := e.c.Do("POST", "/auth/verify_passkey", map[string]any{"token": flow, "credential": json.RawMessage(c.Assert(softauthn.Ceremony{Challenge: ch, Origin: pkOrigin}))})
	wantStatus(t, "verify_passkey of a /login flow", r, 200)
	wantStatus(t, "GET /login after it", e.c.Do("GET", "/login", nil), 200)
}
