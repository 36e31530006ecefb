// The example's reset page, which the link of a "Forgot password?" mail
// opens: /reset?token=... It takes the token out of the address bar (and so
// out of the history) at once and keeps it in memory only; the page sends
// no Referer (Referrer-Policy: no-referrer), so the token leaves the page
// only in the POST /api/auth/reset_password that uses it.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
history.replaceState(null, "", location.pathname);

// retry empties both fields for another try: whichever was wrong, both are
// typed again.
function retry(text) {
  fail(text);
  $("new-password").value = "";
  $("new-password-again").value = "";
  $("new-password").focus();
}

// done ends the page: the link is used, or of no use; either way the way on
// is the sign-in page.
function done(linkText) {
  $("reset").hidden = true;
  $("signin-link").textContent = linkText;
  $("done").hidden = false;
  $("signin-link").focus();
}

$("reset").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const password = $("new-password").value;
  if (password === "") {
    fail("Enter a new password.");
    $("new-password").focus();
    return;
  }
  if ($("new-password-again").value !== password) {
    retry("The two passwords differ. Enter the same new password twice.");
    return;
  }
  // The server alone judges the password (its policy may add rules), and a
  // refusal leaves the link usable: the user just tries another.
  say("Setting your new password…");
  const r = await busy($("reset"), () => api("POST", "/auth/reset_password", { token, new_password: password }));
  if (r.status === 200) {
    $("new-password").value = "";
    $("new-password-again").value = "";
    say("Your password is changed, and every device signed in as you is signed out.");
    done("Sign in with your new password");
    return;
  }
  // 401: unknown, expired or used. A 400 naming the token (not the
  // password) is a link cut or edited on its way.
  if (r.status === 401 || (r.status === 400 && apiMessage(r).startsWith("token"))) {
    fail("This link is wrong, expired or used already. Ask for a new one from the sign-in page.");
    done("Back to sign in");
    return;
  }
  retry(explain(r, { 400: (worded(apiMessage(r)) || "That password does not meet the rules") + ". Choose another." }));
});

if (token === "") {
  fail("This link is incomplete: it carries no token. Open the link from the mail in full, or ask for a new one from the sign-in page.");
  done("Back to sign in");
} else {
  $("reset").hidden = false;
  $("new-password").focus();
}
