// A visitor's connection to a site's server tab: signaling, one RTCPeerConnection, a control
// channel, and a pool of HTTP/1.1 data channels (one request at a time on each, like a
// browser's pool of TCP connections).
//
// Events: state (detail {state}: "connecting" | "connected" | "offline").

import { RTC_CONFIG, iceGathered, opened, sendBytes } from "./channel-io.js";
import { HttpParseError, ResponseParser, concat, encodeRequestHead } from "./http1.js";
import { SignalingSocket, socketUrl } from "./signaling-socket.js";

const MAX_CHANNELS = 6;
const CONNECT_TIMEOUT_MS = 15000;

export class SiteClient extends EventTarget {
  constructor({ signalingPath = "/__ps/signal", host = location.host,
    scheme = location.protocol.replace(":", "") } = {}) {
    super();
    this.signalingPath = signalingPath;
    this.host = host;
    this.scheme = scheme;
    this.state = "connecting";
    this.pc = null;
    this.idle = []; // open HTTP channels with no request on them
    this.channelCount = 0;
    this.waiting = []; // requests waiting for a channel: functions given one
  }

  start() {
    this.signaling = new SignalingSocket(socketUrl(this.signalingPath));
    this.signaling.addEventListener("message", (event) => this.onSignal(event.detail));
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: { state } }));
  }

  /** Resolve once connected; reject after `timeoutMs` without a connection. */
  connected(timeoutMs = CONNECT_TIMEOUT_MS) {
    if (this.state === "connected") return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.removeEventListener("state", onState);
        reject(new Error("the server did not answer"));
      }, timeoutMs);
      const onState = () => {
        if (this.state !== "connected") return;
        clearTimeout(timer);
        this.removeEventListener("state", onState);
        resolve();
      };
      this.addEventListener("state", onState);
    });
  }

  // -- connecting ---------------------------------------------------------------------------

  onSignal(message) {
    if (message.type === "server-status") {
      if (message.online) {
        this.connect().catch((error) => console.warn("PeerServer: connecting failed:", error));
      } else {
        this.disconnect("offline");
      }
    } else if (message.type === "signal" && message.data?.sdp && this.pc) {
      this.pc.setRemoteDescription(message.data.sdp).catch((error) => {
        console.warn("PeerServer: bad answer from the server:", error);
      });
    } else if (message.type === "error") {
      console.warn(`PeerServer signaling: ${message.code}: ${message.message}`);
    }
  }

  async connect() {
    this.disconnect("connecting");
    const pc = new RTCPeerConnection(RTC_CONFIG);
    this.pc = pc;
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc === pc && ["failed", "closed", "disconnected"].includes(pc.connectionState)) {
        this.disconnect("offline");
      }
    });
    const control = pc.createDataChannel("control");
    const first = this.createHttpChannel();
    await pc.setLocalDescription(await pc.createOffer());
    await iceGathered(pc);
    if (this.pc !== pc) return;
    this.signaling.send({ type: "signal", data: { sdp: pc.localDescription.toJSON() } });
    await Promise.all([opened(control, CONNECT_TIMEOUT_MS), first]);
    if (this.pc !== pc) return;
    this.control = control;
    this.setState("connected");
  }

  /** Close the peer connection; requests in flight fail, waiting ones wait for the next. */
  disconnect(state) {
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close(); // closes every channel: their close handlers fail what was in flight
    }
    this.idle = [];
    this.channelCount = 0;
    this.setState(state);
  }

  // -- HTTP channels ------------------------------------------------------------------------

  createHttpChannel() {
    const pc = this.pc;
    const channel = pc.createDataChannel("http", { protocol: this.scheme });
    channel.binaryType = "arraybuffer";
    this.channelCount++;
    channel.parser = new ResponseParser();
    channel.sink = null;
    channel.addEventListener("message", (event) => this.onChannelData(channel, event.data));
    channel.addEventListener("close", () => this.onChannelClose(channel, pc));
    return opened(channel).then(() => {
      this.release(channel, true);
      return channel;
    });
  }

  acquire() {
    if (this.idle.length) return Promise.resolve(this.idle.pop());
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      if (this.pc && this.state === "connected" && this.channelCount < MAX_CHANNELS) {
        this.createHttpChannel().catch((error) => console.warn("PeerServer:", error));
      }
    });
  }

  release(channel, reusable) {
    channel.sink = null;
    if (!reusable || channel.readyState !== "open") {
      if (channel.readyState === "open") channel.close();
      return;
    }
    const next = this.waiting.shift();
    if (next) next(channel);
    else this.idle.push(channel);
  }

  onChannelData(channel, data) {
    const sink = channel.sink;
    if (!sink) return;
    let events;
    try {
      events = channel.parser.feed(new Uint8Array(data));
    } catch (error) {
      channel.sink = null;
      sink.error(error instanceof HttpParseError ? `Bad response: ${error.message}` : String(error));
      channel.close();
      return;
    }
    for (const event of events) {
      if (event.type === "head") sink.head(event);
      else if (event.type === "data") sink.data(event.bytes);
      else if (event.type === "end") {
        sink.end();
        this.release(channel, event.keepAlive);
      }
    }
  }

  onChannelClose(channel, pc) {
    this.idle = this.idle.filter((other) => other !== channel);
    if (this.pc === pc) this.channelCount--;
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
    if (this.pc === pc && this.waiting.length && this.channelCount < MAX_CHANNELS) {
      this.createHttpChannel().catch((error) => console.warn("PeerServer:", error));
    }
  }

  // -- requests ---------------------------------------------------------------------------

  /**
   * Send one request; `sink` gets head({status, statusText, headers}), data(bytes), end() or
   * error(message). `request` is {method, target, headers: [[name, value]], body: Uint8Array|null}.
   */
  async request(request, sink) {
    let channel;
    try {
      await this.connected();
      channel = await this.acquire();
    } catch (error) {
      sink.error(`The server is offline: ${error.message}`);
      return;
    }
    channel.sink = sink;
    channel.parser.expect(request.method);
    const body = request.body;
    const head = encodeRequestHead({
      method: request.method,
      target: request.target,
      host: this.host,
      headers: request.headers,
      bodyLength: body ? body.length : (["POST", "PUT", "PATCH"].includes(request.method) ? 0 : null),
    });
    try {
      await sendBytes(channel, body && body.length ? concat(head, body) : head);
    } catch (error) {
      if (channel.sink === sink) {
        channel.sink = null;
        sink.error(error.message);
      }
    }
  }
}
