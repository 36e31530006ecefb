// Authenticator apps over HTTP: enrolment with its QR code, sign-in with
// app codes and recovery codes, replay within a step, single use under
// concurrency, recent sign-in for changes, notices by mail, and a secret
// that cannot be opened.

package pbxauth_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"image/png"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/store"
)

// appKey is the test's encryption key.
var appKey = bytes.Repeat([]byte{0x42}, 32)

// withKeys gives an Auth the test's encryption key.
func withKeys(c *pbxauth.Config) { c.EncryptionKeys = [][]byte{appKey} }

// enrolAlice enrols an app for alice and returns its secret and her
// recovery codes; the clock then stands one step later.
func enrolAlice(t *testing.T, e *mailEnv) (secret string, codes []string) {
	t.Helper()
	access, _ := e.signIn(t, aliceCreds())
	r := e.c.Do("POST", "/auth/totp", nil, apitest.Bearer(access)...)
	if r.Status != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST /auth/totp: %d %s", r.Status, r.Body)
	}
	secret = r.String("secret")
	u, err := url.Parse(r.String("otpauth_url"))
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != secret ||
		!strings.Contains(u.Path, "alice@acme.example.test") {
		t.Errorf("otpauth_url %q", r.String("otpauth_url"))
	}
	img, err := base64.StdEncoding.DecodeString(r.String("qr_png"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(bytes.NewReader(img)); err != nil {
		t.Errorf("qr_png is not a PNG: %v", err)
	}
	c := e.c.Do("POST", "/auth/totp/confirm", map[string]any{"code": apitest.TOTPCode(t, secret, e.clock.Now())}, apitest.Bearer(access)...)
	if c.Status != 200 {
		t.Fatalf("confirm: %d %s", c.Status, c.Body)
	}
	for _, v := range c.JSON()["recovery_codes"].([]any) {
		codes = append(codes, v.(string))
	}
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes, want 10", len(codes))
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "authenticator app was added") || m.To[0] != aliceEmail {
		t.Errorf("enrolment notice: %+v", m)
	}
	e.clock.Advance(30 * time.Second)
	return secret, codes
}

// startFlow signs alice in with her password and returns the second-factor
// flow token.
func (e *mailEnv) startFlow(t *testing.T) string {
	t.Helper()
	r := e.c.Do("POST", "/auth/sign_in", aliceCreds())
	if r.Status != 200 || r.JSON()["two_factor_enabled"] != true {
		t.Fatalf("sign_in of an app user: %d %s", r.Status, r.Body)
	}
	return r.String("token")
}

func (e *mailEnv) verifyApp(flow, code string) *apitest.Response {
	return e.c.Do("POST", "/auth/verify_otp", map[string]any{"token": flow, "code": code})
}

func TestTOTPSignIn(t *testing.T) {
	e := newMailEnv(t, withKeys)
	secret, codes := enrolAlice(t, e)

	flow := e.startFlow(t)
	if r := e.c.Do("POST", "/auth/send_otp", map[string]any{"token": flow}); r.Status != 200 || r.String("factor") != "app" {
		t.Fatalf("send_otp of an app user: %d %s, want 200 {\"factor\":\"app\"}", r.Status, r.Body)
	}
	if n := len(e.smtp.Messages); n != 0 {
		t.Errorf("send_otp mailed %d codes to an app user", n)
	}
	code := apitest.TOTPCode(t, secret, e.clock.Now())
	r := e.verifyApp(flow, code)
	if r.Status != 200 || r.String("access_token") == "" {
		t.Fatalf("verify_otp with the app code: %d %s", r.Status, r.Body)
	}
	// The same code, within its step, on a new flow: a replay.
	if r := e.verifyApp(e.startFlow(t), code); r.Status != 401 {
		t.Errorf("replayed app code: %d %s, want 401", r.Status, r.Body)
	}
	// A code of the next step is accepted (±1 step for clock drift); one
	// three steps old is not.
	e.clock.Advance(30 * time.Second)
	if r := e.verifyApp(e.startFlow(t), apitest.TOTPCode(t, secret, e.clock.Now().Add(30*time.Second))); r.Status != 200 {
		t.Errorf("the next step's code: %d %s", r.Status, r.Body)
	}
	if r := e.verifyApp(e.startFlow(t), apitest.TOTPCode(t, secret, e.clock.Now().Add(-90*time.Second))); r.Status != 401 {
		t.Errorf("a code three steps old: %d %s", r.Status, r.Body)
	}
	// A recovery code, typed loosely, works once.
	loose := strings.ToLower(strings.ReplaceAll(codes[3], "-", " "))
	if r := e.verifyApp(e.startFlow(t), loose); r.Status != 200 {
		t.Errorf("recovery code %q: %d %s", loose, r.Status, r.Body)
	}
	if r := e.verifyApp(e.startFlow(t), codes[3]); r.Status != 401 {
		t.Errorf("a used recovery code: %d %s", r.Status, r.Body)
	}
	if r := e.verifyApp(e.startFlow(t), "not-a-code!"); r.Status != 400 {
		t.Errorf("a malformed code: %d %s", r.Status, r.Body)
	}
}

// Of 20 flows racing with one recovery code exactly one signs in.
func TestTOTPRecoveryCodeRace(t *testing.T) {
	// The 20 flows come from one browser, a known device after the first
	// sign-in: its 10 sign-ins a minute, and the 5 codes it may have checked
	// at once, are raised so that all 20 reach the recovery code.
	e := newMailEnv(t, withKeys, func(c *pbxauth.Config) { c.Limits.DeviceSignIns, c.Limits.CodeAttempts = 100, 100 })
	_, codes := enrolAlice(t, e)
	flows := make([]string, 20)
	for i := range flows {
		flows[i] = e.startFlow(t)
	}
	counts := apitest.Race(len(flows), func(i int) *apitest.Response { return e.verifyApp(flows[i], codes[0]) })
	if counts[200] != 1 || counts[401] != len(flows)-1 {
		t.Errorf("answers %v to %d sign-ins with one recovery code, want one 200 and 401 for the rest", counts, len(flows))
	}
}

func TestTOTPChanges(t *testing.T) {
	e := newMailEnv(t, withKeys)
	secret, codes := enrolAlice(t, e)
	bearer := func() []string {
		r := e.verifyApp(e.startFlow(t), codes[len(codes)-1])
		codes = codes[:len(codes)-1]
		if r.Status != 200 {
			t.Fatalf("sign-in with a recovery code: %d %s", r.Status, r.Body)
		}
		return apitest.Bearer(r.String("access_token"))
	}
	access := bearer()
	if r := e.c.Do("POST", "/auth/totp", nil, access...); r.Status != 400 {
		t.Errorf("a second enrolment while active: %d %s", r.Status, r.Body)
	}
	// New recovery codes need a current app code; the old set is void.
	e.clock.Advance(30 * time.Second)
	r := e.c.Do("POST", "/auth/recovery_codes", map[string]any{"code": apitest.TOTPCode(t, secret, e.clock.Now())}, access...)
	if r.Status != 200 || len(r.JSON()["recovery_codes"].([]any)) != 10 {
		t.Fatalf("new recovery codes: %d %s", r.Status, r.Body)
	}
	fresh := r.JSON()["recovery_codes"].([]any)[0].(string)
	e.smtp.Receive(t)
	if r := e.verifyApp(e.startFlow(t), codes[0]); r.Status != 401 {
		t.Errorf("an old recovery code after regeneration: %d", r.Status)
	}
	// A sign-in older than 10 minutes may not change the factor.
	e.clock.Advance(11 * time.Minute)
	r = e.c.Do("POST", "/auth/totp/disable", map[string]any{"code": fresh}, access...)
	if r.Status != 403 || !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="insufficient_scope"`) || r.Reason() != "insufficient_scope" {
		t.Errorf("disable from an old sign-in: %d %v %s, want 403 with reason insufficient_scope", r.Status, r.Header, r.Body)
	}
	codes = []string{fresh}
	access = bearer()
	if r := e.c.Do("POST", "/auth/totp/disable", map[string]any{"code": "000000"}, access...); r.Status != 400 {
		t.Errorf("disable with a wrong code: %d %s", r.Status, r.Body)
	}
	e.clock.Advance(30 * time.Second)
	if r := e.c.Do("POST", "/auth/totp/disable", map[string]any{"code": apitest.TOTPCode(t, secret, e.clock.Now())}, access...); r.Status != 200 {
		t.Fatalf("disable: %d %s", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Text, "authenticator app was removed") {
		t.Errorf("disable notice: %s", m.Text)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 200 || r.String("access_token") == "" {
		t.Errorf("sign-in after disabling: %d %s", r.Status, r.Body)
	}
}

// A sealed secret that no configured key opens is 503 and an ERROR log —
// never the emailed code instead, never no factor.
func TestTOTPSecretThatDoesNotOpen(t *testing.T) {
	e := newMailEnv(t, withKeys)
	secret, _ := enrolAlice(t, e)
	for name, keys := range map[string][][]byte{"no keys": nil, "another key": {bytes.Repeat([]byte{7}, 32)}} {
		t.Run(name, func(t *testing.T) {
			logs := &syncBuffer{}
			other := newEnvWith(t, e.store, func(c *pbxauth.Config) {
				c.EncryptionKeys = keys
				c.Logger = slog.New(slog.NewTextHandler(logs, nil))
			})
			r := other.c.Do("POST", "/auth/sign_in", aliceCreds())
			if r.JSON()["two_factor_enabled"] != true {
				t.Fatalf("sign_in: %d %s", r.Status, r.Body)
			}
			v := other.c.Do("POST", "/auth/verify_otp", map[string]any{"token": r.String("token"), "code": apitest.TOTPCode(t, secret, other.clock.Now())})
			if v.Status != 503 || v.Header.Get("Retry-After") == "" {
				t.Errorf("verify_otp: %d %s, want 503 with Retry-After", v.Status, v.Body)
			}
			if !strings.Contains(logs.String(), "level=ERROR") {
				t.Errorf("no ERROR log: %s", logs)
			}
		})
	}
	plain := newEnv(t)
	access, _ := plain.signIn(t, map[string]any{"username": "admin", "password": adminPW})
	if r := plain.c.Do("POST", "/auth/totp", nil, apitest.Bearer(access)...); r.Status != 404 {
		t.Errorf("enrolment without keys: %d %s", r.Status, r.Body)
	}
}

// Wrong app codes on the bearer routes count toward the user's wrong-code
// lock like those of verify_otp: after 10, even the right code is 429.
func TestTOTPWrongCodesLock(t *testing.T) {
	e := newMailEnv(t, withKeys)
	secret, _ := enrolAlice(t, e)
	r := e.verifyApp(e.startFlow(t), apitest.TOTPCode(t, secret, e.clock.Now()))
	if r.Status != 200 {
		t.Fatalf("sign-in: %d %s", r.Status, r.Body)
	}
	access := apitest.Bearer(r.String("access_token"))
	right := apitest.TOTPCode(t, secret, e.clock.Now().Add(30*time.Second))
	wrong := "000000"
	if wrong == right {
		wrong = "111111"
	}
	for i := range 10 {
		if r := e.c.Do("POST", "/auth/recovery_codes", map[string]any{"code": wrong}, access...); r.Status != 400 {
			t.Fatalf("wrong code %d: %d %s", i, r.Status, r.Body)
		}
	}
	if r := e.c.Do("POST", "/auth/recovery_codes", map[string]any{"code": right}, access...); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("the right code during the lock: %d %s, want 429", r.Status, r.Body)
	}
	if m := e.smtp.Receive(t); !strings.Contains(m.Subject, "locked") {
		t.Errorf("lock notice: %q", m.Subject)
	}
}

// An operator resets the app of a user who lost it: the next sign-in needs
// no app code.
func TestResetTOTP(t *testing.T) {
	e := newMailEnv(t, withKeys)
	enrolAlice(t, e)
	e.startFlow(t) // an app user
	if err := e.auth.ResetTOTP(t.Context(), aliceID); err != nil {
		t.Fatal(err)
	}
	if r := e.c.Do("POST", "/auth/sign_in", aliceCreds()); r.Status != 200 || r.String("access_token") == "" {
		t.Errorf("sign-in after ResetTOTP: %d %s", r.Status, r.Body)
	}
	if err := e.auth.ResetTOTP(t.Context(), "nobody"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ResetTOTP of an unknown user: %v", err)
	}
}
