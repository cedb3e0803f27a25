// The client shell's service worker (a module): every request the site makes is answered by
// the site's server tab, through the shell page that holds the peer connection.
//
// Top-level navigations go to the network (the signaling service answers them with the shell),
// and so does the shell's own /__ps/ folder; everything else on this origin (the site iframe's
// pages, images, scripts, fetch() calls, form posts) is handed to a shell page, on a lane of
// the port it handed this worker (shell-ports.js; runtime/protocol/service-worker.js), and
// answered from the data channel, body streamed as it arrives. Responses are kept and
// revalidated as a browser's HTTP cache does (http-cache.js). The site's pages and workers'
// scripts get the shell's WebSocket first (page-scripts.js), which this worker serves itself.

import CachePolicy from "/__ps/bundle/http-cache-semantics.js";
import pageScript from "/__ps/bundle/page-websocket.js";
import { errorPageHtml, UNAVAILABLE_TITLE } from "../error-pages.js";
import {
  BODY,
  BODY_END,
  BODY_ERROR,
  CANCEL,
  DATA,
  END,
  ERROR,
  FETCH,
  HEAD,
  MORE,
  NULL_BODY_STATUSES,
  SHELL,
  SHELL_PREFIX,
  UNREAD,
} from "../protocol/service-worker.js";
import { cacheStorageStore, HttpCache } from "./http-cache.js";
import { injecting, injectionFor, PAGE_SCRIPT_PATH } from "./page-scripts.js";
import { ShellPorts } from "./shell-ports.js";

// Bytes of a response this worker holds for a page that has not read them yet; the shell is
// told how much waits, so that the server tab sends no further (runtime/receive-window.js).
const READ_AHEAD = 1024 * 1024;
// The HTTP cache's storage, opened once, as the worker starts: a new visitor's first open is
// slow (the site's first request waited a median 5.5 ms on its lookup, 2.2 with it opened
// early), and each request used to open it again. A failed open is tried again by the next.
let opened = null;
function openCache() {
  opened ??= caches.open("peerserver-http-cache").catch((error) => {
    opened = null;
    throw error;
  });
  return opened;
}
const store = cacheStorageStore(openCache);
openCache().catch(() => {}); // a failure is met, and said, by the requests'

const shells = new ShellPorts(); // the shells' own ports, where requests go

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("message", (event) => {
  if (event.data?.type === SHELL) shells.heard(event.source?.id, event.data, event.ports);
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (url.origin === self.location.origin && url.pathname === PAGE_SCRIPT_PATH) {
    // Asked for by every page of the site: answered here, with no trip to the network. It
    // changes only with this worker, which imports it.
    const headers = { "Content-Type": "text/javascript; charset=utf-8" };
    event.respondWith(new Response(pageScript, { headers }));
    return;
  }
  if (url.origin !== self.location.origin || url.pathname.startsWith(SHELL_PREFIX)) return;
  if (event.request.mode === "navigate" && event.request.destination === "document") return;
  event.respondWith(respond(event));
});

/** The site's answer to the request of `event`, from the HTTP cache or the server tab. */
async function respond(event) {
  const { request } = event;
  const cache = new HttpCache({ CachePolicy, store, waitUntil: (done) => event.waitUntil(done) });
  const described = {
    url: request.url,
    method: request.method,
    headers: [...request.headers],
    cache: request.cache,
  };
  const response = await cache.fetch(described, (extra) => forward(request, extra));
  return withPageScript(request, response);
}

/** `response` with the shell's WebSocket in it, if it is a page or a worker's script. */
function withPageScript(request, response) {
  const injection = response.body ? injectionFor(request, [...response.headers]) : null;
  if (!injection) return response;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  const { status, statusText } = response;
  return new Response(response.body.pipeThrough(injecting(injection)), {
    status,
    statusText,
    headers,
  });
}

async function findShell() {
  const windows = await self.clients.matchAll({ type: "window", includeUncontrolled: true });
  const shells = windows.filter((client) => client.frameType === "top-level");
  return shells.find((client) => client.focused) || shells[0];
}

/** Send `request` to the site through the shell, with `extraHeaders` ([name, value]) added. */
async function forward(request, extraHeaders = []) {
  const receivedAt = performance.timeOrigin + performance.now(); // for the bench's waterfall
  const hasBody = !["GET", "HEAD"].includes(request.method);
  // Where the browser hands over a request body as a stream (Chromium), it goes on piece by
  // piece as the shell asks for it, at the pace of the data channel, and is never held whole
  // here; elsewhere (Firefox) it is read whole first.
  const streamed = hasBody && request.body instanceof ReadableStream;
  // Chromium lets a service worker read cookies only as its own script URL sees them, which
  // covers the Path=/ cookies scripts set; the shell's jar knows the rest. Each of these asks
  // the browser process: ask at once, not one after the other.
  const lanes = shells.pick(); // a shell's own port, else the shell found as a client
  const [shell, cookies, body] = await Promise.all([
    lanes ?? findShell(),
    self.cookieStore.getAll(),
    hasBody && !streamed ? request.arrayBuffer().then((buffer) => new Uint8Array(buffer)) : null,
  ]);
  if (!shell) return errorPage(503, "No PeerServer page is open to reach this site.");
  const url = new URL(request.url);
  const scriptCookies = cookies.map(({ name, value }) => ({ name, value }));
  const message = {
    type: FETCH,
    request: {
      method: request.method,
      target: url.pathname + url.search,
      url: request.url,
      headers: [...request.headers, ...extraHeaders],
      destination: request.destination, // "iframe": a page of the site, shown in the shell
      scriptCookies,
      body,
      streamed,
      receivedAt,
      takesWhole: true, // this worker takes a body and its end with the head (a shell of before
      // this worker, or a worker of before that shell, sends them apart)
    },
  };
  let port; // the request's own
  if (lanes) {
    port = lanes.open();
    port.postMessage(message, body ? [body.buffer] : []);
  } else {
    const channel = new MessageChannel();
    shell.postMessage(message, body ? [channel.port2, body.buffer] : [channel.port2]);
    port = channel.port1;
  }
  const bodyReader = streamed ? request.body.getReader() : null;

  return new Promise((resolve) => {
    let controller = null;
    let answered = false;
    port.onmessage = ({ data }) => {
      switch (data.type) {
        case MORE: // the shell has sent the last piece of the request body on
          sendPiece(bodyReader, port);
          break;
        case HEAD: {
          // With the head comes what the shell had of the body, and whether that was all.
          answered = true;
          const nullBody = NULL_BODY_STATUSES.has(data.status) || request.method === "HEAD";
          const init = { status: data.status, statusText: data.statusText, headers: data.headers };
          if (data.end) {
            port.close();
            resolve(new Response(nullBody ? null : data.bytes, init));
            break;
          }
          const stream = nullBody
            ? null
            : new ReadableStream(
                {
                  start(c) {
                    controller = c;
                    if (data.bytes.length) c.enqueue(data.bytes);
                  },
                  pull(c) {
                    port.postMessage({ type: UNREAD, bytes: READ_AHEAD - c.desiredSize });
                  },
                  cancel() {
                    port.postMessage({ type: CANCEL });
                    port.close();
                  },
                },
                new ByteLengthQueuingStrategy({ highWaterMark: READ_AHEAD }),
              );
          resolve(new Response(stream, init));
          break;
        }
        case DATA:
          controller?.enqueue(data.bytes);
          break;
        case END:
          controller?.close();
          port.close();
          break;
        case ERROR:
          port.close();
          if (!answered) resolve(errorPage(502, data.message));
          else controller?.error(new Error(data.message));
          break;
      }
    };
  });
}

/** The next piece of a request body to the shell, or its end. */
async function sendPiece(reader, port) {
  try {
    const { done, value } = await reader.read();
    if (done) port.postMessage({ type: BODY_END });
    else if (value.byteOffset === 0 && value.byteLength === value.buffer.byteLength) {
      port.postMessage({ type: BODY, bytes: value }, [value.buffer]); // moved, not copied
    } else port.postMessage({ type: BODY, bytes: value });
  } catch (error) {
    port.postMessage({ type: BODY_ERROR, message: String(error) });
  }
}

function errorPage(status, message) {
  const html = errorPageHtml(UNAVAILABLE_TITLE, "This site is unavailable", message);
  return new Response(html, { status, headers: { "Content-Type": "text/html; charset=utf-8" } });
}
