// The site's cookies that its pages may see, kept the way a browser would.
//
// HttpOnly cookies never get here: the server tab keeps them for this visitor and adds them to
// its requests (server_py/cookies.py), because anything kept in this origin is readable by the
// site's own scripts. The others are kept in a CookieJar persisted in this origin's
// localStorage, which applies RFC 6265 (paths, expiry) and makes the Cookie header of each
// request, and are mirrored into the browser's own store through document.cookie, so the
// site's scripts see and change them as usual; what scripts set or delete there (as the
// service worker sees it: Path=/ cookies) wins over the jar.
//
// The shell's request worker (request-worker.js) has neither localStorage nor document.cookie:
// it makes Cookie headers from a copy of the jar, which the page sends it whenever the jar
// changes (`watchJar`), and asks the page to store what responses set.

import { CookieJar, parseSetCookie } from "./cookie-jar.js";

const STORAGE_KEY = "peerserver.cookies";
const jarWatchers = new Set(); // told the jar's JSON when this page changed it

/** The jar as this origin keeps it, as JSON. */
export function jarJson() {
  return localStorage.getItem(STORAGE_KEY) || "[]";
}

function loadJar() {
  return CookieJar.fromJSON(jarJson());
}

function saveJar(jar) {
  const json = JSON.stringify(jar);
  localStorage.setItem(STORAGE_KEY, json);
  for (const watcher of jarWatchers) watcher(json);
}

/** Call `watcher(json)` whenever the jar changes: here, or in another page of this origin. */
export function watchJar(watcher) {
  jarWatchers.add(watcher);
  window.addEventListener("storage", (event) => {
    if (event.key === STORAGE_KEY) watcher(jarJson());
  });
}

/**
 * The Cookie header for a request to `url`. `scriptCookies` ([{name, value}]) are the
 * browser's own Path=/ cookies, as the site's scripts left them; `jar` is the CookieJar (by
 * default, as this origin keeps it).
 */
export function cookieHeaderFor(url, scriptCookies, jar = loadJar()) {
  const fromScripts = new Map(scriptCookies.map(({ name, value }) => [name, value]));
  const pairs = [];
  for (const cookie of jar.cookiesFor(url, Date.now())) {
    if (cookie.path === "/") {
      if (!fromScripts.has(cookie.name)) continue; // a script deleted it
      pairs.push([cookie.name, fromScripts.get(cookie.name)]);
      fromScripts.delete(cookie.name);
    } else {
      pairs.push([cookie.name, cookie.value]);
    }
  }
  pairs.push(...fromScripts); // cookies the site's scripts made themselves
  return pairs.map(([name, value]) => `${name}=${value}`).join("; ");
}

/** Apply the Set-Cookie header values of a response to a request for `url`. */
export function storeSetCookies(values, url) {
  if (!values.length) return;
  const now = Date.now();
  const jar = loadJar();
  for (const value of values) {
    const cookie = parseSetCookie(value, url, now);
    if (!cookie) continue;
    if (cookie.httpOnly) {
      // Only a server tab that does not keep them sends them: refuse rather than expose it.
      console.warn(`PeerServer: the HttpOnly cookie ${cookie.name} was not kept.`);
      continue;
    }
    jar.store(cookie, now);
    // biome-ignore lint/suspicious/noDocumentCookie: the page's scripts read cookies here, as on any site
    document.cookie = scriptCookie(cookie);
  }
  saveJar(jar);
}

function scriptCookie({ name, value, path, expires, secure, sameSite }) {
  let text = `${name}=${value}; Path=${path}; SameSite=${sameSite}`;
  if (expires !== null) text += `; Expires=${new Date(expires).toUTCString()}`;
  if (secure) text += "; Secure";
  return text;
}
