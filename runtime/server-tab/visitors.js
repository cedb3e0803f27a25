// A server tab's visitors: one RTCPeerConnection each, made from the offer a visitor sends over
// signaling, with trickled ICE candidates both ways; at most `maxVisitors` at once (the next
// one is told the site is busy). Their channels: "control" (the greeting, and the visitor's
// window grants) and "http" (handed to http-channels.js).
//
// Events: clients {count} (visitors connected), log {stream, text}.

import { IceServers, RemoteCandidates, trickle } from "../ice.js";
import { CONTROL, HTTP, hello, parseControl } from "../protocol/channels.js";
import { sdpIdentity } from "../visitor/visitor-identity.js";

/**
 * @typedef {object} Visitor
 * @property {RTCPeerConnection|null} pc null while it is being made
 * @property {Set<RTCDataChannel>} channels
 * @property {RemoteCandidates|null} candidates null while the peer connection is being made
 * @property {object[]} pending candidates that came before the peer connection
 * @property {string} identity the visitor's DTLS certificate fingerprint (visitor-identity.js)
 * @property {boolean} arrived whether its peer connection has connected (the log says so once)
 */

export class Visitors extends EventTarget {
  /** `name` is the site's; `channels` the HttpChannels its "http" channels go to. */
  constructor({ name, signaling, channels }) {
    super();
    Object.assign(this, { name, signaling, channels });
    this.ice = new IceServers(signaling);
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
      const visitor = this.byClient.get(client);
      if (!visitor || !("candidate" in data)) return;
      if (visitor.candidates) visitor.candidates.add(data.candidate);
      else visitor.pending.push(data.candidate); // the peer connection is being made
      return;
    }
    if (data.sdp.type !== "offer") return;
    this.drop(client); // a visitor that reconnects starts over
    if (this.byClient.size >= this.maxVisitors) {
      const many = `${this.maxVisitors} visitor${this.maxVisitors === 1 ? "" : "s"}`;
      const busy = `The site is busy: it serves ${many} at once. Try again in a while.`;
      this.signaling.send({ type: "signal", to: client, data: { busy } });
      this.emit("log", { stream: "signaling", text: `A visitor was turned away: ${busy}` });
      return;
    }
    // Set before the first await, so that the candidates that follow the offer find it.
    /** @type {Visitor} */
    const visitor = {
      pc: null,
      channels: new Set(),
      candidates: null,
      pending: [],
      identity: sdpIdentity(data.sdp.sdp),
      client,
      arrived: false,
    };
    this.byClient.set(client, visitor);
    const configuration = await this.ice.configuration();
    if (this.byClient.get(client) !== visitor) return; // it left, or started over, meanwhile
    const pc = new RTCPeerConnection(configuration);
    visitor.pc = pc;
    const candidates = new RemoteCandidates(pc, (error) =>
      this.emit("log", {
        stream: "signaling",
        text: `${this.label(client)}: ${error.message ?? error}`,
      }),
    );
    for (const candidate of visitor.pending) candidates.add(candidate);
    visitor.candidates = candidates;
    const errors = trickle(pc, (candidate) => {
      if (this.byClient.get(client) !== visitor) return;
      this.signaling.send({ type: "signal", to: client, data: candidate });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "connected" && !visitor.arrived) {
        visitor.arrived = true;
        const who = this.label(client);
        const text =
          this.arrived++ === 0 ? `The first visitor arrived (${who}).` : `${who} arrived.`;
        this.emit("log", { stream: "server", text });
      }
      if (pc.connectionState === "failed" && errors.length) {
        this.emit("log", {
          stream: "signaling",
          text: `${this.label(client)}: no connection: ${errors.join("; ")}`,
        });
      }
      if (["failed", "closed"].includes(pc.connectionState)) this.drop(client);
      this.count();
    });
    pc.addEventListener("datachannel", ({ channel }) => this.accept(visitor, channel));
    await pc.setRemoteDescription(data.sdp);
    candidates.flush();
    await pc.setLocalDescription(await pc.createAnswer());
    this.signaling.send({
      type: "signal",
      to: client,
      data: { sdp: pc.localDescription.toJSON() },
    });
  }

  accept(visitor, channel) {
    channel.binaryType = "arraybuffer";
    visitor.channels.add(channel);
    channel.addEventListener("close", () => visitor.channels.delete(channel));
    if (channel.label === CONTROL) {
      const greet = () => channel.send(hello(this.name));
      if (channel.readyState === "open") greet();
      else channel.addEventListener("open", greet, { once: true });
      channel.addEventListener("message", (event) => {
        const message = parseControl(event.data);
        if (message) this.channels.grant(visitor, message.channel, message.bytes);
      });
    } else if (channel.label === HTTP) {
      this.channels.accept(visitor, channel);
    } else {
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
    visitor.pc?.close();
    this.count();
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
