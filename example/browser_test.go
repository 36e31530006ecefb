// The end-to-end test of the sign-in page: the example server on loopback,
// driven by a real headless Chromium through chromedp, reading second-factor
// codes from a real SMTP server on loopback.

package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pbxauth/pbxauth"
	"github.com/pbxauth/pbxauth/internal/apitest"
	"github.com/pbxauth/pbxauth/internal/smtptest"
)

// browserSeed has a tenant without and one with Microsoft sign-in (whose
// issuer is unreachable on purpose: /info must still offer the button), a
// plain user, a user with the emailed second factor, and carol, whose
// password the forgotten-password test changes. It lists no callback
// origin: the example allows its own.
const browserSeed = `{
  "system": {"web_domain": "pbx.example.test"},
  "tenants": [{"name": "Acme", "domain": "acme.example.test"},
              {"name": "Contoso", "domain": "contoso.example.test",
               "ms365": {"application_id": "app-id", "directory_id": "dir-id", "client_secret": "secret",
                         "national_cloud": "GLOBAL", "issuer": "http://127.0.0.1:9/dir-id/v2.0"}}],
  "users": [{"username": "admin", "password": "admin-pw-12345", "role": "SystemAdmin", "email": "root@example.test"},
            {"username": "bob", "domain": "acme.example.test", "password": "bob-pw-1234", "role": "StandardUser",
             "email": "bob@acme.example.test"},
            {"username": "alice", "domain": "acme.example.test", "password": "alice-pw-123", "role": "Admin",
             "email": "alice@acme.example.test", "two_factor_enabled": true},
            {"username": "carol", "domain": "acme.example.test", "password": "carol-pw-123", "role": "StandardUser",
             "email": "carol@acme.example.test"}]
}`

// browserSeedFile writes browserSeed to a file of the test's and returns
// its path, for -seed.
func browserSeedFile(t *testing.T) string {
	t.Helper()
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(browserSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	return seed
}

// browserExample finds Chromium (skipping the test without it) and starts
// the example on browserSeed; it returns Chromium's path, the server's
// base URL and a client of its API.
func browserExample(t *testing.T) (chromium, base string, api *apitest.Client) {
	t.Helper()
	chromium = findChromium(t)
	base = pageURL(startExample(t, nil, "-seed", browserSeedFile(t)))
	return chromium, base, apitest.NewClient(t, base)
}

// codeRE finds the code in a second-factor mail (6 consecutive digits).
var codeRE = regexp.MustCompile(`\b[0-9]{6}\b`)

func TestBrowserSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := findChromium(t)
	base, mail := startBrowserExample(t)
	ctx := startBrowser(t, chromium)

	t.Run("password", func(t *testing.T) {
		do(t, ctx, signIn(base, "acme.example.test", "bob", "bob-pw-1234"), chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if role, expiry := text(t, ctx, "#role"), text(t, ctx, "#expiry"); role != "StandardUser" || !strings.Contains(expiry, "(in 60 minutes)") {
			t.Errorf("signed in: role %q, expiry %q", role, expiry)
		}
		jsCookies, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.cookie`))
		if err != nil || strings.Contains(jsCookies, pbxauth.SessionCookieName) {
			t.Errorf("the page's script reads the cookies %q (%v)", jsCookies, err)
		}
		checkSessionCookie(t, ctx, base)

		// A reload asks GET /api/login and stays signed in.
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if role := text(t, ctx, "#role"); role != "StandardUser" {
			t.Errorf("after reload: role %q", role)
		}

		do(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
		if status := text(t, ctx, "#status"); status != "You are signed out." {
			t.Errorf("after sign-out: status %q", status)
		}
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signin")))
	})

	t.Run("wrong password", func(t *testing.T) {
		do(t, ctx, signIn(base, "acme.example.test", "bob", "not-the-password"), chromedp.WaitVisible(chromedp.CSS("#error")))
		if msg := text(t, ctx, "#error"); msg != "The domain, username or password is wrong." {
			t.Errorf("error %q", msg)
		}
	})

	// "Sign in" is the form's one primary button; "Forgot password?" is a
	// quiet link beside it.
	t.Run("buttons", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
		const look = `(el => { const s = getComputedStyle(el);
			return [s.backgroundColor, s.borderTopStyle, s.textDecorationLine, s.fontWeight].join(" / "); })`
		signIn, err := chromedp.Run(ctx, chromedp.Evaluate[string](look+`(document.querySelector('#signin button[type="submit"]'))`))
		if err != nil || !strings.HasPrefix(signIn, "rgb(26, 95, 180) / solid / none / 600") {
			t.Errorf("Sign in looks like %q (%v), want a filled button", signIn, err)
		}
		forgot, err := chromedp.Run(ctx, chromedp.Evaluate[string](look+`(document.getElementById("forgot-start"))`))
		if err != nil || !strings.HasPrefix(forgot, "rgba(0, 0, 0, 0) / none / underline / 400") {
			t.Errorf("Forgot password? looks like %q (%v), want a plain underlined link", forgot, err)
		}
	})

	// A refusal of the API names the field as the form does, not as the
	// API spells it ("username must be 1-64 ...").
	t.Run("malformed username", func(t *testing.T) {
		do(t, ctx, signIn(base, "acme.example.test", "bob smith", "bob-pw-1234"), chromedp.WaitVisible(chromedp.CSS("#error")))
		const want = "Username must be 1–64 letters, digits, _ - ' or full stops, and not start or end with a full stop."
		if msg := text(t, ctx, "#error"); msg != want {
			t.Errorf("error %q, want %q", msg, want)
		}
	})

	t.Run("microsoft button", func(t *testing.T) {
		do(t, ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#signin")),
			chromedp.SendKeys(chromedp.CSS("#domain"), "contoso.example.test"),
			chromedp.WaitVisible(chromedp.CSS("#microsoft")),
			chromedp.Clear(chromedp.CSS("#domain")),
			chromedp.SendKeys(chromedp.CSS("#domain"), "acme.example.test"),
			chromedp.WaitNotVisible(chromedp.CSS("#microsoft")),
		)
		// The first click on the button, while the domain field still has
		// focus, starts the sign-in (the unreachable IdP then answers 503).
		do(t, ctx,
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS("#signin")),
			chromedp.SendKeys(chromedp.CSS("#domain"), "contoso.example.test"),
			chromedp.WaitVisible(chromedp.CSS("#microsoft")),
			chromedp.Click(chromedp.CSS(`#microsoft button`)),
		)
		// The navigation can outlive a script, so the location is polled.
		var loc string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); <-time.After(50 * time.Millisecond) {
			if loc, _ = chromedp.Run(ctx, chromedp.Location()); strings.HasSuffix(loc, "/api/login/by_microsoft") {
				break
			}
		}
		if !strings.HasSuffix(loc, "/api/login/by_microsoft") {
			t.Errorf("one click on the Microsoft button did not post the form: the page is at %s", loc)
		}
	})

	t.Run("second factor", func(t *testing.T) {
		do(t, ctx, signIn(base, "acme.example.test", "alice", "alice-pw-123"), chromedp.WaitVisible(chromedp.CSS("#code")))
		// alice has no authenticator app: one paragraph, about the mail.
		checkCodePrompt(t, ctx, emailCodeHelp, true)
		m := mail.Receive(t)
		code := codeRE.FindString(m.Text)
		if len(m.To) != 1 || m.To[0] != "alice@acme.example.test" || code == "" {
			t.Fatalf("second-factor mail: %+v", m)
		}
		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#otp"), wrong),
			chromedp.Click(chromedp.CSS(`#code button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#error")),
		)
		if msg := text(t, ctx, "#error"); !strings.HasPrefix(msg, "The code is wrong") {
			t.Errorf("after a wrong code: %q", msg)
		}
		do(t, ctx,
			chromedp.Clear(chromedp.CSS("#otp")),
			chromedp.SendKeys(chromedp.CSS("#otp"), code),
			chromedp.Click(chromedp.CSS(`#code button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#signedin")),
		)
		if role := text(t, ctx, "#role"); role != "Admin" {
			t.Errorf("role %q", role)
		}
		checkSessionCookie(t, ctx, base)
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if role := text(t, ctx, "#role"); role != "Admin" {
			t.Errorf("after reload: role %q", role)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	})

	t.Run("authenticator app", func(t *testing.T) {
		do(t, ctx, signIn(base, "acme.example.test", "bob", "bob-pw-1234"), chromedp.WaitVisible(chromedp.CSS("#signedin")),
			chromedp.Click(chromedp.CSS("#totp-start")), chromedp.WaitVisible(chromedp.CSS("#totp-enrol")))
		// The key is shown in groups of four, which apps take as typed.
		shown := text(t, ctx, "#totp-secret")
		if !regexp.MustCompile(`^([A-Z2-7]{4} )+[A-Z2-7]{1,4}$`).MatchString(shown) {
			t.Errorf("the key is shown as %q, want groups of four", shown)
		}
		secret := strings.ReplaceAll(shown, " ", "")
		qr, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("totp-qr").naturalWidth > 0`))
		if err != nil || !qr {
			t.Errorf("the QR code is not shown (%v)", err)
		}
		now := time.Now()
		do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#totp-code"), apitest.TOTPCode(t, secret, now)),
			chromedp.Click(chromedp.CSS(`#totp-confirm button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#totp-codes")),
		)
		n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#totp-list li").length`))
		if err != nil || n != 10 {
			t.Errorf("%d recovery codes shown (%v), want 10", n, err)
		}
		// Signed in again, bob needs the app: the next step's code (the
		// confirming step is used) opens the session.
		do(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")),
			signIn(base, "acme.example.test", "bob", "bob-pw-1234"), chromedp.WaitVisible(chromedp.CSS("#code")))
		// Nothing is mailed to him: no "Send a new code".
		checkCodePrompt(t, ctx, "Enter the 6-digit code your authenticator app shows, or one of your recovery codes.", false)
		do(t, ctx,
			chromedp.SendKeys(chromedp.CSS("#otp"), apitest.TOTPCode(t, secret, now.Add(30*time.Second))),
			chromedp.Click(chromedp.CSS(`#code button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#signedin")),
		)
		// The notice goes out in the background; a code mail would have
		// gone before send_otp answered.
		if m := mail.Receive(t); !strings.Contains(m.Text, "authenticator app was added") {
			t.Errorf("the first mail after enrolment: %q, want the notice of the new app", m.Subject)
		}
		if n := len(mail.Messages); n != 0 {
			t.Errorf("%d more mails: a code was mailed to an app user", n)
		}
	})

	t.Run("forgotten password", func(t *testing.T) { testForgottenPassword(t, ctx, base, mail) })
}

// startBrowserExample starts the example with browserSeed, mailing through
// a real SMTP server on loopback, and returns the address a browser opens
// and the mail server.
func startBrowserExample(t *testing.T) (string, *smtptest.Server) {
	t.Helper()
	mail := smtptest.Start(t, smtptest.Options{})
	return pageURL(startExample(t, nil, "-seed", browserSeedFile(t), "-smtp", mail.Addr)), mail
}

// emailCodeHelp is the code prompt of a user without an authenticator app.
const emailCodeHelp = "We have emailed a 6-digit code to the address on your account. Enter it here within 10 minutes."

// checkCodePrompt checks the code step: its one paragraph is help, no
// status line repeats it, and "Send a new code" is offered when a code was
// mailed.
func checkCodePrompt(t *testing.T, ctx context.Context, help string, resend bool) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#code p, #status, #error")].filter(p => p.checkVisibility()).map(p => p.textContent)`))
	if err != nil || len(got) != 1 || got[0] != help {
		t.Errorf("the code prompt shows %q (%v), want only %q", got, err, help)
	}
	if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById("resend").checkVisibility()`)); err != nil || shown != resend {
		t.Errorf("\"Send a new code\" shown: %v (%v), want %v", shown, err, resend)
	}
}

// signIn opens the page and submits the sign-in form.
func signIn(base, domain, username, password string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SendKeys(chromedp.CSS("#domain"), domain),
		chromedp.SendKeys(chromedp.CSS("#username"), username),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`#signin button[type="submit"]`)),
	)
}

// do runs steps in the browser, failing the test on error.
func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// text returns the text of the element sel selects.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSessionCookie checks the cookie as the browser keeps it.
func checkSessionCookie(t *testing.T, ctx context.Context, base string) {
	t.Helper()
	c := browserSessionCookie(t, ctx, base)
	// The example runs without -insecure-cookies: Chromium takes a Secure
	// cookie from a loopback address served over plain HTTP.
	if c.Name != "__Host-"+pbxauth.SessionCookieName || !c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteLax || c.Path != "/" {
		t.Errorf("session cookie %+v", c)
	}
}

// browserSessionCookie returns the session cookie the browser keeps for
// base, failing the test without one.
func browserSessionCookie(t *testing.T, ctx context.Context, base string) *network.Cookie {
	t.Helper()
	res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{base + "/"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range res.Cookies {
		if strings.HasSuffix(c.Name, pbxauth.SessionCookieName) {
			return c
		}
	}
	t.Fatalf("no session cookie among %+v", res.Cookies)
	return nil
}

// findChromium returns the browser to drive: $CHROMIUM, or chromium on the
// PATH. With -short, or without one, the test is skipped, except under
// CI=true, where a missing browser is a failure.
func findChromium(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "Chromium not found (install Debian's chromium package, or set CHROMIUM to a Chromium binary)"
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipping the browser test")
	return ""
}

// startBrowser starts a fresh headless Chromium, stopped at the end of the
// test; its context also bounds the whole browser test to a minute. An
// uncaught exception in the page fails the test.
func startBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.CombinedOutput(io.Discard),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx, chromedp.WithLogf(t.Logf))
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting %s: %v", path, err)
	}
	// Uncaught exceptions and policy violations in the page fail the test,
	// checked when it ends (cleanups run last-in first-out, so before the
	// browser stops).
	var mu sync.Mutex
	var problems []string
	messages := chromedp.Console(bctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleException || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				problems = append(problems, m.Text)
				mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range problems {
			t.Errorf("in the page: %s", p)
		}
	})
	return bctx
}
