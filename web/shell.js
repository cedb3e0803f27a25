// The client shell: the page a visitor's browser shows for every URL of a site. It connects to
// the site's server tab, answers its service worker's requests over the data channels, and
// shows the site in a full-window iframe, keeping the address bar and title in step with it.

import { SiteClient } from "/__ps/runtime/site-client.js";

const name = location.hostname.split(".")[0];
const frame = document.getElementById("site");
const status = document.getElementById("shell-status");
const message = document.getElementById("shell-message");

const client = new SiteClient();

client.addEventListener("state", ({ detail: { state } }) => {
  if (state === "connected") {
    status.hidden = true;
    if (!frame.hasAttribute("src")) frame.src = location.pathname + location.search + location.hash;
  } else if (state === "offline") {
    message.textContent = `The server "${name}" is offline. This page reconnects by itself when it is back.`;
    status.hidden = false;
  }
});

navigator.serviceWorker.addEventListener("message", (event) => {
  if (event.data?.type !== "fetch") return;
  const port = event.ports[0];
  const { request } = event.data;
  request.headers.push(["User-Agent", navigator.userAgent]);
  client.request(request, {
    head: ({ status: code, statusText, headers }) => {
      port.postMessage({ type: "head", status: code, statusText, headers });
    },
    data: (bytes) => port.postMessage({ type: "data", bytes }, [bytes.buffer]),
    end: () => port.postMessage({ type: "end" }),
    error: (text) => port.postMessage({ type: "error", message: text }),
  });
});

// Keep the address bar and the tab title on the page the visitor is looking at.
frame.addEventListener("load", () => {
  let inner;
  try {
    inner = frame.contentWindow.location;
  } catch {
    return; // the site navigated its frame to another origin
  }
  if (inner.origin === location.origin && inner.href !== location.href) {
    history.replaceState(null, "", inner.href);
  }
  document.title = frame.contentDocument?.title || name;
});

async function start() {
  await navigator.serviceWorker.register("/__ps/sw.js", { scope: "/" });
  await navigator.serviceWorker.ready;
  client.start();
}

start().catch((error) => {
  message.textContent = `This browser cannot show PeerServer sites: ${error.message}`;
});
