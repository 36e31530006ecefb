// The page's passkeys in headless Chromium with the DevTools virtual
// authenticator (the WebAuthn domain): a platform authenticator with
// resident keys and user verification, as a phone's or laptop's screen lock
// is. Register, sign out, sign in with the button and through the username
// field's autofill, remove, and the passkey as second factor.

package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

func TestBrowserPasskeys(t *testing.T) {
	chromium := findChromium(t) // skips with -short
	base, mail := startBrowserExample(t)
	ctx := startBrowser(t, chromium)
	auth := virtualAuthenticator(t, ctx)
	onEveryPage(t, ctx, recordSignals)
	// The virtual authenticator answers the autofill's conditional request
	// at once, with no user to pick the passkey: it is off (as in a
	// browser without it) except where the test wants it.
	autofillOff := onEveryPage(t, ctx, noAutofill)

	// whoAmI asks GET /auth/user from the page, with its access token.
	whoAmI := func(t *testing.T) (username string, passwordVerified bool) {
		t.Helper()
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](
			`api("GET", "/auth/user", undefined, accessToken).then(r => r.data)`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		username, _ = got["username"].(string)
		passwordVerified, _ = got["password_verified"].(bool)
		return username, passwordVerified
	}

	// The autofill's request lives as long as its challenge, 5 minutes:
	// the page renews it a minute before, with new options, and ends the
	// old one. Long timers are cut short here (the delay asked for is
	// kept), so that two renewals happen at once. The virtual
	// authenticator settles a conditional request at once, so here the
	// browser waits for the user as a real one does: until the page
	// aborts it.
	t.Run("autofill renewal", func(t *testing.T) {
		call(t, ctx, cdppage.RemoveScriptToEvaluateOnNewDocument, cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: autofillOff})
		fast := onEveryPage(t, ctx, fastRenewals)
		defer func() {
			call(t, ctx, cdppage.RemoveScriptToEvaluateOnNewDocument, cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: fast})
			autofillOff = onEveryPage(t, ctx, noAutofill)
			do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signin")))
		}()
		do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")),
			chromedp.Poll[chromedp.Void](`window.requests.length === 3`))
		got, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]any](`({
			delays: window.delays,
			conditional: window.requests.every(r => r.mediation === "conditional"),
			aborted: window.requests.map(r => r.signal.aborted),
			challenges: new Set(window.requests.map(r => btoa(String.fromCharCode(...new Uint8Array(r.publicKey.challenge))))).size,
		})`))
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got["delays"]) != "[240000 240000]" || got["conditional"] != true ||
			fmt.Sprint(got["aborted"]) != "[true true false]" || got["challenges"] != 3.0 {
			t.Errorf("the autofill's requests: %v; want renewals after 4 minutes, each with a new challenge, ending the one before", got)
		}
	})

	t.Run("register", func(t *testing.T) {
		do(t, ctx, signIn(base, "acme.example.test", "bob", "bob-pw-1234"),
			chromedp.WaitVisible(chromedp.CSS("#passkeys-none")),
			chromedp.Click(chromedp.CSS("#passkey-add")),
			chromedp.Poll[chromedp.Void](`document.querySelectorAll("#passkey-list li").length === 1`))
		if status := text(t, ctx, "#status"); !strings.HasPrefix(status, "Passkey “") || !strings.Contains(status, "” added.") {
			t.Errorf("after adding: status %q", status)
		}
		creds := credentials(t, ctx, auth)
		if len(creds) != 1 || !creds[0].IsResidentCredential || creds[0].RpID != "localhost" {
			t.Fatalf("the authenticator holds %+v, want one discoverable passkey for localhost", creds)
		}
		// The list names the credential the browser holds (for the Signal API).
		listed, err := chromedp.Run(ctx, chromedp.Evaluate[string](
			`api("GET", "/auth/passkeys", undefined, accessToken).then(r => r.data.passkeys[0].credential_id)`, chromedp.EvalAwaitPromise))
		if want := base64.RawURLEncoding.EncodeToString(creds[0].CredentialID); err != nil || listed != want {
			t.Errorf("the list names credential %q (%v), the authenticator holds %q", listed, err, want)
		}
		if m := mail.Receive(t); m.To[0] != "bob@acme.example.test" || !strings.Contains(m.Text, "was added") {
			t.Errorf("the notice of the new passkey: %q to %v", m.Text, m.To)
		}

		// The browser is told the account's names after the registration.
		details, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]any](
			`window.signals.filter(s => s[0] === "signalCurrentUserDetails").map(s => s[1])`))
		if err != nil || len(details) != 1 || details[0]["rpId"] != "localhost" || details[0]["name"] != "bob@acme.example.test" || details[0]["userId"] == "" {
			t.Errorf("signalCurrentUserDetails got %v (%v), want bob@acme.example.test for localhost", details, err)
		}

		do(t, ctx, chromedp.Click(chromedp.CSS("#passkey-list li button")), // Rename
			chromedp.WaitVisible(chromedp.CSS(".passkey-rename input")),
			chromedp.Clear(chromedp.CSS(".passkey-rename input")),
			chromedp.SendKeys(chromedp.CSS(".passkey-rename input"), "Work laptop"),
			chromedp.Click(chromedp.CSS(`.passkey-rename button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#passkey-list .passkey-name")))
		if name := text(t, ctx, "#passkey-list .passkey-name"); name != "Work laptop" {
			t.Errorf("after renaming: %q", name)
		}
		if status := text(t, ctx, "#status"); status != "The passkey is now called “Work laptop”." {
			t.Errorf("after renaming: status %q", status)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	})

	t.Run("button", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")),
			chromedp.Click(chromedp.CSS("#passkey-signin")),
			chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if who, pw := whoAmI(t); who != "bob" || pw {
			t.Errorf("signed in as %q with password_verified %v, want bob without a password", who, pw)
		}
		checkSessionCookie(t, ctx, base)
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")),
			chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
	})

	t.Run("autofill", func(t *testing.T) {
		do(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS("#signin")))
		if ac, err := chromedp.Run(ctx, chromedp.Evaluate[string](`$("username").autocomplete`)); err != nil || ac != "username webauthn" {
			t.Errorf("the username field's autocomplete is %q (%v)", ac, err)
		}
		// With the autofill on, the page's own conditional request, made
		// when the form shows, signs bob in: no button is pressed.
		call(t, ctx, cdppage.RemoveScriptToEvaluateOnNewDocument, cdppage.RemoveScriptToEvaluateOnNewDocumentParams{Identifier: autofillOff})
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if who, pw := whoAmI(t); who != "bob" || pw {
			t.Errorf("signed in as %q with password_verified %v, want bob without a password", who, pw)
		}
		// The list told the browser which passkeys count.
		accepted, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]any](
			`window.signals.filter(s => s[0] === "signalAllAcceptedCredentials").map(s => s[1])`))
		want := base64.RawURLEncoding.EncodeToString(credentials(t, ctx, auth)[0].CredentialID)
		if err != nil || len(accepted) == 0 || accepted[0]["rpId"] != "localhost" || fmt.Sprint(accepted[0]["allAcceptedCredentialIds"]) != "["+want+"]" {
			t.Errorf("signalAllAcceptedCredentials got %v (%v), want rpId localhost and [%s]", accepted, err, want)
		}
		autofillOff = onEveryPage(t, ctx, noAutofill)
		do(t, ctx, chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#signedin")))
	})

	t.Run("remove", func(t *testing.T) {
		removed := base64.RawURLEncoding.EncodeToString(credentials(t, ctx, auth)[0].CredentialID)
		// Signed in with the passkey, removing it ends this sign-in too.
		do(t, ctx, chromedp.WaitVisible(chromedp.CSS("#passkey-list li")),
			chromedp.Click(chromedp.CSS("#passkey-list li button:last-of-type")),
			chromedp.WaitVisible(chromedp.CSS("#signin")))
		if status := text(t, ctx, "#status"); status != "The passkey “Work laptop” is removed. You had signed in with it, so you are signed out." {
			t.Errorf("after removing: status %q", status)
		}
		if m := mail.Receive(t); !strings.Contains(m.Text, "was removed") {
			t.Errorf("the notice of the removal: %q", m.Text)
		}
		// The browser still offers it; the server knows it no more, and
		// the page says so and tells the browser.
		do(t, ctx, chromedp.Click(chromedp.CSS("#passkey-signin")), chromedp.WaitVisible(chromedp.CSS("#error")))
		if msg := text(t, ctx, "#error"); !strings.HasPrefix(msg, "This passkey is not registered here") {
			t.Errorf("signing in with a removed passkey: %q", msg)
		}
		unknown, err := chromedp.Run(ctx, chromedp.Evaluate[[]map[string]any](
			`window.signals.filter(s => s[0] === "signalUnknownCredential").map(s => s[1])`))
		if err != nil || len(unknown) != 1 || unknown[0]["rpId"] != "localhost" || unknown[0]["credentialId"] != removed {
			t.Errorf("signalUnknownCredential got %v (%v), want rpId localhost and %s", unknown, err, removed)
		}
		call(t, ctx, webauthn.ClearCredentials, webauthn.ClearCredentialsParams{AuthenticatorID: auth})
	})

	t.Run("second factor", func(t *testing.T) {
		// This part runs as in a browser without the WebAuthn JSON
		// helpers (parse*OptionsFromJSON, toJSON): the page encodes and
		// decodes by hand.
		call(t, ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: noJSONHelpers})
		// alice has the emailed second factor and no passkey: a code.
		do(t, ctx, signIn(base, "acme.example.test", "alice", "alice-pw-123"), chromedp.WaitVisible(chromedp.CSS("#otp")))
		if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`$("code-passkey").checkVisibility()`)); err != nil || shown {
			t.Errorf("a user without passkeys is offered one (%v)", err)
		}
		if helpers, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`"parseCreationOptionsFromJSON" in PublicKeyCredential || "toJSON" in PublicKeyCredential.prototype`)); err != nil || helpers {
			t.Fatalf("the JSON helpers are still there (%v)", err)
		}
		code := codeRE.FindString(mail.Receive(t).Text)
		do(t, ctx, chromedp.SendKeys(chromedp.CSS("#otp"), code),
			chromedp.Click(chromedp.CSS(`#code button[type="submit"]`)),
			chromedp.WaitVisible(chromedp.CSS("#passkeys-none")),
			chromedp.Click(chromedp.CSS("#passkey-add")),
			chromedp.Poll[chromedp.Void](`document.querySelectorAll("#passkey-list li").length === 1`),
			chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))
		if m := mail.Receive(t); !strings.Contains(m.Text, "was added") {
			t.Errorf("the notice of alice's passkey: %q", m.Text)
		}

		// With a passkey, the password's second step offers it and mails
		// nothing.
		do(t, ctx, signIn(base, "acme.example.test", "alice", "alice-pw-123"), chromedp.WaitVisible(chromedp.CSS("#code-passkey")))
		if help := text(t, ctx, "#code-help"); help != "Use your passkey to finish signing in." {
			t.Errorf("the second step says %q", help)
		}
		if shown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`$("otp").checkVisibility()`)); err != nil || shown {
			t.Errorf("the code field shows beside the passkey (%v)", err)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#code-passkey")), chromedp.WaitVisible(chromedp.CSS("#signedin")))
		if who, pw := whoAmI(t); who != "alice" || !pw {
			t.Errorf("signed in as %q with password_verified %v, want alice with her password", who, pw)
		}
		if n := len(mail.Messages); n != 0 {
			t.Errorf("%d mails: a code was mailed to a user who used her passkey", n)
		}
		do(t, ctx, chromedp.Click(chromedp.CSS("#signout")), chromedp.WaitVisible(chromedp.CSS("#signin")))

		// "Use a code instead" mails one.
		do(t, ctx, signIn(base, "acme.example.test", "alice", "alice-pw-123"), chromedp.WaitVisible(chromedp.CSS("#code-instead")),
			chromedp.Click(chromedp.CSS("#code-instead")), chromedp.WaitVisible(chromedp.CSS("#otp")))
		checkCodePrompt(t, ctx, emailCodeHelp, true)
		if code := codeRE.FindString(mail.Receive(t).Text); code == "" {
			t.Error("no code mailed after \"Use a code instead\"")
		}
	})
}

// virtualAuthenticator gives the browser a platform authenticator that
// makes discoverable passkeys and verifies its user at once.
func virtualAuthenticator(t *testing.T, ctx context.Context) webauthn.AuthenticatorID {
	t.Helper()
	call(t, ctx, webauthn.Enable, webauthn.EnableParams{})
	return call(t, ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}}).AuthenticatorID
}

// credentials returns the passkeys the virtual authenticator holds.
func credentials(t *testing.T, ctx context.Context, id webauthn.AuthenticatorID) []*webauthn.Credential {
	t.Helper()
	return call(t, ctx, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id}).Credentials
}

// call sends a DevTools command, failing the test on error.
func call[P, R any](t *testing.T, ctx context.Context, cmd cdp.Command[P, R], params P) R {
	t.Helper()
	res, err := chromedp.Call(ctx, cmd, params)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// recordSignals keeps the page's calls of the Signal API in
// window.signals, and passes them on.
const recordSignals = `window.signals = [];
for (const m of ["signalUnknownCredential", "signalAllAcceptedCredentials", "signalCurrentUserDetails"]) {
  const real = PublicKeyCredential[m];
  if (typeof real === "function") PublicKeyCredential[m] = (arg) => { window.signals.push([m, arg]); return real.call(PublicKeyCredential, arg); };
}`

// fastRenewals records the page's WebAuthn requests in window.requests,
// which wait until they are aborted, and the delays of its first two long
// timers in window.delays, and runs those timers after 50 ms.
const fastRenewals = `window.requests = [];
window.delays = [];
navigator.credentials.get = (o) => {
  window.requests.push(o);
  return new Promise((_, reject) => o.signal.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))));
};
const realTimeout = window.setTimeout;
window.setTimeout = (fn, ms, ...args) => {
  if (ms >= 60000 && window.delays.length < 2) { window.delays.push(ms); ms = 50; }
  return realTimeout(fn, ms, ...args);
};`

// noJSONHelpers takes the WebAuthn JSON helpers away, as older browsers
// lack them.
const noJSONHelpers = `delete PublicKeyCredential.parseCreationOptionsFromJSON;
delete PublicKeyCredential.parseRequestOptionsFromJSON;
delete PublicKeyCredential.prototype.toJSON;
if (PublicKeyCredential.parseRequestOptionsFromJSON || PublicKeyCredential.prototype.toJSON) throw new Error("the JSON helpers stayed");`

// noAutofill makes the browser say it has no autofill of passkeys.
const noAutofill = `PublicKeyCredential.isConditionalMediationAvailable = async () => false;`

// onEveryPage runs src in every page the browser opens, before its scripts.
func onEveryPage(t *testing.T, ctx context.Context, src string) cdppage.ScriptIdentifier {
	t.Helper()
	return call(t, ctx, cdppage.AddScriptToEvaluateOnNewDocument, cdppage.AddScriptToEvaluateOnNewDocumentParams{Source: src}).Identifier
}
