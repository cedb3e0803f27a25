// The site's cookies, kept the way a browser would for an ordinary web server.
//
// Every cookie the server sets is kept in a CookieJar persisted in this origin's localStorage;
// the jar applies RFC 6265 (paths, expiry) and makes the Cookie header of each request.
// HttpOnly cookies stay there, out of reach of the site's scripts. The others are mirrored into
// the browser's own store through document.cookie, so the site's scripts see and change them
// as usual; what scripts set or delete there (as the service worker sees it: Path=/ cookies)
// wins over the jar.

import { CookieJar, parseSetCookie } from "./cookie-jar.js";

const STORAGE_KEY = "peerserver.cookies";

function loadJar() {
  return CookieJar.fromJSON(localStorage.getItem(STORAGE_KEY) || "[]");
}

function saveJar(jar) {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(jar));
}

/**
 * The Cookie header for a request to `url`. `scriptCookies` ([{name, value}]) are the
 * browser's own Path=/ cookies, as the site's scripts left them.
 */
export function cookieHeaderFor(url, scriptCookies) {
  const fromScripts = new Map(scriptCookies.map(({ name, value }) => [name, value]));
  const pairs = [];
  for (const cookie of loadJar().cookiesFor(url, Date.now())) {
    if (!cookie.httpOnly && cookie.path === "/") {
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
    jar.store(cookie, now);
    if (!cookie.httpOnly) document.cookie = scriptCookie(cookie);
  }
  saveJar(jar);
}

function scriptCookie({ name, value, path, expires, secure, sameSite }) {
  let text = `${name}=${value}; Path=${path}; SameSite=${sameSite}`;
  if (expires !== null) text += `; Expires=${new Date(expires).toUTCString()}`;
  if (secure) text += "; Secure";
  return text;
}
