// The protocol between a visitor's shell page and its request worker, over postMessage. The
// page (runtime/visitor/requests-in-worker.js) keeps the peer connection and hands the worker
// (runtime/visitor/request-worker.js) each new connection's control channel and HTTP channels,
// and the ports its service worker sends requests on; the worker answers those requests over
// the channels itself, so no request waits on the page's main thread. This module is the one
// place its messages are written down: both ends make them with its constructors and tell them
// apart by its constants (tests/js/request-worker-protocol.test.mjs).
//
// Page -> worker:
//   probe {channel}: a channel of a connection closed at once, transferred to find out whether
//     this browser can (it throws DataCloneError if not); ignored
//   start {scheme, host, userAgent, jar}: the site's address, the browser's User-Agent, and
//     the visitor's cookie jar (site-cookies.js) as JSON; the first message
//   connect {id, connection, control, first, keepsCookies}: a new connection (numbered
//     `connection`), its control channel and first HTTP channel, transferred while they open;
//     answered by "result" once both are open, or with the error that they did not
//   state {state, reason}: the connection's state (connection-state.js), as it changes
//   reset: the connection is gone (its channels close by themselves)
//   drain {id, timeoutMs}: start no more requests on this connection; answered by "result"
//     once none is in flight, or after timeoutMs
//   port (with a MessagePort): the other end of a port the page handed its service worker,
//     which sends requests on it (protocol/service-worker.js, port-lanes.js)
//   fetch {request} (with a MessagePort): a request that came the old way, to the page
//   jar {json}: the cookie jar, changed
//   reply {id, value, error}: the answer to one of the worker's questions
// Worker -> page:
//   result {id, value, error}: the answer to a connect or drain
//   ask {id, question}: a question, answered by "reply": {type: "channel", connection,
//     protocol} (a new HTTP channel of that connection, with that subprotocol, transferred as
//     the value: none if the connection is gone), {type: "cookies", values, url} (keep the
//     Set-Cookie values of a response to `url`: answered once kept, and the new jar sent)
//   moved {connection}, lost {connection, ids}, closed {connection}: what the connection's
//     control channel said (site-requests.js): the site moved, the server tab lost those
//     channels, the control channel closed

export { Requests } from "./worker.js";

// Page -> worker:
export const PROBE = "probe";
export const START = "start";
export const CONNECT = "connect";
export const STATE = "state";
export const RESET = "reset";
export const DRAIN = "drain";
export const PORT = "port";
export const FETCH = "fetch";
export const JAR = "jar";
export const REPLY = "reply";
// Worker -> page:
export const RESULT = "result";
export const ASK = "ask";
export const MOVED = "moved";
export const LOST = "lost";
export const CLOSED = "closed";
// The worker's questions:
export const CHANNEL = "channel";
export const COOKIES = "cookies";

export const toWorker = {
  /** Transfer `channel` with it. */
  probe: (channel) => ({ type: PROBE, channel }),
  /** @param {{scheme: string, host: string, userAgent: string, jar: string}} site */
  start: ({ scheme, host, userAgent, jar }) => ({ type: START, scheme, host, userAgent, jar }),
  /** Transfer `control` and `first` with it. */
  connect: (id, { connection, control, first, keepsCookies }) => ({
    type: CONNECT,
    id,
    connection,
    control,
    first,
    keepsCookies,
  }),
  state: (state, reason) => ({ type: STATE, state, reason }),
  reset: () => ({ type: RESET }),
  drain: (id, timeoutMs) => ({ type: DRAIN, id, timeoutMs }),
  port: () => ({ type: PORT }),
  fetch: (request) => ({ type: FETCH, request }),
  jar: (json) => ({ type: JAR, json }),
  reply: (id, outcome) => ({ type: REPLY, id, ...outcome }),
};

export const fromWorker = {
  result: (id, outcome) => ({ type: RESULT, id, ...outcome }),
  ask: (id, question) => ({ type: ASK, id, question }),
  moved: (connection) => ({ type: MOVED, connection }),
  lost: (connection, ids) => ({ type: LOST, connection, ids }),
  closed: (connection) => ({ type: CLOSED, connection }),
};

/** The worker's questions (in an "ask"). */
export const questions = {
  channel: (connection, protocol) => ({ type: CHANNEL, connection, protocol }),
  cookies: (values, url) => ({ type: COOKIES, values, url }),
};
