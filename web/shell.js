// The client shell: the page a visitor's browser shows for every URL of a site. It connects to
// the site's server tab, has its service worker's requests answered over the data channels (by
// its request worker, which it hands the channels to, or where the browser cannot hand them
// over, itself), and shows the site in a full-window iframe, keeping the address bar and title
// in step with it.

import { UNAVAILABLE_TITLE } from "../runtime/error-pages.js";
import { CONNECT } from "../runtime/protocol/page-sockets.js";
import {
  explainMissing,
  missingAtOnce,
  missingCapabilities,
} from "../runtime/visitor/capabilities.js";
import { RequestRelay } from "../runtime/visitor/request-relay.js";
import { RequestsInWorker, requestWorkerFor } from "../runtime/visitor/requests-in-worker.js";
import { SiteClient } from "../runtime/visitor/site-client.js";
import { SiteRequests } from "../runtime/visitor/site-requests.js";
import { cookieHeaderFor, storeSetCookies } from "../runtime/visitor/site-cookies.js";
import { SiteSockets } from "../runtime/visitor/site-sockets.js";
import { WorkerPort } from "../runtime/visitor/worker-port.js";

const name = location.hostname.split(".")[0];
const frame = document.getElementById("site");
const status = document.getElementById("shell-status");
const message = document.getElementById("shell-message");

// The requests go to a worker of their own (started by shell.html), off this page's main thread
// (which the site's pages share), where the browser can hand it data channels.
const client = new SiteClient({
  earlySignaling: window.peerServerSignaling ?? null, // opened by shell.html
  makeRequests: (options) => {
    const worker = requestWorkerFor(window.peerServerRequestWorker);
    return worker ? new RequestsInWorker(worker, options) : new SiteRequests(options);
  },
});
window.peerServerClient = client; // for tests and benchmarks to look at the connection

client.addEventListener("state", ({ detail: { state, reason } }) => {
  if (state === "connected") {
    performance.mark("peerserver:connected");
    status.hidden = serviceWorkerProblem === null;
    if (!frame.hasAttribute("src")) {
      // The site's first page goes through the service worker: once that is ready too.
      serviceWorkerReady.then(
        () => {
          if (!frame.hasAttribute("src"))
            frame.src = location.pathname + location.search + location.hash;
        },
        () => {},
      );
    } else if (frame.contentDocument?.title === UNAVAILABLE_TITLE) {
      frame.contentWindow.location.reload(); // what failed while the server was away
    }
  } else if (state === "offline") {
    message.textContent = `The server "${name}" is offline. This page reconnects by itself when it is back.`;
    status.hidden = false;
  } else if (state === "reconnecting") {
    message.textContent =
      "Reconnecting to PeerServer… This page goes on by itself when it is back.";
    status.hidden = false;
  } else if (state === "failed") {
    message.textContent = `The server "${name}" is online, but this browser cannot reach it. ${reason}`;
    status.hidden = false;
  } else if (state === "busy") {
    message.textContent = reason;
    status.hidden = false;
  }
});

/** The shell's port to its service worker (runtime/protocol/service-worker.js), whose requests
 * go where the client's `requests` are: to the request worker, or answered on this page. */
function workerPortFor(requests) {
  if (requests instanceof RequestsInWorker) {
    return new WorkerPort(
      (request, port) => requests.relay(request, port),
      (port) => requests.take(port),
    );
  }
  const relay = new RequestRelay({
    client: requests,
    cookies: { header: cookieHeaderFor, store: storeSetCookies },
    userAgent: navigator.userAgent,
  });
  return new WorkerPort((request, port) => relay.relay(request, port));
}

// The site's pages' WebSockets (runtime/protocol/page-sockets.js): a page of the site, or a
// worker it started, asks for one with a port of its own.
const sockets = new SiteSockets({
  openChannel: () => client.socketChannel(),
  cookies: {
    header: (url) => cookieHeaderFor(url, documentCookies()),
    store: storeSetCookies,
  },
  userAgent: navigator.userAgent,
  origin: location.origin,
});
window.addEventListener("message", (event) => {
  if (event.origin !== location.origin || event.data?.type !== CONNECT || !event.ports[0]) return;
  sockets.connect(event.data, event.ports[0]);
});
window.addEventListener("pagehide", () => sockets.leaveAll());

/** The cookies the site's scripts see here, as {name, value}. */
function documentCookies() {
  return document.cookie
    .split(";")
    .map((pair) => pair.trim())
    .filter(Boolean)
    .map((pair) => {
      const equals = pair.indexOf("=");
      return equals < 0
        ? { name: "", value: pair }
        : { name: pair.slice(0, equals), value: pair.slice(equals + 1) };
    });
}

// Keep the address bar and the tab title on the page the visitor is looking at. The frame's
// navigations are entries of this tab's joint session history, so back, forward and reload
// work as they do on any site; the address bar only needs to show the frame's URL.
function showFrameLocation() {
  let inner;
  try {
    inner = frame.contentWindow.location.href;
  } catch {
    return; // the frame is on another origin
  }
  if (new URL(inner).origin === location.origin && inner !== location.href) {
    history.replaceState(null, "", inner);
  }
  document.title = frame.contentDocument?.title || name;
}

// A link to another origin leaves the site, as it would from an ordinary one: the whole tab
// goes there, not the frame. Checked after the page's own handlers had their say.
function leaveForOtherOrigins(event) {
  const link = event.target.closest?.("a[href]"); // the frame's own Element, not this realm's
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  if (link.target && !["_self", "_top", "_parent"].includes(link.target)) return;
  const url = new URL(link.href);
  if (url.origin === location.origin || !["http:", "https:"].includes(url.protocol)) return;
  event.preventDefault();
  location.assign(url.href);
}

frame.addEventListener("load", () => {
  showFrameLocation();
  let inner;
  try {
    inner = frame.contentWindow;
    void inner.document;
  } catch {
    return;
  }
  inner.navigation?.addEventListener("navigatesuccess", showFrameLocation);
  inner.addEventListener("hashchange", showFrameLocation);
  inner.addEventListener("popstate", showFrameLocation);
  inner.addEventListener("click", leaveForOtherOrigins);
});

// The service worker and the connection to the server tab are made side by side; the worker's
// registration began in shell.html, before this module and its imports had loaded.
async function registerServiceWorker() {
  await window.peerServerRegistration;
  await navigator.serviceWorker.ready;
  performance.mark("peerserver:service-worker");
}

let serviceWorkerProblem = null;
let serviceWorkerReady = null;
// A browser that lacks what a visitor needs is told so at once, not left "Connecting…". Site
// storage takes a moment to open: the connection is made meanwhile, and stops if it is not
// there.
if (missingAtOnce(window).length === 0) {
  serviceWorkerReady = registerServiceWorker();
  client.start(); // first: its signaling socket opens while the rest is made
  workerPortFor(client.requests).start();
  serviceWorkerReady.catch((error) => {
    serviceWorkerProblem = error;
    message.textContent = `This browser cannot show PeerServer sites: ${error.message}`;
    status.hidden = false;
  });
} else {
  window.peerServerSignaling?.socket.close();
}
const missing = await missingCapabilities(window);
if (missing.length) {
  client.stop();
  message.textContent = explainMissing(missing);
  status.dataset.problem = "browser";
  status.hidden = false;
}
