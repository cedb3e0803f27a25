// RFC 6265 cookies, as a browser keeps them, for the cookies the shell must keep itself.
//
// Responses made by a service worker cannot set cookies, so the shell reads Set-Cookie from the
// response bytes (site-cookies.js). HttpOnly cookies never come this far: the server tab keeps
// them. No I/O here: the caller persists `toJSON()` and passes `now`.

const MAX_AGE_LIMIT_MS = 400 * 24 * 3600 * 1000; // browsers cap lifetimes at 400 days

/** The path a cookie gets when Set-Cookie names none (RFC 6265 §5.1.4). */
export function defaultPath(pathname) {
  if (!pathname.startsWith("/")) return "/";
  const lastSlash = pathname.lastIndexOf("/");
  return lastSlash === 0 ? "/" : pathname.slice(0, lastSlash);
}

/** Whether a request for `requestPath` gets a cookie set for `cookiePath` (§5.1.4). */
export function pathMatches(requestPath, cookiePath) {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/";
}

/**
 * Parse one Set-Cookie value received for `url` at time `now` (ms). Returns the cookie, with
 * `expires` null for a session cookie and in the past for a deletion, or null if it is invalid.
 */
export function parseSetCookie(header, url, now) {
  const [pair, ...attributes] = header.split(";");
  const equals = pair.indexOf("=");
  if (equals < 0) return null; // a nameless cookie is not worth the ambiguity
  const name = pair.slice(0, equals).trim();
  const value = pair.slice(equals + 1).trim();
  if (!name) return null;
  const requestUrl = new URL(url);
  const cookie = {
    name,
    value,
    path: defaultPath(requestUrl.pathname),
    expires: null,
    secure: false,
    httpOnly: false,
    sameSite: "lax",
    created: now,
  };
  let maxAge = null;
  for (const attribute of attributes) {
    const split = attribute.indexOf("=");
    const key = (split < 0 ? attribute : attribute.slice(0, split)).trim().toLowerCase();
    const argument = split < 0 ? "" : attribute.slice(split + 1).trim();
    switch (key) {
      case "expires": {
        const time = Date.parse(argument);
        if (!Number.isNaN(time)) cookie.expires = time;
        break;
      }
      case "max-age":
        if (/^-?\d+$/.test(argument)) maxAge = Number(argument);
        break;
      case "domain": {
        // A site is one host: a Domain attribute may only name that host (or a parent).
        const domain = argument.replace(/^\./, "").toLowerCase();
        const host = requestUrl.hostname;
        if (domain && host !== domain && !host.endsWith(`.${domain}`)) return null;
        break;
      }
      case "path":
        if (argument.startsWith("/")) cookie.path = argument;
        break;
      case "secure":
        cookie.secure = true;
        break;
      case "httponly":
        cookie.httpOnly = true;
        break;
      case "samesite":
        cookie.sameSite = argument.toLowerCase() || "lax";
        break;
    }
  }
  if (maxAge !== null) cookie.expires = maxAge <= 0 ? 0 : now + maxAge * 1000;
  if (cookie.expires !== null) cookie.expires = Math.min(cookie.expires, now + MAX_AGE_LIMIT_MS);
  return cookie;
}

export class CookieJar {
  constructor(cookies = []) {
    this.cookies = cookies;
  }

  static fromJSON(text) {
    try {
      const cookies = JSON.parse(text);
      return new CookieJar(Array.isArray(cookies) ? cookies : []);
    } catch {
      return new CookieJar();
    }
  }

  toJSON() {
    return this.cookies;
  }

  /** Store, replace or (when expired) delete a parsed cookie. */
  store(cookie, now) {
    const index = this.cookies.findIndex((c) => c.name === cookie.name && c.path === cookie.path);
    if (index >= 0) {
      cookie.created = this.cookies[index].created; // replacing keeps the original order
      this.cookies.splice(index, 1);
    }
    if (cookie.expires === null || cookie.expires > now) this.cookies.push(cookie);
  }

  /** The cookies for a request to `url`, in RFC 6265 order (longest path, then oldest). */
  cookiesFor(url, now) {
    const { pathname, protocol, hostname } = new URL(url);
    this.cookies = this.cookies.filter((c) => c.expires === null || c.expires > now);
    const secureContext =
      protocol === "https:" || hostname === "localhost" || hostname.endsWith(".localhost");
    return this.cookies
      .filter((c) => pathMatches(pathname, c.path) && (!c.secure || secureContext))
      .sort((a, b) => b.path.length - a.path.length || a.created - b.created);
  }
}
