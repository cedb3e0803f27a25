// The protocol between a site's client shell (the page that holds the peer connection; its
// side of this is runtime/visitor/request-relay.js) and the site's service worker
// (runtime/visitor/sw.js), which answers every request of the site's pages through the shell.
// Each request has a port of its own: a lane of the shell's own port (port-lanes.js), or, where
// the worker has none, a MessageChannel's. It carries:
//
// Service worker -> shell (the first on a new lane, or on the client with the request's port):
//   {type: "fetch", request: {method,
//   target, url, headers, destination, scriptCookies, body, streamed, receivedAt, takesWhole}}
//   then, on the port: "more"-answers {type: "body", bytes} | {type: "body-end"} |
//   {type: "body-error", message} (a request body streamed piece by piece, each asked for),
//   {type: "unread", bytes} (how much of the response still waits for the page), and
//   {type: "cancel"} (the page stopped reading: the request ends).
// Shell -> service worker, on the port: {type: "more"} (send the next body piece),
//   {type: "head", status, statusText, headers, bytes?, end?} (with `takesWhole`, what came of
//   the body with the head, and whether that was all), {type: "data", bytes}, {type: "end"},
//   {type: "error", message}.
// A request's last message is "end", "error", a "head" with `end`, or "cancel" (endsRequest).
//
// A shell hands the service worker a port of its own, over which the worker sends it requests
// with no question to the browser process (finding a shell, posting to a client: measured,
// half a millisecond and more a request): shell -> service worker, {type: "shell", visible}
// with that port, again with `visible` alone when that changes, and {type: "shell", gone:
// true} as the page goes away. A worker started afresh knows no shell's port: it finds a shell
// and posts to it as a client, and a shell that gets a request that way hands its port again.

export const FETCH = "fetch";
export const SHELL = "shell";
export const MORE = "more";
export const BODY = "body";
export const BODY_END = "body-end";
export const BODY_ERROR = "body-error";
export const UNREAD = "unread";
export const CANCEL = "cancel";
export const HEAD = "head";
export const DATA = "data";
export const END = "end";
export const ERROR = "error";

/** Paths of a site's origin that belong to the shell, not the site. */
export const SHELL_PREFIX = "/__ps/";

/** Response statuses that have no body, whatever the server sends. */
export const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** Whether `message` is the last of its request's conversation, either way. */
export function endsRequest({ type, end }) {
  return type === END || type === ERROR || type === CANCEL || (type === HEAD && end === true);
}
