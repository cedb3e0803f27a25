// A visitor's requests to a site's server tab, over the HTTP channels of the connection the
// shell's SiteClient makes (site-client.js): its pool of channels (channel-pool.js), its
// control channel (window grants out; "moved" and "lost" in: protocol/channels.js), and
// requests sent again when a tab refused them unrun (misdirected.js).
//
// It runs where the channels are: in the shell's request worker (request-worker.js), which the
// page hands each new connection's channels to, so that no request waits on the page's main
// thread (which the site's own pages share); or on the page, where this browser cannot hand a
// data channel to a worker. Either way it hears the connection's state from SiteClient, and
// tells it what the control channel says: `moved()` (the site moved to another tab: follow
// it), `lost(ids)` (the server tab lost these channels: close the page's sockets among them)
// and `closed()` (the control channel closed: the server tab is gone).

import { opened } from "../channel-io.js";
import { parseServerControl } from "../protocol/channels.js";
import { ChannelPool } from "./channel-pool.js";
import { CONNECT_TIMEOUT_MS, ConnectionState } from "./connection-state.js";
import { KeptBody, unlessMisdirected } from "./misdirected.js";

const MISDIRECTED_TRIES = 4;

export class SiteRequests extends ConnectionState {
  /** `scheme` and `host`: the site's address; `moved`, `lost`, `closed`: see above. */
  constructor({ scheme, host, moved = () => {}, lost = () => {}, closed = () => {} }) {
    super();
    this.pool = new ChannelPool({ scheme, host });
    this.told = { moved, lost, closed };
    this.connection = 0; // counts connections: what an old one's channels say is not heard
  }

  /**
   * A new connection: its `control` channel, and `makeChannel(protocol)` to make its HTTP
   * channels (an RTCDataChannel, or a promise of one), of which `first`, if given, is made
   * already. Resolves once the control channel and a first HTTP channel are open; rejects if
   * either does not open.
   */
  async connect({ control, makeChannel, keepsCookies, first = null }) {
    const connection = ++this.connection;
    this.pool.use(makeChannel, keepsCookies);
    const firstOpen = first ? this.pool.add(first, makeChannel) : this.pool.open();
    await Promise.all([opened(control, CONNECT_TIMEOUT_MS), firstOpen]);
    if (connection !== this.connection) return; // reset meanwhile
    this.pool.ready(control);
    control.addEventListener("close", () => {
      if (connection === this.connection) this.told.closed();
    });
    control.addEventListener("message", ({ data }) => {
      if (connection !== this.connection) return;
      const message = parseServerControl(data);
      if (message?.type === "moved") this.told.moved();
      else if (message?.type === "lost") {
        this.pool.lost(message.channels);
        this.told.lost(message.channels.map(({ id }) => id));
      }
    });
  }

  /** The connection is gone (its channels close by themselves); waiting requests wait. */
  reset() {
    this.connection++;
    this.pool.reset();
  }

  /** Start no more requests on this connection; resolves once those in flight are done (or
   * after `timeoutMs`). */
  drain(timeoutMs) {
    return this.pool.drain(timeoutMs);
  }

  /**
   * Send one request; `sink` gets opened({unread(bytes), cancel()}) once it has a channel,
   * then head({status, statusText, headers}), data(bytes), end() or error(message).
   * `request` is {method, target, headers: [[name, value]], body: Uint8Array|null, bodyStream:
   * an async iterable of Uint8Array pieces, for a body sent as it comes}. A request a tab
   * refuses unrun (421: the site moved) is sent again once this visitor follows the site.
   */
  async request(request, sink) {
    const body = request.bodyStream ? new KeptBody(request.bodyStream) : null;
    for (let tries = 1; ; tries++) {
      let channel;
      try {
        await this.connected();
        channel = await this.pool.acquire();
      } catch (error) {
        const why =
          { failed: "This site cannot be reached. ", busy: "" }[this.state] ??
          "The server is offline: ";
        sink.error(why + error.message);
        return;
      }
      const canRetry = () => tries < MISDIRECTED_TRIES && body?.whole !== false;
      const { outcome, sink: forward } = unlessMisdirected(sink, canRetry);
      await this.pool.send(channel, { ...request, bodyStream: body?.pieces() }, forward);
      if ((await outcome) !== "misdirected") return;
      this.told.moved();
    }
  }
}
