// The forgotten-password flow in headless Chromium: "Forgot password?" on
// the sign-in page, the link of the mail read from a real SMTP server, the
// reset page at /reset, and a sign-in with the new password.

package main

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/pbxauth/pbxauth/internal/smtptest"
)

// linkRE finds the link in a reset mail.
var linkRE = regexp.MustCompile(`https?://\S+`)

// testForgottenPassword resets carol's password from the page (a subtest of
// TestBrowserSignIn, which starts the example, the mail server and the
// browser).
func testForgottenPassword(t *testing.T, ctx context.Context, base string, mail *smtptest.Server) {
	const newPassword = "carol-new-pw-456"
	// Whoever an earlier subtest left signed in, this browser forgets.
	if _, err := chromedp.Call(ctx, network.ClearBrowserCookies, cdp.Empty{}); err != nil {
		t.Fatal(err)
	}
	// The sign-in form's domain and username carry over to the form.
	do(t, ctx,
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
		chromedp.SendKeys(chromedp.CSS("#domain"), "acme.example.test"),
		chromedp.SendKeys(chromedp.CSS("#username"), "carol"),
		chromedp.Click(chromedp.CSS("#forgot-start")),
		chromedp.WaitVisible(chromedp.CSS("#forgot")),
		chromedp.Click(chromedp.CSS(`#forgot button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#signin")),
	)
	if status := text(t, ctx, "#status"); !strings.HasPrefix(status, "If that account exists and has an email address, we have sent it a link") {
		t.Errorf("after asking for a link: status %q", status)
	}

	m := mail.Receive(t)
	link := linkRE.FindString(m.Text)
	u, err := url.Parse(link)
	if len(m.To) != 1 || m.To[0] != "carol@acme.example.test" || err != nil {
		t.Fatalf("reset mail: %+v", m)
	}
	// The link leads to the page's own origin, which the seed does not list.
	if u.Scheme+"://"+u.Host != base || u.Path != "/reset" || u.Query().Get("token") == "" {
		t.Fatalf("the reset link %q does not lead to %s/reset with a token", link, base)
	}

	do(t, ctx, chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("#reset")))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != base+"/reset" {
		t.Errorf("the reset page's address is %q (%v), want the token gone: %s/reset", loc, err, base)
	}

	// Two different passwords are caught on the page; a too-short one is
	// refused by the API, with its message, and the link stays usable. After
	// each refusal the page has emptied both fields.
	setPassword := func(first, again string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.SendKeys(chromedp.CSS("#new-password"), first),
			chromedp.SendKeys(chromedp.CSS("#new-password-again"), again),
			chromedp.Click(chromedp.CSS(`#reset button[type="submit"]`)),
		)
	}
	do(t, ctx, setPassword(newPassword, newPassword+"x"), chromedp.WaitVisible(chromedp.CSS("#error")))
	if msg := text(t, ctx, "#error"); msg != "The two passwords differ. Enter the same new password twice." {
		t.Errorf("after two different passwords: %q", msg)
	}
	// The API's message names the field as the form does.
	const refused = "New password must be 8–256 characters. Choose another."
	do(t, ctx, setPassword("short", "short"),
		chromedp.Poll[chromedp.Void](`document.getElementById("error").textContent.endsWith("Choose another.")`))
	if msg := text(t, ctx, "#error"); msg != refused {
		t.Errorf("after a too-short password: %q, want %q", msg, refused)
	}

	do(t, ctx, setPassword(newPassword, newPassword), chromedp.WaitVisible(chromedp.CSS("#done")))
	if status := text(t, ctx, "#status"); !strings.HasPrefix(status, "Your password is changed") {
		t.Errorf("after the reset: status %q, error %q", status, text(t, ctx, "#error"))
	}

	// The page links back to the sign-in page, where the old password is
	// wrong now and the new one works.
	do(t, ctx, chromedp.Click(chromedp.CSS("#signin-link")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	if loc, err := chromedp.Run(ctx, chromedp.Location()); err != nil || loc != base+"/" {
		t.Errorf("the reset page's link leads to %q (%v), want %s/", loc, err, base)
	}
	do(t, ctx, signIn(base, "acme.example.test", "carol", "carol-pw-123"), chromedp.WaitVisible(chromedp.CSS("#error")))
	if msg := text(t, ctx, "#error"); msg != "The domain, username or password is wrong." {
		t.Errorf("the old password after the reset: %q", msg)
	}
	do(t, ctx, signIn(base, "acme.example.test", "carol", newPassword), chromedp.WaitVisible(chromedp.CSS("#signedin")),
		chromedp.Poll[chromedp.Void](`document.getElementById("who").textContent === "carol"`))
}
