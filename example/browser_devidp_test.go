// The sign-in page's "Sign in with Microsoft" in headless Chromium, against
// the -dev-idp stand-in: the button, the stand-in's page, and the cookie
// session it ends in.

package main

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

func TestBrowserMicrosoftDevIdP(t *testing.T) {
	chromium := findChromium(t) // skips with -short
	base := pageURL(startExample(t, map[string]string{"PBXAUTH_ADMIN_PASSWORD": "admin-pw-12345"}, "-dev-idp"))
	ctx := startBrowser(t, chromium)

	// startMicrosoft clicks the button for the demo tenant and waits for the
	// stand-in's page.
	startMicrosoft := chromedp.Steps(
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SendKeys(chromedp.CSS("#domain"), "acme.example.test"),
		chromedp.WaitVisible(chromedp.CSS("#microsoft")),
		chromedp.Click(chromedp.CSS(`#microsoft button`)),
		chromedp.WaitVisible(chromedp.CSS(`button[value="alice"]`)),
	)

	t.Run("alice", func(t *testing.T) {
		do(t, ctx, startMicrosoft)
		if h1 := text(t, ctx, "h1"); !strings.Contains(h1, "Development stand-in") || !strings.Contains(h1, "not Microsoft") {
			t.Errorf("the stand-in's page is titled %q: it must say it is a development stand-in", h1)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="alice"]`)), chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if who, role := text(t, ctx, "#who"), text(t, ctx, "#role"); who != "alice" || role != "Admin" {
			t.Errorf("signed in as %q (%q), want alice (Admin)", who, role)
		}
		checkSessionCookie(t, ctx, base)
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")),
			chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	})

	t.Run("eve", func(t *testing.T) {
		do(t, ctx, startMicrosoft, chromedp.Click(chromedp.CSS(`button[value="eve"]`)), chromedp.WaitVisible(chromedp.CSS("#error")))
		if msg := text(t, ctx, "#error"); !strings.Contains(msg, "access_denied") {
			t.Errorf("eve's sign-in says %q, want the refusal", msg)
		}
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || !strings.HasPrefix(loc, base+"/") {
			t.Errorf("eve landed at %s (%v)", loc, err)
		}
	})
}
