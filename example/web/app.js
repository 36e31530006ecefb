// The example's sign-in page: password sign-in with the emailed second
// factor, passkeys (passkey.js), Microsoft sign-in when the tenant has it, and the state of the
// cookie session (GET /api/login), which is what survives a reload, with who
// is signed in and where (GET /api/auth/sessions), and "Change password".
// "Forgot password?" asks for a mail whose link opens the reset page
// (reset.js). The page keeps no token beyond memory: the session cookie is
// HttpOnly, and the access token GET /api/login hands out is only used for
// the bearer routes until a reload. Shared helpers ($, api, apiReason,
// explain, say, fail, busy) are in common.js, agentName in agent.js, the
// passkeys in passkey.js.
"use strict";

let flowToken = ""; // the second-factor flow of the sign-in in progress
let factor = ""; // where the flow's code comes from: "email" or "app" (send_otp says)
let msDomain = ""; // the domain whose tenant offers Microsoft sign-in
let infoSeq = 0; // only the latest /info answer counts
let accessToken = ""; // the session's access token, for the bearer routes

const titles = { loading: "Sign in", signin: "Sign in", forgot: "Forgot password", code: "Enter your code", signedin: "Signed in" };

// show makes one step visible and moves focus to where the user goes next.
function show(step, focus) {
  for (const id of ["loading", "signin", "forgot", "code", "signedin"]) $(id).hidden = id !== step;
  $("microsoft").hidden = step !== "signin" || msDomain === "";
  $("title").textContent = titles[step];
  if (focus) focus.focus();
  autofillFor(step); // passkey.js
}

function signedIn(s) {
  accessToken = s.access_token || "";
  $("role").textContent = s.role;
  $("totp-enrol").hidden = true;
  $("totp-codes").hidden = true;
  $("totp-start").hidden = false;
  const at = new Date(s.expires_at);
  const minutes = Math.round(s.expires_in / 60);
  $("expiry").dateTime = s.expires_at;
  $("expiry").textContent = at.toLocaleString() + " (in " + minutes + (minutes === 1 ? " minute)" : " minutes)");
  show("signedin", $("title"));
  account();
}

// account shows who is signed in and their sign-ins. Everything a sign-in
// recorded (its user agent above all) is the client's text: it goes in as
// text, never as markup.
async function account() {
  const [u, l] = await Promise.all([
    api("GET", "/auth/user", undefined, accessToken),
    api("GET", "/auth/sessions", undefined, accessToken),
  ]);
  if (u.status === 401 || l.status === 401) {
    await refresh(); // the token expired or the session ended: ask GET /login
    return;
  }
  if (u.status === 200) $("who").textContent = u.data.username || "";
  if (l.status !== 200) {
    fail(explain(l));
    return;
  }
  $("sessions").replaceChildren(...l.data.sessions.map(sessionItem));
  $("signout-others").hidden = l.data.sessions.length < 2;
  await listPasskeys(); // passkey.js
}

// sessionItem is one sign-in of the list: its client named from the user
// agent (agent.js; the agent itself, as text, when it names nothing known),
// where and when, and its own "Sign out".
function sessionItem(s, i) {
  const li = document.createElement("li");
  const about = document.createElement("span");
  about.id = "session-" + i;
  const name = agentName(s.user_agent) || s.user_agent || "An unknown client";
  about.textContent = name + " at " + (s.client_ip || "an unknown address") +
    ", signed in " + new Date(s.created_at).toLocaleString() +
    ", last used " + new Date(s.last_used_at).toLocaleString() + (s.current ? " (this browser)" : "");
  if (s.user_agent) li.title = s.user_agent;
  const out = document.createElement("button");
  out.type = "button";
  out.className = "secondary";
  out.textContent = "Sign out";
  out.setAttribute("aria-describedby", about.id);
  out.addEventListener("click", () => (s.current ? signOut() : endSession(s.id, name)));
  if (s.current) li.className = "current";
  li.append(about, " ", out);
  return li;
}

// endSession signs one other sign-in out (DELETE /auth/sessions/{id}).
async function endSession(id, name) {
  const r = await busy($("sessions"), () => api("DELETE", "/auth/sessions/" + encodeURIComponent(id), undefined, accessToken));
  if (r.status === 401) {
    await refresh();
    return;
  }
  if (r.status === 204) say(name + " is signed out.");
  else if (r.status === 404) say("That session had ended already.");
  else fail(explain(r));
  await account();
}

function signInAgain(message, focus) {
  flowToken = "";
  $("otp").value = "";
  show("signin", focus || $("username"));
  if (message) fail(message);
}

// refresh shows the session's state; it is what a reload does.
async function refresh() {
  const r = await api("GET", "/login");
  if (r.status === 200) {
    signedIn(r.data);
    return;
  }
  show("signin");
  if (r.status !== 401) fail(explain(r));
}

// checkMicrosoft shows the Microsoft button when the domain's tenant has it.
// An unchanged domain changes nothing: the "change" event fires when the
// domain field loses focus, which is the moment a click on the button
// begins, and hiding the button then would swallow that click.
async function checkMicrosoft() {
  const domain = $("domain").value.trim();
  if (domain === msDomain && domain !== "") return;
  const seq = ++infoSeq;
  msDomain = "";
  $("microsoft").hidden = true;
  if (domain === "") return;
  const r = await api("GET", "/info?domain=" + encodeURIComponent(domain));
  if (seq !== infoSeq || r.status !== 200 || r.data.enable_ms365_integration !== true) return;
  msDomain = domain;
  $("microsoft-domain").value = domain;
  $("microsoft").hidden = $("signin").hidden;
}

// codeHelp is the code prompt's one paragraph; it names the authenticator
// app only to a user who has one.
const codeHelp = {
  email: "We have emailed a 6-digit code to the address on your account. Enter it here within 10 minutes.",
  app: "Enter the 6-digit code your authenticator app shows, or one of your recovery codes.",
};

// codeFormat says what a code looks like, for the flow's factor.
function codeFormat() {
  return factor === "app" ? "The code is the 6 digits your app shows, or one of your recovery codes." : "The code is the 6 digits from the email.";
}

// sendCode asks for the flow's code; send_otp's answer says whether it was
// mailed or comes from the user's app (then there is nothing to resend).
async function sendCode(again) {
  const r = await api("POST", "/auth/send_otp", { token: flowToken });
  if (r.status === 401) {
    signInAgain("Your sign-in has expired. Please sign in again.");
    return;
  }
  if (r.status === 200) factor = r.data.factor === "app" ? "app" : "email";
  $("code-help").textContent = codeHelp[factor] || "";
  $("resend").hidden = factor === "app";
  hidePasskeyOffer(); // passkey.js
  show("code", $("otp"));
  if (r.status !== 200) fail(explain(r));
  else say(again ? "We have sent a new code; only the newest one works." : "");
}

$("signin").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const domain = $("domain").value.trim();
  const username = $("username").value.trim();
  const password = $("password").value;
  if (username === "" || password === "") {
    fail("Enter your username and password.");
    (username === "" ? $("username") : $("password")).focus();
    return;
  }
  const body = { username, password };
  if (domain !== "") body.domain = domain;
  say("Signing in…");
  const r = await busy($("signin"), () => api("POST", "/login", body));
  if (r.status === 200) {
    $("password").value = "";
    if (r.data.two_factor_enabled) {
      flowToken = r.data.token;
      factor = "";
      // A user with a passkey is offered it first (passkey.js); a code
      // is mailed only when asked for.
      if (!(await offerPasskey())) await sendCode(false);
      return;
    }
    say("");
    signedIn(r.data);
    return;
  }
  fail(explain(r, { 401: "The domain, username or password is wrong." }));
  $("password").focus();
});

$("code").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = $("otp").value.trim();
  if (!/^[0-9]{6}$/.test(code) && !(factor === "app" && /^[0-9A-Za-z]{5}[ -]?[0-9A-Za-z]{5}$/.test(code))) {
    fail(codeFormat());
    $("otp").focus();
    return;
  }
  say("Checking the code…");
  const r = await busy($("code"), () => api("POST", "/auth/verify_otp", { token: flowToken, code }));
  if (r.status === 200) {
    // The answer carries a token pair; the page relies on the session
    // cookie the same answer set.
    flowToken = "";
    $("otp").value = "";
    say("");
    await refresh();
    return;
  }
  fail(explain(r, {
    400: codeFormat(),
    401: factor === "app" ? "The code is wrong or was used already. Enter the code your app shows now, or start over."
      : "The code is wrong or has expired. Send a new code, or start over.",
  }));
  $("otp").select();
});

// Authenticator app enrolment: the QR code and key, a first code to
// confirm, then the recovery codes, shown once.
$("totp-start").addEventListener("click", async () => {
  const r = await busy($("totp"), () => api("POST", "/auth/totp", undefined, accessToken));
  if (r.status !== 200) {
    fail(explain(r, {
      403: "Sign out and in again with your password to change your second factor.",
      404: "This server does not offer authenticator apps.",
      400: "An authenticator app is set up already.",
    }));
    return;
  }
  $("totp-qr").src = "data:image/png;base64," + r.data.qr_png;
  $("totp-secret").textContent = r.data.secret.match(/.{1,4}/g).join(" "); // groups of four, to type it by hand
  $("totp-start").hidden = true;
  $("totp-enrol").hidden = false;
  say("Scan the QR code with your authenticator app, then enter the code it shows.");
  $("totp-code").focus();
});

$("totp-confirm").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const code = $("totp-code").value.trim();
  const r = await busy($("totp"), () => api("POST", "/auth/totp/confirm", { code }, accessToken));
  if (r.status !== 200) {
    fail(explain(r, { 400: "That code is wrong or used already: enter the code your app shows now." }));
    $("totp-code").select();
    return;
  }
  $("totp-code").value = "";
  $("totp-enrol").hidden = true;
  const list = $("totp-list");
  list.replaceChildren(...r.data.recovery_codes.map((c) => {
    const li = document.createElement("li");
    li.textContent = c;
    return li;
  }));
  $("totp-codes").hidden = false;
  say("Your authenticator app is set up. Keep the recovery codes somewhere safe: each works once, and they are not shown again.");
});

// "Change password" (POST /api/user/password with the session's bearer
// token): the current password proves it is the user. This browser's
// sign-in is carried over, so the page stays signed in; every other sign-in
// of the account ends, and the list of sessions says so.
$("password-change").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const current = $("current-password");
  const next = $("new-password");
  if (current.value === "" || next.value === "") {
    fail("Enter your current password and the new one.");
    (current.value === "" ? current : next).focus();
    return;
  }
  say("Changing your password…");
  const body = { old_password: current.value, new_password: next.value };
  const r = await busy($("password-change"), () => api("POST", "/user/password", body, accessToken));
  if (r.status === 200) {
    current.value = "";
    next.value = "";
    say("Your password is changed. You are still signed in here; your other devices are signed out.");
    await account();
    return;
  }
  if (r.status === 401) {
    // The sign-in ended (too many wrong passwords, or a change elsewhere),
    // or only its access token expired: GET /login tells which.
    current.value = "";
    next.value = "";
    await refresh();
    fail($("signedin").hidden ? "You are signed out. Sign in again to change your password." : "Please try again.");
    return;
  }
  if (apiReason(r) === "wrong_password") {
    fail("Your current password is wrong.");
    current.select();
    return;
  }
  if (apiReason(r) === "credentials_changed") {
    fail("Your password was changed meanwhile. Sign out and in again with the new one.");
    return;
  }
  fail(explain(r)); // what the new password lacks, in the API's words as people say them
  next.focus();
});

// "Forgot password?" starts from what the sign-in form holds.
$("forgot-start").addEventListener("click", () => {
  $("forgot-domain").value = $("domain").value.trim();
  $("forgot-username").value = $("username").value.trim();
  say("");
  show("forgot", $("forgot-domain").value === "" ? $("forgot-domain") : $("forgot-username"));
});

$("forgot-back").addEventListener("click", () => { say(""); show("signin", $("username")); });

// The link comes back to the reset page on this page's own origin, which
// the example allows as a callback origin. The answer is 200 whether or not
// the account exists, so the page cannot say more than "if".
$("forgot").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const domain = $("forgot-domain").value.trim();
  const username = $("forgot-username").value.trim();
  if (domain === "" || username === "") {
    fail("Enter your domain and username.");
    (domain === "" ? $("forgot-domain") : $("forgot-username")).focus();
    return;
  }
  say("Asking for a link…");
  const body = { domain, username, callback_url: location.origin + "/reset" };
  const r = await busy($("forgot"), () => api("POST", "/auth/forget_password", body));
  if (r.status !== 200) {
    fail(explain(r));
    return;
  }
  $("domain").value = domain;
  $("username").value = username;
  show("signin", $("password"));
  say("If that account exists and has an email address, we have sent it a link to choose a new password. The link works once and only for a short time.");
});

$("resend").addEventListener("click", () => busy($("code"), () => sendCode(true)));
$("restart").addEventListener("click", () => { say(""); signInAgain(); });

// signOut ends this browser's session (POST /logout clears its cookie).
async function signOut() {
  const r = await busy($("signedin"), () => api("POST", "/logout"));
  if (r.status !== 204) {
    fail(explain(r));
    return;
  }
  accessToken = "";
  show("signin", $("username"));
  say("You are signed out.");
}

$("signout").addEventListener("click", signOut);

$("signout-others").addEventListener("click", async () => {
  const r = await busy($("signedin"), () => api("POST", "/auth/sign_out?scope=others", undefined, accessToken));
  if (r.status !== 200) {
    fail(explain(r));
    return;
  }
  say("Your other devices are signed out.");
  await account();
});

let infoTimer = 0;
$("domain").addEventListener("input", () => {
  clearTimeout(infoTimer);
  infoTimer = setTimeout(checkMicrosoft, 400);
});
$("domain").addEventListener("change", checkMicrosoft);

// A failed Microsoft sign-in lands here with ?error=...
const params = new URLSearchParams(location.search);
if (params.has("error")) {
  history.replaceState(null, "", location.pathname);
  refresh().then(() => fail("Microsoft sign-in failed (" + params.get("error") + ")."));
} else {
  refresh();
}
if ($("domain").value !== "") checkMicrosoft();
