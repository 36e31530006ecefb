// The sign-in page's account part in headless Chromium: who is signed in,
// where (the sessions list, with a client's user agent shown as text), and
// "Sign out other devices".

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

func TestBrowserSessions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium")
	}
	chromium := findChromium(t)
	seed := filepath.Join(t.TempDir(), "seed.json")
	if err := os.WriteFile(seed, []byte(browserSeed), 0o600); err != nil {
		t.Fatal(err)
	}
	base := startExample(t, nil, "-seed", seed)
	api := apitest.NewClient(t, base)
	const agent = `Phone <img src=x onerror=alert(1)>/1`
	r := api.Do("POST", "/auth/sign_in", map[string]string{"username": "bob", "password": "bob-pw-1234", "domain": "acme.example.test"}, "User-Agent", agent)
	if r.Status != 200 {
		t.Fatalf("sign_in of the phone: %d %s", r.Status, r.Body)
	}
	phone := r.String("access_token")
	ctx := startBrowser(t, chromium)

	do(t, ctx, signIn(base, "acme.example.test", "bob", "bob-pw-1234"),
		chromedp.WaitVisible(chromedp.CSS("#signout-others")))
	if who := text(t, ctx, "#who"); who != "bob" {
		t.Errorf("signed in as %q, want bob", who)
	}
	items, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#sessions li")].map(li => li.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 || !strings.HasSuffix(items[0], "(this browser)") || !strings.HasPrefix(items[1], agent+" at 127.0.0.1") {
		t.Errorf("sessions listed: %q", items)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions img").length`)); err != nil || n != 0 {
		t.Errorf("a user agent became markup: %d images (%v)", n, err)
	}

	do(t, ctx, chromedp.Click(chromedp.CSS("#signout-others")), chromedp.WaitNotVisible(chromedp.CSS("#signout-others")))
	if status := text(t, ctx, "#status"); status != "Your other devices are signed out." {
		t.Errorf("after signing out other devices: status %q", status)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("#sessions li").length`)); err != nil || n != 1 {
		t.Errorf("after signing out other devices %d sessions listed (%v), want 1", n, err)
	}
	if r := api.Do("GET", "/auth/user", nil, apitest.Bearer(phone)...); r.Status != 401 {
		t.Errorf("the phone's token after \"Sign out other devices\": %d", r.Status)
	}
	// The browser itself stays signed in.
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")), chromedp.WaitVisible(chromedp.CSS("#sessions li.current")))
}
