// The shell's own port to the site's service worker (runtime/protocol/service-worker.js's
// "shell" messages): the worker sends this shell requests over it, each on a lane of its own
// (runtime/protocol/port-lanes.js), with no question to the browser process. Handed over once
// the worker is ready, again whenever a request comes the old way (the worker started afresh,
// or a new one took over, and knows no port), and with the page's visibility as it changes
// (the worker sends to the shell the visitor last saw); taken back as the page goes away, and
// handed over anew if it comes back from the back/forward cache. Where the shell has a request
// worker (request-worker.js), the port's other end goes there, and so do requests that come
// the old way: the page only hands them on.

import { PortLanes } from "../protocol/port-lanes.js";
import { endsRequest, FETCH, SHELL } from "../protocol/service-worker.js";

/** Take the requests the service worker sends on `port`, each on a lane of its own which ends
 * with the request's last message, to `relay(request, lane)`, counting them in
 * `relayed.port` (for tests). */
export function requestLanes(port, relay, relayed) {
  return new PortLanes(port, {
    opens: (message) => message.type === FETCH,
    opened: (lane, message) => {
      relayed.port++;
      relay(message.request, lane);
    },
    ends: endsRequest,
  });
}

export class WorkerPort {
  /**
   * `relay(request, port)` answers a request ({type: "fetch"}'s) that came the old way, on its
   * own port; `take(port)` takes the requests of a port handed over (by default, to `relay`
   * here).
   */
  constructor(relay, take = null) {
    this.relay = relay;
    this.take =
      take ??
      ((port) => {
        this.ports.add(port);
        requestLanes(port, relay, this.relayed);
      });
    // Every port handed over and kept here, each still heard: a worker may have sent a
    // request on one just before it was given a newer one.
    this.ports = new Set();
    this.handedOver = false; // whether the service worker was given a port
    // Requests that came each way here (for tests): the request worker counts its own.
    this.relayed = { port: 0, client: 0 };
    globalThis.peerServerRelayed = this.relayed;
    this.handing = false; // a port is being handed over
  }

  /** Start: requests come the old way until the worker has this shell's port. */
  start() {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data?.type !== FETCH) return;
      this.relayed.client++;
      this.relay(event.data.request, event.ports[0]);
      this.handOver(); // the worker that sent it knows no port of this shell's
    });
    document.addEventListener("visibilitychange", () => this.tell({ visible: !document.hidden }));
    window.addEventListener("pagehide", () => {
      this.tell({ gone: true });
      this.handedOver = false;
      for (const port of this.ports) port.close();
      this.ports.clear();
    });
    window.addEventListener("pageshow", (event) => {
      if (event.persisted) this.handOver();
    });
    this.handOver();
  }

  async handOver() {
    if (this.handing) return;
    this.handing = true;
    try {
      const { active } = await navigator.serviceWorker.ready;
      const { port1, port2 } = new MessageChannel();
      this.take(port1);
      this.handedOver = true;
      active?.postMessage({ type: SHELL, visible: !document.hidden }, [port2]);
    } finally {
      this.handing = false;
    }
  }

  /** Say `news` ({visible} or {gone}) to the worker that has this shell's port. */
  async tell(news) {
    if (!this.handedOver) return;
    const { active } = await navigator.serviceWorker.ready;
    active?.postMessage({ type: SHELL, ...news });
  }
}
