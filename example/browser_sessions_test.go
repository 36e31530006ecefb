// The sign-in page's account part in headless Chromium: who is signed in,
// where (the sessions list, each client named from its user agent, an
// unknown one shown as text), each session's own "Sign out", and "Sign out
// other devices".

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// firefoxOnWindows is the user agent the second browser claims.
const firefoxOnWindows = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"

func TestBrowserSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := findChromium(t)
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(browserSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	base := pageURL(startExample(t, nil, "-seed", seed))
	api := apitest.NewClient(t, base)
	const agent = `Phone <img src=x onerror=alert(1)>/1`
	r := api.Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "bob-pw-1234", "domain": "acme.example.test"}, "User-Agent", agent)
	if r.Status != 200 {
		t.Fatalf("sign_in of the phone: %d %s", r.Status, r.Body)
	}
	phone := r.String("access_token")
	ctx := startBrowser(t, chromium)
	t.Run("agent names", func(t *testing.T) { testAgentNames(t, ctx, base) })

	// A second browser, with cookies of its own, that says it is Firefox on
	// Windows, signs in first.
	other, cancel := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	if _, err := chromedp.Call(other, emulation.SetUserAgentOverride, emulation.SetUserAgentOverrideParams{UserAgent: firefoxOnWindows}); err != nil {
		t.Fatal(err)
	}
	do(t, other, signIn(base, "acme.example.test", "bob", "bob-pw-1234"), chromedp.WaitVisible(chromedp.CSS("#signedin")))
	otherCookie := sessionCookie(t, other, base)
	if r := api.Do("GET", "/login", nil, "Cookie", otherCookie); r.Status != 200 {
		t.Fatalf("the second browser's cookie: %d %s", r.Status, r.Body)
	}

	do(t, ctx, signIn(base, "acme.example.test", "bob", "bob-pw-1234"),
		chromedp.WaitVisible(chromedp.CSS("#signout-others")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#sessions li").length === 3`))
	if who := text(t, ctx, "#who"); who != "bob" {
		t.Errorf("signed in as %q, want bob", who)
	}
	items := sessionItems(t, ctx)
	current := slices.IndexFunc(items, func(s string) bool { return strings.HasSuffix(s, "(this browser)") })
	firefox := slices.IndexFunc(items, func(s string) bool { return strings.HasPrefix(s, "Firefox on Windows at 127.0.0.1, signed in ") })
	// A user agent that names nothing known is shown as it is, as text.
	phoneAt := slices.IndexFunc(items, func(s string) bool { return strings.HasPrefix(s, agent+" at 127.0.0.1") })
	if current < 0 || firefox < 0 || phoneAt < 0 || strings.Contains(items[current], "Mozilla") || !strings.Contains(items[current], " on Linux at 127.0.0.1") {
		t.Fatalf("sessions listed: %q", items)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions img").length`)); err != nil || n != 0 {
		t.Errorf("a user agent became markup: %d images (%v)", n, err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions li button").length`)); err != nil || n != 3 {
		t.Errorf("%d \"Sign out\" buttons in the list (%v), want one per session", n, err)
	}

	// The second browser's own "Sign out", from this one: it is gone from
	// the list, and its cookie opens nothing any more.
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf("#sessions li:nth-child(%d) button", firefox+1))),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#sessions li").length === 2`))
	if status := text(t, ctx, "#status"); status != "Firefox on Windows is signed out." {
		t.Errorf("after signing the second browser out: status %q", status)
	}
	if items := sessionItems(t, ctx); slices.ContainsFunc(items, func(s string) bool { return strings.HasPrefix(s, "Firefox") }) {
		t.Errorf("the second browser is still listed: %q", items)
	}
	if r := api.Do("GET", "/login", nil, "Cookie", otherCookie); r.Status != 401 {
		t.Errorf("the second browser's cookie after its sign-out: %d %s", r.Status, r.Body)
	}
	do(t, other, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signin")))

	do(t, ctx, chromedp.Click(chromedp.CSS("#signout-others")), chromedp.WaitNotVisible(chromedp.CSS("#signout-others")))
	if status := text(t, ctx, "#status"); status != "Your other devices are signed out." {
		t.Errorf("after signing out other devices: status %q", status)
	}
	if items := sessionItems(t, ctx); len(items) != 1 {
		t.Errorf("after signing out other devices: %q listed, want this browser alone", items)
	}
	if r := api.Do("GET", "/auth/user", nil, apitest.Bearer(phone)...); r.Status != 401 {
		t.Errorf("the phone's token after \"Sign out other devices\": %d", r.Status)
	}
	// The browser itself stays signed in, and its own row signs it out.
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")), chromedp.WaitVisible(chromedp.CSS("#sessions li.current")),
		chromedp.Click(chromedp.CSS("#sessions li.current button")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	if status := text(t, ctx, "#status"); status != "You are signed out." {
		t.Errorf("after this browser's own row: status %q", status)
	}
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signin")))
}

// testAgentNames checks the names the page gives user agents, worked out
// by the page's script in Chromium (a subtest of TestBrowserSessions).
func testAgentNames(t *testing.T, ctx context.Context, base string) {
	do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
	for _, c := range []struct{ agent, want string }{
		{firefoxOnWindows, "Firefox on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36 Edg/138.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/138.0.0.0 Safari/537.36", "Headless Chrome on Linux"},
		{"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/138.0.0.0 Safari/537.36", "Chrome on ChromeOS"},
		{"curl/8.14.1", "curl"},
		{"Go-http-client/1.1", "A Go program"},
		{"SomeSoftphone/2.0 (Windows)", "An app on Windows"},
		{"Phone <img src=x>/1", ""},
		{"", ""},
	} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf("agentName(%q)", c.agent)))
		if err != nil || got != c.want {
			t.Errorf("agentName(%q) = %q (%v), want %q", c.agent, got, err, c.want)
		}
	}
}

// sessionItems returns the text of each session listed, without its button.
func sessionItems(t *testing.T, ctx context.Context) []string {
	t.Helper()
	items, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#sessions li span")].map(s => s.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// sessionCookie returns the browser's session cookie for base as a Cookie
// header's value.
func sessionCookie(t *testing.T, ctx context.Context, base string) string {
	t.Helper()
	c := browserSessionCookie(t, ctx, base)
	return c.Name + "=" + c.Value
}
