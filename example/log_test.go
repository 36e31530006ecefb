// This file runs the example through a whole scenario and reads its whole
// log, as an operator (or whoever gets a copy of the log) would: a lockout
// is one WARN line that says whose account, from where and in which
// request; and no password, token or code used anywhere is in it.

package main

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/smtptest"
	"github.com/pbxauth/pbxauth/sqlstore/sqlite"
)

// scenario remembers every secret it used.
type scenario struct {
	t       *testing.T
	secrets []string
	codes   []string // six-digit codes
}

func (s *scenario) keep(secrets ...string) {
	s.t.Helper()
	for _, v := range secrets {
		if v == "" {
			s.t.Fatal("an empty secret: a step did not get what it expected")
		}
		s.secrets = append(s.secrets, v)
	}
}

// signIn signs in with creds through c, keeps the password and the tokens,
// and returns the answer.
func (s *scenario) signIn(c *apitest.Client, creds map[string]string, headers ...string) *apitest.Response {
	s.t.Helper()
	s.keep(creds["password"])
	r := c.Do("POST", "/auth/sign_in", creds, headers...)
	for _, f := range []string{"access_token", "refresh_token", "token"} {
		if v := r.String(f); v != "" {
			s.keep(v)
		}
	}
	return r
}

// receive returns the next mail's text.
func receive(t *testing.T, mail *smtptest.Server) string {
	t.Helper()
	select {
	case m := <-mail.Messages:
		return m.Text
	case <-time.After(childTimeout):
		t.Fatal("no mail arrived")
	}
	return ""
}

// TestLogNamesWhoAndHoldsNoSecret: sign-ins, refreshes and a refresh token
// reused, wrong passwords to a lockout (through a trusted proxy that names
// the client and the request), a second factor by mailed code, and a
// password reset; then the whole log, flushed by SIGTERM, is searched for
// every secret, and the lockout's WARN line for who, from where and which
// request.
func TestLogNamesWhoAndHoldsNoSecret(t *testing.T) {
	t.Parallel()
	mail := smtptest.Start(t, smtptest.Options{})
	db := filepath.Join(t.TempDir(), "pbxauth.db")
	child := startChild(t, freePort(t), "-db", "sqlite:"+db, "-smtp", mail.Addr, "-trusted-proxies", "127.0.0.1")
	s := &scenario{t: t}
	const acme = "acme.example.test"

	// The admin signs in, calls the API, refreshes, and the old refresh
	// token comes back: the sign-in is ended.
	c := apitest.NewClient(t, child.url)
	r := s.signIn(c, map[string]string{"username": "admin", "password": "admin-pw-12345"})
	if u := c.Do("GET", "/auth/user", nil, apitest.Bearer(r.String("access_token"))...); u.Status != 200 {
		t.Fatalf("GET /auth/user: %d %s", u.Status, u.Body)
	}
	n := c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r.String("refresh_token")})
	s.keep(n.String("access_token"), n.String("refresh_token"))
	if reuse := c.Do("POST", "/auth/refresh_token", map[string]string{"refresh_token": r.String("refresh_token")}); reuse.Status != 401 {
		t.Fatalf("refresh token reused: %d", reuse.Status)
	}

	// Wrong passwords for bob, through the proxy, to a lockout.
	const attacker, lockRequest = "198.51.100.23", "proxy-req-5:lockout"
	var lockAnswer *apitest.Response
	for i := range 5 {
		headers := []string{"X-Forwarded-For", attacker, "X-Request-ID", fmt.Sprintf("proxy-req-%d", i+1)}
		if i == 4 {
			headers[3] = lockRequest
		}
		lockAnswer = s.signIn(apitest.NewClient(t, child.url), map[string]string{"username": "bob", "domain": acme, "password": fmt.Sprintf("guess-%d-pw", i)}, headers...)
		if lockAnswer.Status != 401 {
			t.Fatalf("wrong password %d: %d", i+1, lockAnswer.Status)
		}
	}
	if got := lockAnswer.Header.Get("X-Request-ID"); got != lockRequest {
		t.Fatalf("the trusted proxy's X-Request-ID came back as %q", got)
	}

	// alice's second factor, by mailed code.
	flow := s.signIn(c, map[string]string{"username": "alice", "domain": acme, "password": "alice-pw-123"}).String("token")
	if r := c.Do("POST", "/auth/send_otp", map[string]string{"token": flow}); r.Status != 200 {
		t.Fatalf("send_otp: %d %s", r.Status, r.Body)
	}
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(receive(t, mail))
	s.codes = append(s.codes, code)
	v := c.Do("POST", "/auth/verify_otp", map[string]string{"token": flow, "code": code})
	if v.Status != 200 {
		t.Fatalf("verify_otp: %d %s", v.Status, v.Body)
	}
	s.keep(v.String("access_token"), v.String("refresh_token"))

	// bob resets his password through the mailed link, opened on the page
	// with the token in its query, and signs in with the new one.
	forgetBob(t, c)
	reset := tokenRE.FindStringSubmatch(receive(t, mail))
	if reset == nil {
		t.Fatal("no token in the reset mail")
	}
	s.keep(reset[1])
	if resp, err := http.Get(child.url + "/reset?token=" + reset[1]); err != nil || resp.StatusCode != 200 {
		t.Fatalf("the reset page: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	s.keep("bob-new-pw-5678")
	if r := c.Do("POST", "/auth/reset_password", map[string]string{"token": reset[1], "new_password": "bob-new-pw-5678"}); r.Status != 200 {
		t.Fatalf("reset_password: %d %s", r.Status, r.Body)
	}
	if r := s.signIn(apitest.NewClient(t, child.url), map[string]string{"username": "bob", "domain": acme, "password": "bob-new-pw-5678"}); r.Status != 200 {
		t.Fatalf("bob with the new password: %d", r.Status)
	}

	if code := child.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	log := child.log()
	for _, secret := range s.secrets {
		if form := apitest.FindSecret([]byte(log), secret); form != "" {
			t.Errorf("the log holds a secret (%s): %.12s…", form, secret)
		}
	}
	for _, code := range s.codes {
		if regexp.MustCompile(`(^|[^0-9.])` + code + `($|[^0-9])`).MatchString(log) {
			t.Errorf("the log holds the code %s", code)
		}
	}

	bobID := userID(t, db, acme, "bob")
	var warns []string
	for _, line := range strings.Split(log, "\n") {
		if strings.Contains(line, "level=WARN") && strings.Contains(line, "event=lockout") {
			warns = append(warns, line)
		}
	}
	if len(warns) != 1 {
		t.Fatalf("%d WARN lines of a lockout, want 1:\n%s", len(warns), log)
	}
	for _, want := range []string{"user=" + bobID, "client=" + attacker, "request_id=" + lockRequest} {
		if !strings.Contains(warns[0], " "+want+" ") && !strings.HasSuffix(warns[0], " "+want) {
			t.Errorf("the lockout's line has no %s: %s", want, warns[0])
		}
	}
	if !regexp.MustCompile(`level=INFO msg=request method=POST path=/api/auth/sign_in status=401 duration=\S+ client=` + attacker + ` user=` + bobID + ` request_id=` + lockRequest + `\n`).MatchString(log) {
		t.Errorf("no request line for the locking request:\n%s", log)
	}
	if !regexp.MustCompile(`level=WARN msg=event event=refresh_reuse_detected user=\S+ client=127.0.0.1 method=password request_id=\S+\n`).MatchString(log) {
		t.Errorf("no WARN line for the reused refresh token:\n%s", log)
	}
	if !strings.Contains(log, "msg=request method=GET path=/reset status=200") {
		t.Errorf("no request line for the reset page, or with its query:\n%s", log)
	}
}

// userID reads the ID of a user from the example's SQLite database.
func userID(t *testing.T, path, domain, username string) string {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tn, err := st.TenantByDomain(ctx, domain)
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.UserByName(ctx, tn.ID, username)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// TestLogStartupWarnings: at start the log says, once each, which features
// are off or unsafe.
func TestLogStartupWarnings(t *testing.T) {
	t.Parallel()
	child := startChild(t, freePort(t), "-db", "memory", "-insecure-cookies")
	child.waitLog(t, "Config.InsecureCookies", 1)
	child.stop(t, syscall.SIGTERM)
	for notice, want := range map[string]int{
		"mails are written to the log": 1,
		"Config.InsecureCookies":       1,
		"authenticator apps are off":   0, // -db memory makes a key per run
	} {
		if got := strings.Count(child.log(), notice); got != want {
			t.Errorf("%q logged %d times, want %d:\n%s", notice, got, want, child.log())
		}
	}
}
