// What the example's pages share: calls to the API next to the page, the
// wording of failed answers, and the status and error lines every page has
// (#status, #error). Loaded before the page's own script.
"use strict";

const $ = (id) => document.getElementById(id);

// api calls the API next to the page and never throws: status 0 means the
// server could not be reached. With a token it sends it as a bearer token.
async function api(method, path, body, token) {
  const opts = { method, headers: {}, credentials: "same-origin", cache: "no-store" };
  if (token) opts.headers["Authorization"] = "Bearer " + token;
  if (body !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch("api" + path, opts);
  } catch {
    return { status: 0, data: {} };
  }
  let data = {};
  if (res.status !== 204) {
    try { data = await res.json(); } catch { /* not JSON */ }
  }
  return { status: res.status, data, retryAfter: res.headers.get("Retry-After") };
}

// apiMessage is the API's own message of a failed answer, or "".
function apiMessage(r) {
  const e = r.data.errors && r.data.errors[0];
  return e && e.message ? e.message : "";
}

// apiReason is the reason of a failed answer (wrong_password, ...), or "".
function apiReason(r) {
  const e = r.data.errors && r.data.errors[0];
  return e && e.reason ? e.reason : "";
}

// fieldWords are the API's field names as the pages' labels say them.
const fieldWords = {
  new_password: "New password", old_password: "Current password", password: "Password", username: "Username", domain: "Domain",
  code: "Code", name: "Name", callback_url: "The link's address", token: "The link",
};

// worded is an API message as people say it, without a final full stop:
// "new_password must be 8-256 characters" reads "New password must be
// 8–256 characters". The API's messages stay as they are for programs.
function worded(m) {
  const [, field, rest] = /^([a-z_]+)\b(.*)$/s.exec(m) || [];
  const s = (fieldWords[field] ? fieldWords[field] + rest : m)
    .replace(/\b([0-9]+)-([0-9]+)\b/g, "$1–$2")
    .replace(/ or \. and not start or end with \.$/, " or full stops, and not start or end with a full stop")
    .replace(/\.$/, "");
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// explain turns a failed answer into a sentence; byStatus words the
// statuses a step expects. A 400 is the API's own message, worded: it
// says what to change.
function explain(r, byStatus = {}) {
  if (r.status === 0) return "The server cannot be reached. Check your connection and try again.";
  if (byStatus[r.status]) return byStatus[r.status];
  if (r.status === 429) return "Too many attempts. Try again in " + (r.retryAfter || "a few") + " seconds.";
  if (r.status === 503) return "The service is busy or the mail server is unavailable. Try again shortly.";
  const m = worded(apiMessage(r));
  if (m === "") return "Something went wrong (HTTP " + r.status + ").";
  return (r.status === 400 ? m : "Something went wrong: " + m) + ".";
}

function say(text) { $("error").textContent = ""; $("status").textContent = text; }
function fail(text) { $("status").textContent = ""; $("error").textContent = text; }

// busy disables a form's buttons while fn runs.
async function busy(el, fn) {
  const buttons = el.querySelectorAll("button");
  el.setAttribute("aria-busy", "true");
  buttons.forEach((b) => { b.disabled = true; });
  try {
    return await fn();
  } finally {
    el.removeAttribute("aria-busy");
    buttons.forEach((b) => { b.disabled = false; });
  }
}
