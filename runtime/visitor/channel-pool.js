// A visitor's pool of HTTP channels to a server tab, as a browser keeps a pool of TCP
// connections: up to six "http" data channels of the peer connection, each carrying one request
// at a time (runtime/protocol/channels.js), reused while the server keeps them alive. What the
// page reads of a response goes back to the server tab as window (receive-window.js). A pool
// that drains (the site moved to another tab) starts no request on its channels: they wait for
// the next peer connection, while those in flight finish.

import { opened, sendBytes } from "../channel-io.js";
import {
  concat,
  encodeChunk,
  encodeRequestHead,
  HttpParseError,
  LAST_CHUNK,
  ResponseParser,
} from "../http1.js";
import { formatChannelProtocol, windowGrant } from "../protocol/channels.js";
import { ReadAccount } from "../receive-window.js";
import { requestTimings } from "../request-timings.js";

const MAX_CHANNELS = 6;

/** The subprotocol of a visitor's HTTP channels: its HttpOnly cookies stay with the server tab
 * if `keepsCookies`, and the server tab sends no further than the page has read
 * (receive-window.js). */
export function httpChannelProtocol(scheme, keepsCookies) {
  return formatChannelProtocol({ scheme, httpOnlyByServer: keepsCookies, window: true });
}

export class ChannelPool {
  /** `scheme` and `host` are what the visitor's requests are for (the site's address). */
  constructor({ scheme, host }) {
    this.scheme = scheme;
    this.host = host;
    this.makeChannel = null; // makes the connection's channels (see `use`), once it is up
    this.control = null; // its control channel, where window grants go
    this.keepsCookies = false; // whether the server tab keeps this visitor's HttpOnly cookies
    this.live = false; // whether new channels may be made now
    this.idle = []; // open HTTP channels with no request on them
    this.channels = new Set(); // every channel of the pool's, opening, idle or busy
    this.making = 0; // channels asked of `makeChannel` and not given yet
    this.waiting = []; // requests waiting for a channel: functions given one
    this.busy = new Set(); // channels with a request in flight
    this.draining = false;
    this.drained = null; // called once nothing is in flight, while draining
    this.received = 0; // bytes of responses that came over the channels, for the bench
  }

  /** How many channels the pool has, being made, opening, idle or busy (at most
   * MAX_CHANNELS). */
  get count() {
    return this.channels.size + this.making;
  }

  /** Channels come from `makeChannel(protocol)` from now on (an "http" RTCDataChannel of the
   * connection, or a promise of one); not yet live: see `ready`. */
  use(makeChannel, keepsCookies) {
    this.makeChannel = makeChannel;
    this.keepsCookies = keepsCookies;
  }

  /** The connection is up: `control` takes the window grants, and channels may be made (for
   * the requests that waited for it, as many as may be). */
  ready(control) {
    this.control = control;
    this.live = true;
    while (this.count < Math.min(MAX_CHANNELS, this.waiting.length)) {
      this.open().catch((error) => console.warn("PeerServer:", error));
    }
  }

  /** The peer connection is gone (its channels close by themselves); waiting requests wait. */
  reset() {
    this.makeChannel = null;
    this.control = null;
    this.live = false;
    this.idle = [];
    this.channels.clear();
    this.busy.clear();
    this.draining = false;
    this.settleDrain();
  }

  /** Start no more requests here; resolves once those in flight are done (or `timeoutMs`). */
  drain(timeoutMs) {
    this.draining = true;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settleDrain(), timeoutMs);
      this.drained = () => {
        clearTimeout(timer);
        resolve();
      };
      if (this.busy.size === 0) this.settleDrain();
    });
  }

  settleDrain() {
    const drained = this.drained;
    this.drained = null;
    drained?.();
  }

  /** A new HTTP channel, released to the pool once it is open. */
  async open() {
    const makeChannel = this.makeChannel;
    this.making++;
    let channel;
    try {
      channel = await makeChannel(httpChannelProtocol(this.scheme, this.keepsCookies));
    } finally {
      this.making--;
    }
    if (this.makeChannel !== makeChannel) {
      channel.close(); // made for a connection that is gone
      throw new Error("the connection closed");
    }
    return this.add(channel, makeChannel);
  }

  /** `channel`, made by `makeChannel` (given to `use`), released to the pool once open. */
  add(channel, makeChannel) {
    channel.binaryType = "arraybuffer";
    channel.parser = new ResponseParser();
    channel.account = new ReadAccount();
    channel.sink = null;
    this.channels.add(channel);
    channel.addEventListener("message", (event) => this.onData(channel, event.data));
    channel.addEventListener("close", () => this.onClose(channel, makeChannel));
    return opened(channel).then(() => {
      this.release(channel, true);
      return channel;
    });
  }

  acquire() {
    if (this.idle.length && !this.draining) return Promise.resolve(this.idle.pop());
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.makeChannel && this.live && !this.draining && this.count < MAX_CHANNELS) {
        this.open().catch((error) => console.warn("PeerServer:", error));
      }
    });
  }

  release(channel, reusable) {
    channel.sink = null;
    this.done(channel);
    if (this.draining) reusable = false; // the next request goes to the next connection
    if (!reusable || channel.readyState !== "open") {
      if (channel.readyState === "open") channel.close();
      return;
    }
    const next = this.waiting.shift();
    if (next) next(channel);
    else this.idle.push(channel);
  }

  onData(channel, data) {
    const sink = channel.sink;
    if (!sink) return;
    this.received += data.byteLength;
    channel.account.receive(data.byteLength);
    let events;
    try {
      events = channel.parser.feed(new Uint8Array(data));
    } catch (error) {
      channel.sink = null;
      sink.error(
        error instanceof HttpParseError ? `Bad response: ${error.message}` : String(error),
      );
      channel.close();
      return;
    }
    for (const event of events) {
      if (event.type === "head") sink.head(event);
      else if (event.type === "data") sink.data(event.bytes);
      else if (event.type === "end") {
        sink.end();
        this.grant(channel, channel.account.complete());
        this.release(channel, event.keepAlive);
      }
    }
  }

  onClose(channel, makeChannel) {
    this.channels.delete(channel);
    this.idle = this.idle.filter((other) => other !== channel);
    this.done(channel);
    const sink = channel.sink;
    channel.sink = null;
    if (sink) {
      try {
        if (channel.parser.close().length) sink.end();
        else sink.error("The connection closed before the response finished.");
      } catch (error) {
        sink.error(error.message);
      }
    }
    const current = this.makeChannel === makeChannel;
    if (current && this.waiting.length && !this.draining && this.count < MAX_CHANNELS) {
      this.open().catch((error) => console.warn("PeerServer:", error));
    }
  }

  /**
   * The server tab lost these channels ([{id, answer}]: its Python restarted, and could not
   * close them itself): each closes, and a request on one that waits for its response's head
   * gets `answer` (text: a whole response) instead.
   */
  lost(channels) {
    const answers = new Map(channels.map(({ id, answer }) => [id, answer]));
    for (const channel of [...this.channels]) {
      if (!answers.has(channel.id)) continue;
      const answer = answers.get(channel.id);
      if (answer !== null && channel.sink && channel.parser.awaitingHead) {
        channel.parser.dropPartialHead();
        this.onData(channel, new TextEncoder().encode(answer).buffer);
      }
      if (channel.readyState !== "closed") channel.close(); // one still opening, too
    }
  }

  /** `channel` has no request in flight any more. */
  done(channel) {
    this.busy.delete(channel);
    if (this.draining && this.busy.size === 0) this.settleDrain();
  }

  /** Widen the server tab's window on `channel` by `bytes` (read by the page). */
  grant(channel, bytes) {
    if (bytes > 0 && this.control?.readyState === "open") {
      this.control.send(windowGrant(channel.id, bytes));
    }
  }

  /** Send `request` on `channel` (see SiteClient.request); the response goes to `sink`. */
  async send(channel, request, sink) {
    channel.sink = sink;
    this.busy.add(channel);
    channel.parser.expect(request.method);
    // The page's reader says how much of the response still waits unread; what it read goes
    // back to the server tab as window. Cancelling ends the request: the channel closes.
    sink.opened?.({
      unread: (waiting) => this.grant(channel, channel.account.grantFor(waiting)),
      cancel: () => {
        if (channel.sink === sink) channel.close();
      },
    });
    const { body, bodyStream } = request;
    let bodyLength = body
      ? body.length
      : ["POST", "PUT", "PATCH"].includes(request.method)
        ? 0
        : null;
    if (bodyStream) bodyLength = "chunked";
    const head = encodeRequestHead({
      method: request.method,
      target: request.target,
      host: this.host,
      headers: request.headers,
      bodyLength,
    });
    try {
      await sendBytes(channel, body?.length ? concat(head, body) : head);
      requestTimings.mark(request.target, "channel-sent");
      if (bodyStream) {
        // Piece by piece, each waiting for room on the channel: never the whole body at once.
        for await (const piece of bodyStream) {
          if (piece.length) await sendBytes(channel, encodeChunk(piece));
        }
        await sendBytes(channel, LAST_CHUNK);
      }
    } catch (error) {
      if (channel.sink === sink) {
        channel.sink = null;
        sink.error(error.message);
      }
    }
  }
}
