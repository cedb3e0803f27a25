// The protocol between a site's page (or a worker it started) and the visitor's shell, for the
// page's WebSockets. A service worker never sees WebSockets, so each page of a site gets the
// shell's `WebSocket` (visitor/page-websocket.js, which the service worker puts in its pages and
// workers' scripts), and the shell (visitor/site-sockets.js) carries each socket over a data
// channel of its own to the server tab.
//
// Opening: the page posts {type: "peerserver:websocket", url, protocols} to the shell's window
// (the top one) with a MessagePort, which then carries that one socket. A worker has no window
// to post to: the context that started it sends it {"peerserver:websocket-route": true} with a
// port as its first message, and relays what the worker posts there to the shell.
//
// On the socket's port:
//   shell -> page: {type: "open", protocol, extensions}; {type: "message", data: string |
//     ArrayBuffer}; {type: "sent", bytes} (that many bytes of the page's messages went on the
//     channel: see bufferedAmount); {type: "closed", code, reason, wasClean, error} (with
//     `error`, the page's socket fires "error" before "close").
//   page -> shell: {type: "send", data: string | ArrayBuffer | Blob}; {type: "close", code,
//     reason} (code 1001 when the page goes away).

export const CONNECT = "peerserver:websocket";
export const WORKER_ROUTE = "peerserver:websocket-route";

export const OPEN = "open";
export const MESSAGE = "message";
export const SENT = "sent";
export const CLOSED = "closed";
export const SEND = "send";
export const CLOSE = "close";
