// A server tab's visitors: one RTCPeerConnection each, made from the offer a visitor sends over
// signaling (answered-peers.js); at most `maxVisitors` at once (the next one is told the site
// is busy). Their channels: "control" (the greeting, the visitor's window grants, "moved" when
// the site moves to another tab, and "lost" when Python restarts) and "http" (handed to
// http-channels.js, which hands them on to the Python worker where the browser can). A tab
// that does not serve (any more) tells a visitor whose offer reaches it that the site moved.
//
// Events: clients {count} (visitors connected), log {stream, text}.

import { CONTROL, HTTP, hello, MOVED, parseControl } from "../protocol/channels.js";
import { refusals, toService } from "../protocol/signaling.js";
import { sdpIdentity } from "../visitor/visitor-identity.js";
import { AnsweredPeers } from "./answered-peers.js";

/**
 * @typedef {object} Visitor
 * @property {RTCPeerConnection|null} pc null while it is being made
 * @property {Set<RTCDataChannel>} channels
 * @property {RTCDataChannel|null} control its control channel, once it is open
 * @property {string} identity the visitor's DTLS certificate fingerprint (visitor-identity.js)
 * @property {boolean} arrived whether its peer connection has connected (the log says so once)
 */

export class Visitors extends EventTarget {
  /** `name` is the site's; `ice` the IceServers of `signaling`; `channels` the HttpChannels
   * its "http" channels go to. */
  constructor({ name, signaling, ice, channels }) {
    super();
    Object.assign(this, { name, signaling, channels });
    this.peers = new AnsweredPeers({
      signaling,
      ice,
      onError: (client, text) =>
        this.emit("log", { stream: "signaling", text: `${this.label(client)}: ${text}` }),
    });
    this.serving = true; // whether visitors' offers are answered here
    this.maxVisitors = Infinity; // until signaling says
    this.byClient = new Map(); // client id -> Visitor
    this.numbers = new Map(); // client id -> its number in the log, while connected
    this.met = 0;
    this.connected = 0;
    this.arrived = 0; // visitors that connected since this tab started
  }

  values() {
    return this.byClient.values();
  }

  /** "visitor 3": visitors numbered in the order this tab met them, for the log. */
  label(client) {
    if (!this.numbers.has(client)) this.numbers.set(client, ++this.met);
    return `visitor ${this.numbers.get(client)}`;
  }

  /** A signal from visitor `client`: an offer, or an ICE candidate. */
  async signal(client, data) {
    if (!data || typeof data !== "object") return;
    if (!data.sdp) {
      if ("candidate" in data) this.peers.candidate(client, data.candidate);
      return;
    }
    if (data.sdp.type !== "offer") return;
    this.drop(client); // a visitor that reconnects starts over
    if (!this.serving) {
      this.signaling.send(toService.signal(refusals.moved(), client));
      return;
    }
    if (this.byClient.size >= this.maxVisitors) {
      const many = `${this.maxVisitors} visitor${this.maxVisitors === 1 ? "" : "s"}`;
      const busy = `The site is busy: it serves ${many} at once. Try again in a while.`;
      this.signaling.send(toService.signal(refusals.busy(busy), client));
      this.emit("log", { stream: "signaling", text: `A visitor was turned away: ${busy}` });
      return;
    }
    /** @type {Visitor} */
    const visitor = {
      pc: null,
      channels: new Set(),
      control: null,
      identity: sdpIdentity(data.sdp.sdp),
      client,
      arrived: false,
    };
    this.byClient.set(client, visitor);
    await this.peers.answer(client, data.sdp, (pc, peer) => {
      visitor.pc = pc;
      pc.addEventListener("connectionstatechange", () => {
        if (pc.connectionState === "connected" && !visitor.arrived) {
          visitor.arrived = true;
          const who = this.label(client);
          const text =
            this.arrived++ === 0 ? `The first visitor arrived (${who}).` : `${who} arrived.`;
          this.emit("log", { stream: "server", text });
        }
        if (pc.connectionState === "failed" && peer.errors.length) {
          this.emit("log", {
            stream: "signaling",
            text: `${this.label(client)}: no connection: ${peer.errors.join("; ")}`,
          });
        }
        if (["failed", "closed"].includes(pc.connectionState)) this.drop(client);
        this.count();
      });
      pc.addEventListener("datachannel", ({ channel }) => this.accept(visitor, channel));
    });
  }

  accept(visitor, channel) {
    // First: a channel can be handed to the Python worker only in the task it came in.
    if (channel.label === HTTP && this.channels.accept(visitor, channel) === null) return;
    channel.binaryType = "arraybuffer";
    visitor.channels.add(channel);
    channel.addEventListener("close", () => visitor.channels.delete(channel));
    if (channel.label === CONTROL) {
      const greet = () => {
        visitor.control = channel;
        channel.send(hello(this.name));
      };
      if (channel.readyState === "open") greet();
      else channel.addEventListener("open", greet, { once: true });
      channel.addEventListener("message", (event) => {
        const message = parseControl(event.data);
        if (message) this.channels.grant(visitor, message.channel, message.bytes);
      });
    } else if (channel.label !== HTTP) {
      channel.close();
    }
  }

  /** Visitor `client` left (or starts over): its channels and peer connection close. */
  drop(client) {
    const visitor = this.byClient.get(client);
    if (!visitor) return;
    this.byClient.delete(client);
    this.numbers.delete(client);
    for (const channel of visitor.channels) channel.close();
    this.peers.drop(client);
    this.count();
  }

  /** The site moved to another tab: every visitor is told to go there (runtime/visitor/
   * site-client.js finishes what it has in flight here first). */
  tellMoved() {
    for (const { control } of this.byClient.values()) {
      if (control?.readyState === "open") control.send(MOVED);
    }
  }

  dropAll() {
    for (const client of [...this.byClient.keys()]) this.drop(client);
  }

  count() {
    let count = 0;
    for (const { pc } of this.byClient.values()) if (pc?.connectionState === "connected") count++;
    if (count !== this.connected) {
      this.connected = count;
      this.emit("clients", { count });
    }
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}
