// Pages that say a request could not be answered, made where no app answers: by the server tab
// (HTTP/1.1 bytes, for a request that ran too long or met a crash or a restart) and by the
// visitor's service worker (a Response, when no shell is open to reach the site).

import { concat } from "./http1.js";

/** The title of the service worker's page, which the shell looks for to retry. */
export const UNAVAILABLE_TITLE = "Site unavailable";

export function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page: `title`, a heading and one paragraph of `text`. */
export function errorPageHtml(title, heading, text) {
  return `<!doctype html><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<style>body{font:16px system-ui,sans-serif;margin:3em auto;max-width:36em;color:#333}</style>
<h1>${escapeHtml(heading)}</h1><p>${escapeHtml(text)}</p>`;
}

/** A complete HTTP/1.1 error response that closes the connection, as bytes. */
export function errorResponse(status, reason, text, extraHeaders = "") {
  const body = new TextEncoder().encode(errorPageHtml(`${status} ${reason}`, reason, text));
  const head = new TextEncoder().encode(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `Content-Type: text/html; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
      `Connection: close\r\n${extraHeaders}\r\n`,
  );
  return concat(head, body);
}
