// The shell's side of its pages' WebSockets (protocol/page-sockets.js): each socket a page opens
// to the site gets a data channel of its own to the server tab, on which the shell makes the
// opening handshake (a real HTTP/1.1 upgrade request, with the visitor's cookies) and then
// carries RFC 6455 frames (websocket.js) between the channel and the page's port.
//
// Close codes, as a browser gives them: the server's own code and reason when it closes;
// 1006 (with an "error" first) when the channel is lost without a closing handshake: the
// server tab went away, or its Python was stopped short; 1001 goes to the server when the
// page (or the whole shell) goes away.

import { sendBytes } from "../channel-io.js";
import { HttpParseError, ResponseParser } from "../http1.js";
import { CLOSE, CLOSED, MESSAGE, OPEN, SEND, SENT } from "../protocol/page-sockets.js";
import { checkHandshake, handshakeRequest, WebSocketFrames } from "../websocket.js";

// A closing handshake the server does not finish in this time ends the channel anyway.
const CLOSE_TIMEOUT_MS = 5000;

export class SiteSockets {
  /**
   * `openChannel()` resolves to a new open data channel for one socket (SiteClient's);
   * `cookies` has header(url) (the Cookie header for a request to `url`) and store(values, url).
   */
  constructor({ openChannel, cookies, userAgent, origin }) {
    Object.assign(this, { openChannel, cookies, userAgent, origin });
    this.sockets = new Set();
  }

  /** A page asks for a socket to `url` (a ws: or wss: URL of the site) on `port`. */
  connect({ url, protocols = [] }, port) {
    const socket = new SiteSocket(this, new URL(url), protocols.map(String), port);
    this.sockets.add(socket);
    socket.start().catch((error) => socket.fail(String(error)));
    return socket;
  }

  /** The shell goes away: every socket closes with 1001, as the page's own would. */
  leaveAll() {
    for (const socket of this.sockets) socket.close(1001, "", { quietly: true });
  }
}

class SiteSocket {
  constructor(sockets, url, protocols, port) {
    Object.assign(this, { sockets, url, protocols, port });
    this.state = "connecting";
    this.channel = null;
    this.frames = new WebSocketFrames();
    this.writing = Promise.resolve(); // the page's messages go out one after another, in order
    this.closeTimer = null;
    port.onmessage = ({ data }) => this.fromPage(data);
    // Where the browser says so (Chromium): the page or worker holding the port is gone.
    port.addEventListener("close", () => this.close(1001, "", { quietly: true }));
  }

  async start() {
    let channel;
    try {
      channel = await this.sockets.openChannel();
    } catch (error) {
      this.finish({ code: 1006, reason: "", error: true }, `the site cannot be reached: ${error}`);
      return;
    }
    if (this.state !== "connecting") {
      channel.close();
      return;
    }
    this.channel = channel;
    const { host, pathname, search } = this.url;
    const headers = [
      ["Origin", this.sockets.origin],
      ["User-Agent", this.sockets.userAgent],
      ["Cache-Control", "no-cache"],
    ];
    const httpUrl = this.url.href.replace(/^ws/, "http");
    const cookie = this.sockets.cookies.header(httpUrl);
    if (cookie) headers.push(["Cookie", cookie]);
    const handshake = await handshakeRequest({
      target: pathname + search,
      host,
      protocols: this.protocols,
      headers,
    });
    const parser = new ResponseParser();
    parser.expect("GET", { upgrade: true });
    let head = null;
    channel.addEventListener("message", ({ data }) => {
      const bytes = new Uint8Array(data);
      if (this.state !== "connecting") {
        this.fromServer(bytes);
        return;
      }
      let events;
      try {
        events = parser.feed(bytes);
      } catch (error) {
        const why = error instanceof HttpParseError ? error.message : String(error);
        this.fail(`the server's answer is not HTTP: ${why}`);
        return;
      }
      for (const event of events) {
        if (event.type === "head") head = event;
        else if (event.type === "upgraded") this.opened(head, handshake, event.bytes);
        else if (event.type === "end") this.fail(`the server answered ${head.status}`);
      }
    });
    channel.addEventListener("close", () => this.channelClosed());
    try {
      await sendBytes(channel, handshake.bytes);
    } catch {
      this.channelClosed();
    }
  }

  opened(head, handshake, rest) {
    let agreed;
    try {
      agreed = checkHandshake(head, { accept: handshake.accept, protocols: this.protocols });
    } catch (error) {
      this.fail(error.message);
      return;
    }
    const setCookies = head.headers.filter(([name]) => name.toLowerCase() === "set-cookie");
    this.sockets.cookies.store(
      setCookies.map(([, value]) => value),
      this.url.href.replace(/^ws/, "http"),
    );
    this.state = "open";
    this.port.postMessage({ type: OPEN, ...agreed });
    if (rest.length) this.fromServer(rest);
  }

  fromServer(bytes) {
    for (const event of this.frames.receive(bytes)) {
      if (event.type === "message") {
        const { data } = event;
        if (typeof data === "string") this.port.postMessage({ type: MESSAGE, data });
        else {
          const buffer =
            data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
              ? data.buffer
              : data.slice().buffer;
          this.port.postMessage({ type: MESSAGE, data: buffer }, [buffer]);
        }
      } else if (event.type === "write") {
        this.write(event.bytes);
      } else if (event.type === "close") {
        // The server's close (or its answer to ours): the closing handshake is done once our
        // reply is out, and the channel ends.
        this.finish({ code: event.code, reason: event.reason, wasClean: true });
        this.writing.then(() => this.channel.close());
      } else if (event.type === "fail") {
        console.warn(`PeerServer: WebSocket ${this.url.href}: ${event.reason}`);
        this.finish({ code: 1006, reason: "", error: true });
        this.writing.then(() => this.channel.close());
      }
    }
  }

  async fromPage(message) {
    if (message?.type === SEND && this.state === "open") {
      const data = message.data instanceof Blob ? message.data.arrayBuffer() : message.data;
      this.writing = this.writing.then(async () => {
        const payload = await data;
        const bytes = typeof payload === "string" ? payload : new Uint8Array(payload);
        const frame = this.frames.encodeMessage(bytes);
        await sendBytes(this.channel, frame).catch(() => {});
        const size =
          typeof bytes === "string" ? new TextEncoder().encode(bytes).length : bytes.length;
        this.port.postMessage({ type: SENT, bytes: size });
      });
    } else if (message?.type === CLOSE) {
      this.close(message.code, message.reason ?? "", { quietly: message.code === 1001 });
    }
  }

  /** Start the closing handshake (or give up connecting). `quietly`: the page is gone. */
  close(code, reason, { quietly = false } = {}) {
    if (quietly) this.port.close();
    if (this.state === "connecting") {
      this.finish({ code: 1006, reason: "", error: true });
      this.channel?.close();
    } else if (this.state === "open") {
      this.state = "closing";
      this.write(this.frames.encodeClose(code, reason));
      this.closeTimer = setTimeout(() => this.channel.close(), CLOSE_TIMEOUT_MS);
    }
  }

  write(bytes) {
    this.writing = this.writing.then(() => sendBytes(this.channel, bytes).catch(() => {}));
  }

  /** The handshake failed: the page sees "error", then "close" with 1006. */
  fail(why) {
    console.warn(`PeerServer: WebSocket connection to '${this.url.href}' failed: ${why}`);
    this.finish({ code: 1006, reason: "", error: true });
    this.channel?.close();
  }

  channelClosed() {
    clearTimeout(this.closeTimer);
    this.finish({ code: 1006, reason: "", error: this.state !== "closing" });
  }

  /** The socket is closed for the page: tell it how, once. */
  finish({ code, reason, wasClean = false, error = false }, warning = null) {
    if (this.state === "closed") return;
    if (warning) console.warn(`PeerServer: WebSocket ${this.url.href}: ${warning}`);
    this.state = "closed";
    this.sockets.sockets.delete(this);
    this.port.postMessage({ type: CLOSED, code, reason, wasClean, error });
  }
}
