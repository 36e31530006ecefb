// The sign-in page's "Change password" in headless Chromium: its refusals
// in words people use (an empty field, a short new password, a wrong
// current one), and a change that keeps this browser signed in while the
// account's other sign-ins end.

package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/pbxauth/pbxauth/internal/apitest"
)

// changePassword fills the page's "Change password" form, submits it and
// returns the line the page answers with (#error, else #status) once the
// request is done.
func changePassword(t *testing.T, ctx context.Context, current, next string) (errLine, status string) {
	t.Helper()
	fill, err := json.Marshal([]string{current, next})
	if err != nil {
		t.Fatal(err)
	}
	do(t, ctx,
		chromedp.Evaluate[chromedp.Void](`say(""); [$("current-password").value, $("new-password").value] = `+string(fill)),
		chromedp.Click(chromedp.CSS(`#password-change button[type="submit"]`)),
		chromedp.Poll[chromedp.Void](`!document.getElementById("password-change").hasAttribute("aria-busy") &&
			(document.getElementById("error").textContent !== "" ||
			 (document.getElementById("status").textContent !== "" && document.getElementById("status").textContent !== "Changing your password…"))`))
	return text(t, ctx, "#error"), text(t, ctx, "#status")
}

func TestBrowserChangePassword(t *testing.T) {
	chromium, base, api := browserExample(t)
	bob := func(password string) map[string]string {
		return map[string]string{"username": "bob", "password": password, "domain": "acme.example.test"}
	}
	r := api.Do("POST", "/auth/sign_in", bob("bob-pw-1234"))
	if r.Status != 200 {
		t.Fatalf("sign_in of a second device: %d %s", r.Status, r.Body)
	}
	phone := r.String("access_token")
	ctx := startBrowser(t, chromium)
	do(t, ctx, signIn(base, "acme.example.test", "bob", "bob-pw-1234"),
		chromedp.WaitVisible(chromedp.CSS("#password-change")),
		chromedp.Poll[chromedp.Void](`document.querySelectorAll("#sessions li").length === 2`))

	for _, c := range []struct {
		what, current, next, want string
	}{
		{"an empty current password", "", "new-bob-pw-99", "Enter your current password and the new one."},
		{"a short new password", "bob-pw-1234", "short", "New password must be 8–256 characters."},
		{"a wrong current password", "not-bobs-pw-1", "new-bob-pw-99", "Your current password is wrong."},
	} {
		if errLine, _ := changePassword(t, ctx, c.current, c.next); errLine != c.want {
			t.Errorf("%s: %q, want %q", c.what, errLine, c.want)
		}
	}
	if r := api.Do("GET", "/auth/user", nil, apitest.Bearer(phone)...); r.Status != 200 {
		t.Fatalf("the second device after the refusals: %d", r.Status)
	}

	errLine, status := changePassword(t, ctx, "bob-pw-1234", "new-bob-pw-99")
	if want := "Your password is changed. You are still signed in here; your other devices are signed out."; errLine != "" || status != want {
		t.Fatalf("the change: error %q, status %q, want %q", errLine, status, want)
	}
	do(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll("#sessions li").length === 1`))
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("current-password").value + document.getElementById("new-password").value`)); err != nil || v != "" {
		t.Errorf("the form still holds %q (%v) after the change", v, err)
	}
	if r := api.Do("GET", "/auth/user", nil, apitest.Bearer(phone)...); r.Status != 401 {
		t.Errorf("the second device after the change: %d, want 401", r.Status)
	}
	// This browser stays signed in, also after a reload.
	do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")),
		chromedp.Poll[chromedp.Void](`document.getElementById("who").textContent === "bob"`))
	if r := api.Do("POST", "/auth/sign_in", bob("bob-pw-1234")); r.Status != 401 {
		t.Errorf("the old password: %d", r.Status)
	}
	if r := api.Do("POST", "/auth/sign_in", bob("new-bob-pw-99")); r.Status != 200 {
		t.Errorf("the new password: %d %s", r.Status, r.Body)
	}
}
