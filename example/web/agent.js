// Names a sign-in's client the way people name it, "Firefox on Windows",
// from the user agent it recorded, for the page's list of sessions. A user
// agent is the client's own text, and any client may claim any name: the
// list shows it as text, never as markup, and the name is a hint, not a
// proof. Loaded before the page's own script.
"use strict";

// The first match names it: Edge, Opera and the others also claim Chrome
// and Safari, and Chrome claims Safari, so the specific come first.
const agentBrowsers = [
  [/\bEdg(e|A|iOS)?\//, "Edge"],
  [/\bOPR\/|\bOpera\b/, "Opera"],
  [/\bSamsungBrowser\//, "Samsung Internet"],
  [/\bVivaldi\//, "Vivaldi"],
  [/\bFirefox\/|\bFxiOS\//, "Firefox"],
  [/\bHeadlessChrome\//, "Headless Chrome"],
  [/\bChromium\//, "Chromium"],
  [/\bChrome\/|\bCriOS\//, "Chrome"],
  [/\bVersion\/[0-9.]+ .*\bSafari\//, "Safari"],
  [/\bMSIE |\bTrident\//, "Internet Explorer"],
  [/^curl\//, "curl"],
  [/^Go-http-client\//, "A Go program"],
];

// Android and ChromeOS say Linux too, and iPhones say "like Mac OS X".
const agentSystems = [
  [/\bWindows\b/, "Windows"],
  [/\bAndroid\b/, "Android"],
  [/\biPhone\b|\biPod\b/, "iOS"],
  [/\biPad\b/, "iPadOS"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

function agentFirst(list, ua) {
  const hit = list.find(([re]) => re.test(ua));
  return hit ? hit[1] : "";
}

// agentName returns "BROWSER on SYSTEM", the one it knows, or "" when it
// knows neither.
function agentName(ua) {
  const browser = agentFirst(agentBrowsers, ua || "");
  const system = agentFirst(agentSystems, ua || "");
  if (browser && system) return browser + " on " + system;
  if (system) return "An app on " + system;
  return browser;
}
