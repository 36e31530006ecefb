// The sign-in page's passkeys (WebAuthn): "Sign in with a passkey", the
// username field's autofill (a conditional request, started when the
// sign-in form shows and renewed before its challenge ends), the passkey as
// second factor, and, once signed in, the list with add, rename and remove.
// Where the browser has the Signal API, it is told which passkeys the
// server no longer knows, which still count, and the account's name.
// Options and answers are the WebAuthn JSON forms: the browser's
// parse*OptionsFromJSON and toJSON() where it has them, else the base64url
// decoding and encoding below. Globals of app.js used here: accessToken,
// flowToken, factor, show, signedIn, refresh, sendCode, signInAgain.
"use strict";

// webauthn reports whether this browser can use passkeys at all.
const webauthn = typeof PublicKeyCredential === "function" && !!navigator.credentials;

// passkeysOff is set once the server says it serves no passkeys (404).
let passkeysOff = false;

// rpId is the RP ID of the server's last options, for the Signal API; kept
// for the tab, so a reload that is still signed in can signal too.
let rpId = sessionStorage.getItem("rpId") || "";

function rememberRP(id) {
  if (!id) return;
  rpId = id;
  sessionStorage.setItem("rpId", id);
}

// fromB64 and toB64 convert between base64url text and bytes.
function fromB64(s) {
  const b = atob(s.replace(/-/g, "+").replace(/_/g, "/"));
  return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

function toB64(buf) {
  let s = "";
  for (const c of new Uint8Array(buf)) s += String.fromCharCode(c);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

// requestOptions turns the server's request options into the browser's.
function requestOptions(pk) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") return PublicKeyCredential.parseRequestOptionsFromJSON(pk);
  return {
    ...pk,
    challenge: fromB64(pk.challenge),
    allowCredentials: (pk.allowCredentials || []).map((c) => ({ ...c, id: fromB64(c.id) })),
  };
}

// creationOptions turns the server's creation options into the browser's.
function creationOptions(pk) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") return PublicKeyCredential.parseCreationOptionsFromJSON(pk);
  return {
    ...pk,
    challenge: fromB64(pk.challenge),
    user: { ...pk.user, id: fromB64(pk.user.id) },
    excludeCredentials: (pk.excludeCredentials || []).map((c) => ({ ...c, id: fromB64(c.id) })),
  };
}

// credentialJSON is a credential as the API reads it (what toJSON() gives).
function credentialJSON(cred) {
  if (typeof cred.toJSON === "function") return cred.toJSON();
  const r = cred.response;
  const response = { clientDataJSON: toB64(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = toB64(r.attestationObject);
    response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    response.authenticatorData = toB64(r.authenticatorData);
    response.signature = toB64(r.signature);
    if (r.userHandle) response.userHandle = toB64(r.userHandle);
  }
  return {
    id: cred.id, rawId: toB64(cred.rawId), type: cred.type, response,
    authenticatorAttachment: cred.authenticatorAttachment || undefined,
    clientExtensionResults: cred.getClientExtensionResults(),
  };
}

// signal calls one of the Signal API's methods when the browser has it.
// It is advice to the browser: a refusal changes nothing here.
function signal(method, arg) {
  if (!webauthn || typeof PublicKeyCredential[method] !== "function") return;
  PublicKeyCredential[method](arg).catch(() => {});
}

// ask runs a WebAuthn ceremony and sorts out how it ended: {cred}, or
// {error} with what to tell the user ("" when they cancelled, which needs
// no words).
async function ask(fn) {
  try {
    const cred = await fn();
    return cred ? { cred } : { error: "" };
  } catch (e) {
    if (e.name === "NotAllowedError" || e.name === "AbortError") return { error: "" };
    if (e.name === "InvalidStateError") return { error: "This device has a passkey for your account already." };
    if (e.name === "SecurityError") return { error: "Passkeys do not work at this address: open the page at its public address." };
    return { error: "Your browser could not use a passkey (" + e.name + ")." };
  }
}

// ceremony says what the browser waits for, runs a ceremony and returns its
// credential, or null once it has said why not (cancelled: what to say
// when the user cancelled).
async function ceremony(waiting, fn, cancelled) {
  say(waiting);
  const got = await ask(fn);
  if (got.cred) return got.cred;
  if (got.error) fail(got.error);
  else say(cancelled);
  return null;
}

// The username field's autofill: one conditional request at a time. It is
// renewed a minute before its challenge ends (the server's timeout, 5
// minutes), and ended when the sign-in form goes or a button needs the
// authenticator.
let autofillSeq = 0;
let autofillActive = false; // a request is being made or waits for the user
let autofillAbort = null;
let autofillDone = Promise.resolve(); // settles when the browser's request has ended
let autofillTimer = 0;

// autofillFor keeps the autofill request alive while the sign-in form shows.
function autofillFor(step) {
  if (step !== "signin") stopAutofill();
  else if (!autofillActive) startAutofill();
}

// endAutofill ends the request in progress, at once.
function endAutofill() {
  autofillSeq++;
  autofillActive = false;
  clearTimeout(autofillTimer);
  if (autofillAbort) autofillAbort.abort();
  autofillAbort = null;
}

// stopAutofill ends it and waits until the browser has: a browser refuses
// a new request while the old one lasts.
async function stopAutofill() {
  endAutofill();
  await autofillDone;
}

async function startAutofill() {
  endAutofill();
  const seq = autofillSeq;
  autofillActive = true;
  const current = () => seq === autofillSeq;
  await autofillDone;
  if (!current()) return;
  if (!webauthn || passkeysOff || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function" ||
      !(await PublicKeyCredential.isConditionalMediationAvailable())) {
    if (current()) autofillActive = false;
    return;
  }
  const o = await api("POST", "/auth/sign_in/passkey/options", {});
  if (o.status === 404) {
    passkeysOff = true;
    $("passkey-signin").hidden = true;
  }
  if (!current()) return;
  if (o.status !== 200) {
    autofillActive = false;
    return;
  }
  rememberRP(o.data.publicKey.rpId);
  const life = o.data.publicKey.timeout || 300000;
  autofillTimer = setTimeout(startAutofill, Math.max(life - 60000, life / 2));
  const abort = new AbortController();
  autofillAbort = abort;
  let settled;
  autofillDone = new Promise((resolve) => { settled = resolve; });
  let got;
  try {
    got = await ask(() => navigator.credentials.get({ mediation: "conditional", publicKey: requestOptions(o.data.publicKey), signal: abort.signal }));
  } finally {
    settled();
  }
  if (!current()) return;
  endAutofill();
  if (!got.cred) {
    if (got.error) fail(got.error);
    return;
  }
  await finishPasskeySignIn(o.data.token, got.cred);
}

// passkeySignIn is the button: a modal request for any of the user's
// passkeys on this device, a phone or a security key.
async function passkeySignIn() {
  await stopAutofill();
  const o = await api("POST", "/auth/sign_in/passkey/options", {});
  if (o.status === 404) {
    passkeysOff = true;
    $("passkey-signin").hidden = true;
    fail("This server does not offer passkeys.");
    return;
  }
  if (o.status !== 200) {
    fail(explain(o));
    return;
  }
  rememberRP(o.data.publicKey.rpId);
  const cred = await ceremony("Waiting for your passkey…", () => navigator.credentials.get({ publicKey: requestOptions(o.data.publicKey) }), "");
  if (cred) await finishPasskeySignIn(o.data.token, cred);
  else startAutofill();
}

// finishPasskeySignIn starts the cookie session with the passkey's answer,
// as POST /login does with a password.
async function finishPasskeySignIn(token, cred) {
  say("Signing in…");
  const r = await api("POST", "/login/passkey", { token, credential: credentialJSON(cred) });
  if (r.status === 200) {
    say("");
    if (r.data.two_factor_enabled) {
      // The tenant counts a passkey as one factor: a code completes it.
      flowToken = r.data.token;
      factor = "";
      await sendCode(false);
      return;
    }
    signedIn(r.data);
    return;
  }
  if (r.status === 401 && r.data.errors && r.data.errors[0].reason === "unknown_credential") {
    // No account has it (it was removed, or the server's data was reset):
    // the browser may stop offering it.
    signal("signalUnknownCredential", { rpId, credentialId: cred.id });
    fail("This passkey is not registered here (it may have been removed). Sign in with your password, and add a new passkey.");
  } else {
    fail(explain(r, { 401: "That passkey cannot sign you in. Sign in with your password, or try another passkey." }));
  }
  startAutofill();
}

// The passkey as second factor: verify_passkey/options says whether the
// user has passkeys (400 when not) and gives the challenge, which the flow
// keeps until the next one.
let secondOptions = null;

// offerPasskey shows the code step with "Use a passkey" when the user has
// one; it reports whether it did.
async function offerPasskey() {
  secondOptions = null;
  if (!webauthn || passkeysOff) return false;
  const o = await api("POST", "/auth/verify_passkey/options", { token: flowToken });
  if (o.status === 404) passkeysOff = true;
  if (o.status !== 200) return false;
  secondOptions = o.data.publicKey;
  rememberRP(secondOptions.rpId);
  $("code-help").textContent = "Use your passkey to finish signing in.";
  $("code-entry").hidden = true;
  $("code-passkey").hidden = false;
  $("code-instead").hidden = false;
  show("code", $("code-passkey"));
  say("");
  return true;
}

// hidePasskeyOffer leaves the code step to codes.
function hidePasskeyOffer() {
  secondOptions = null;
  $("code-entry").hidden = false;
  $("code-passkey").hidden = true;
  $("code-instead").hidden = true;
}

$("code-passkey").addEventListener("click", () => busy($("code"), async () => {
  let pk = secondOptions;
  secondOptions = null;
  if (!pk) {
    const o = await api("POST", "/auth/verify_passkey/options", { token: flowToken });
    if (o.status === 401) {
      signInAgain("Your sign-in has expired. Please sign in again.");
      return;
    }
    if (o.status !== 200) {
      fail(explain(o));
      return;
    }
    pk = o.data.publicKey;
  }
  const cred = await ceremony("Waiting for your passkey…", () => navigator.credentials.get({ publicKey: requestOptions(pk) }), "");
  if (!cred) return;
  const r = await api("POST", "/auth/verify_passkey", { token: flowToken, credential: credentialJSON(cred) });
  if (r.status === 200) {
    // As verify_otp: the answer set the session cookie.
    flowToken = "";
    hidePasskeyOffer();
    say("");
    await refresh();
    return;
  }
  fail(explain(r, { 401: "That passkey did not work. Try again, use a code instead, or start over." }));
}));

$("code-instead").addEventListener("click", () => {
  hidePasskeyOffer();
  busy($("code"), () => sendCode(false));
});

// Passkeys of the signed-in user.

// passkeyWords word the management's refusals as people say them.
const passkeyWords = {
  0: "The server cannot be reached. Check your connection and try again.",
  403: "Sign in again to change passkeys: you signed in more than 10 minutes ago.",
  404: "That passkey was removed already.",
};

// passkeyRefusal words a failed answer of the management routes.
function passkeyRefusal(r) {
  const e = (r.data.errors && r.data.errors[0]) || {};
  if (e.reason === "credentials_changed") return "Your password or sign-ins changed meanwhile: sign in again to add a passkey.";
  if (r.status === 400 && /registered already/.test(e.message || "")) return "That passkey is registered already.";
  if (r.status === 400 && /too many passkeys/.test(e.message || "")) return "You have as many passkeys as allowed: remove one first.";
  return explain(r, passkeyWords);
}

// listPasskeys shows the user's passkeys, or hides the section when the
// server offers none. The browser is told which still count.
async function listPasskeys() {
  const r = await api("GET", "/auth/passkeys", undefined, accessToken);
  if (r.status === 404) {
    $("passkeys").hidden = true;
    return;
  }
  if (r.status === 401) {
    await refresh();
    return;
  }
  $("passkeys").hidden = false;
  $("passkey-add").hidden = !webauthn;
  if (r.status !== 200) {
    fail(passkeyRefusal(r));
    return;
  }
  const list = r.data.passkeys;
  $("passkey-list").replaceChildren(...list.map(passkeyItem));
  $("passkeys-none").hidden = list.length > 0;
  if (rpId) {
    signal("signalAllAcceptedCredentials", { rpId, userId: r.data.user_handle, allAcceptedCredentialIds: list.map((p) => p.credential_id) });
    if (userDetails && userDetails.userId === r.data.user_handle) signal("signalCurrentUserDetails", { rpId, ...userDetails });
  }
}

// userDetails are the account's names as the last registration options
// gave them, for signalCurrentUserDetails.
let userDetails = null;

// when says a passkey's date as people read it.
function when(s) { return new Date(s).toLocaleString(); }

// passkeyItem is one passkey of the list: its name (the user's text, set
// as text), what and when, and its Rename and Remove.
function passkeyItem(p, i) {
  const li = document.createElement("li");
  const name = document.createElement("span");
  name.className = "passkey-name";
  name.id = "passkey-" + i;
  name.textContent = p.name;
  const about = document.createElement("span");
  about.className = "passkey-about";
  about.textContent = [
    p.authenticator !== p.name ? p.authenticator : "",
    p.backed_up ? "synced" : "",
    "added " + when(p.created_at),
    p.last_used_at ? "last used " + when(p.last_used_at) : "never used",
  ].filter(Boolean).join(", ");
  li.append(name, " ", about);
  if (p.disabled) {
    const warn = document.createElement("span");
    warn.className = "error";
    warn.textContent = "It can no longer sign you in (it may have been copied): remove it and add it again.";
    li.append(" ", warn);
  }
  const rename = button("Rename", name.id, () => renameForm(li, p));
  const remove = button("Remove", name.id, () => removePasskey(p));
  li.append(" ", rename, remove);
  return li;
}

// button makes one of a list item's buttons, described by its item's name.
function button(label, describedBy, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.className = "secondary";
  b.textContent = label;
  b.setAttribute("aria-describedby", describedBy);
  b.addEventListener("click", onClick);
  return b;
}

// renameForm puts a name field in place of the item's buttons.
function renameForm(li, p) {
  const form = document.createElement("form");
  form.className = "passkey-rename";
  form.noValidate = true;
  const id = "passkey-rename-" + p.id;
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = "New name";
  const input = document.createElement("input");
  input.id = id;
  input.maxLength = 64;
  input.value = p.name;
  const save = document.createElement("button");
  save.type = "submit";
  save.textContent = "Save";
  const cancel = button("Cancel", id, () => listPasskeys());
  form.append(label, input, save, cancel);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = input.value.trim();
    const r = await busy(form, () => api("PATCH", "/auth/passkeys/" + encodeURIComponent(p.id), { name }, accessToken));
    if (r.status !== 200) {
      fail(passkeyRefusal(r));
      input.focus();
      return;
    }
    say("The passkey is now called “" + r.data.name + "”.");
    await listPasskeys();
  });
  li.replaceChildren(form);
  input.select();
}

// removePasskey removes a passkey, which ends the sign-ins made with it:
// this one too, when it was.
async function removePasskey(p) {
  const r = await busy($("passkeys"), () => api("DELETE", "/auth/passkeys/" + encodeURIComponent(p.id), undefined, accessToken));
  if (r.status !== 204) {
    fail(passkeyRefusal(r));
    if (r.status === 404) await listPasskeys();
    return;
  }
  const removed = "The passkey “" + p.name + "” is removed.";
  const s = await api("GET", "/login");
  if (s.status === 401) {
    show("signin", $("username"));
    say(removed + " You had signed in with it, so you are signed out.");
    return;
  }
  if (s.status === 200) signedIn(s.data);
  say(removed);
}

$("passkey-add").addEventListener("click", () => busy($("passkeys"), async () => {
  const o = await api("POST", "/auth/passkeys/options", undefined, accessToken);
  if (o.status !== 200) {
    fail(passkeyRefusal(o));
    return;
  }
  const pk = o.data.publicKey;
  rememberRP(pk.rp.id);
  userDetails = { userId: pk.user.id, name: pk.user.name, displayName: pk.user.displayName };
  const cred = await ceremony("Follow your browser's steps to make a passkey…",
    () => navigator.credentials.create({ publicKey: creationOptions(pk) }), "No passkey was added.");
  if (!cred) return;
  const r = await api("POST", "/auth/passkeys", { token: o.data.token, credential: credentialJSON(cred) }, accessToken);
  if (r.status !== 201) {
    fail(passkeyRefusal(r));
    return;
  }
  say("Passkey “" + r.data.name + "” added. Next time, sign in with it: no password needed.");
  await listPasskeys();
}));

$("passkey-signin").hidden = !webauthn;
$("passkey-signin").addEventListener("click", () => busy($("signin"), passkeySignIn));
