// A standby tab's side of replication: it opens a peer connection to the tab that serves the
// site (its offer goes over signaling, which delivers it to that tab tagged with this member's
// id), and keeps what comes on the "replica" channel (runtime/protocol/replication.js) in this
// tab's IndexedDB (site-store.js), each change confirmed once it is kept. The rules of what it
// keeps are replica.js's.
//
// Events: copied {epoch, seq} (the copy holds that change now), log {stream, text}.

import { RemoteCandidates, trickle } from "../ice.js";
import { REPLICA } from "../protocol/channels.js";
import { toService } from "../protocol/signaling.js";
import {
  ackMessage,
  helloMessage,
  MessageReader,
  parseFromServing,
  ReplicationError,
  resyncMessage,
  SNAPSHOT,
} from "../protocol/replication.js";
import { Replica } from "./replica.js";

const RETRY_MS = 2000;
// A connection whose replica channel is not open by then started over: a signal may have been
// lost on the way (the serving tab moved meanwhile, say), and nothing else would tell.
const CONNECT_TIMEOUT_MS = 15000;

export class StandingBy extends EventTarget {
  /**
   * `store` is this tab's SiteStore of the site; `keepSettings(settings)` keeps the owner's
   * settings that came with the copy; `where` says what browser this is (the owner is shown it).
   */
  constructor({ signaling, ice, store, keepSettings, where }) {
    super();
    Object.assign(this, { signaling, ice, store, keepSettings, where });
    this.replica = new Replica();
    this.online = false;
    this.pc = null;
    this.channel = null;
    this.candidates = null;
    this.keeping = Promise.resolve(); // what came is kept in order, one message at a time
    this.resyncing = false;
    this.retryTimer = null;
    this.connectTimer = null;
    this.stopped = false;
  }

  /** The service says the site is served (`online`) in `epoch`: a new epoch means another
   * tab serves now, and the copy starts over from it. */
  announced(epoch, online) {
    if (this.stopped) return;
    this.online = online;
    // While nobody serves, the copy keeps what it has, and its connection to the tab that
    // served (cut off from the service, it may still be answering until its lease ends).
    if (!online) return;
    if (this.replica.announced(epoch) || this.pc === null) this.connect();
  }

  /** A signal from the serving tab: its answer, or one of its ICE candidates. */
  signal(data) {
    if (!this.pc || !data || typeof data !== "object") return;
    if (data.sdp) {
      const { pc, candidates } = this;
      pc.setRemoteDescription(data.sdp).then(
        () => candidates.flush(),
        (error) => this.say("signaling", `The serving tab's answer was refused: ${error}`),
      );
    } else if ("candidate" in data) {
      this.candidates.add(data.candidate);
    }
  }

  async connect() {
    this.disconnect();
    const configuration = await this.ice.configuration();
    if (this.stopped || this.pc !== null) return;
    const pc = new RTCPeerConnection(configuration);
    this.pc = pc;
    this.candidates = new RemoteCandidates(pc, (error) => this.say("signaling", String(error)));
    // The serving tab hears of this standby from its offer: candidates found before it wait.
    let early = [];
    trickle(pc, (data) => {
      if (this.pc !== pc) return;
      if (early) early.push(data);
      else this.signaling.send(toService.signal(data));
    });
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc === pc && ["failed", "closed"].includes(pc.connectionState)) this.lost(pc);
    });
    const channel = pc.createDataChannel(REPLICA);
    channel.binaryType = "arraybuffer";
    this.channel = channel;
    const reader = new MessageReader();
    channel.addEventListener("open", () => this.send(channel, helloMessage(this.where)));
    channel.addEventListener("message", ({ data }) => this.receive(channel, reader, data));
    channel.addEventListener("close", () => this.lost(pc));
    this.connectTimer = setTimeout(() => {
      if (this.pc !== pc || channel.readyState === "open") return;
      this.say("signaling", "The serving tab did not answer this standby: trying again.");
      this.lost(pc);
    }, CONNECT_TIMEOUT_MS);
    await pc.setLocalDescription(await pc.createOffer());
    if (this.pc !== pc) return;
    this.signaling.send(toService.signal({ sdp: pc.localDescription.toJSON() }));
    for (const data of early) this.signaling.send(toService.signal(data));
    early = null;
  }

  receive(channel, reader, data) {
    let message;
    try {
      const whole = reader.feed(data);
      if (whole === null) return;
      message = parseFromServing(whole);
    } catch (error) {
      if (!(error instanceof ReplicationError)) throw error;
      this.say("stderr", `The serving tab sent what this standby cannot keep: ${error.message}`);
      this.lost(this.pc);
      return;
    }
    this.keeping = this.keeping
      .then(() => this.keep(channel, message))
      .catch((error) => {
        this.say("stderr", `The copy could not be kept: ${error.message}. Copying again soon.`);
        this.lost(this.pc);
      });
  }

  /** Keep `message` in this tab's storage if the rules say so, and confirm it. */
  async keep(channel, message) {
    if (this.channel !== channel) return; // from a connection that ended since
    const step = this.replica.check(message);
    if (step.refuse) {
      this.say("signaling", `Refused ${step.refuse}.`);
      this.lost(this.pc);
      return;
    }
    if (step.resync) {
      if (!this.resyncing) this.send(channel, resyncMessage(step.resync));
      this.resyncing = true;
      return;
    }
    const position = { epoch: message.epoch, seq: message.seq };
    if (message.type === SNAPSHOT) {
      this.resyncing = false;
      await this.store.replaceAll(message.files, position);
    } else {
      await this.store.save(message.changes, position);
    }
    if (message.settings) this.keepSettings(message.settings);
    const kept = this.replica.kept(message);
    this.send(channel, ackMessage(kept.epoch, kept.seq));
    this.dispatchEvent(new CustomEvent("copied", { detail: kept }));
  }

  send(channel, frames) {
    if (channel.readyState !== "open") return;
    for (const frame of frames) channel.send(frame);
  }

  /** The connection to the serving tab ended: try again in a while, if it still serves. */
  lost(pc) {
    if (pc === null || this.pc !== pc) return;
    this.disconnect();
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (this.online && this.pc === null && !this.stopped) this.connect();
    }, RETRY_MS);
  }

  disconnect() {
    const { pc } = this;
    this.pc = null;
    this.channel = null;
    this.resyncing = false;
    clearTimeout(this.connectTimer);
    pc?.close();
  }

  /** This tab no longer stands by (it serves now, or stops). */
  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.disconnect();
  }

  /** Once everything that came has been kept (before this tab serves from its copy). */
  settled() {
    return this.keeping;
  }

  say(stream, text) {
    this.dispatchEvent(new CustomEvent("log", { detail: { stream, text } }));
  }
}

/** "Chrome 156 on Linux": what a standby says of its browser, for the owner's list. */
export function browserName(userAgent = navigator.userAgent) {
  const browsers = [
    ["Edge", /Edg\/(\d+)/],
    ["Opera", /OPR\/(\d+)/],
    ["Firefox", /Firefox\/(\d+)/],
    ["Chrome", /Chrom(?:e|ium)\/(\d+)/],
    ["Safari", /Version\/(\d+).*Safari/],
  ];
  const systems = [
    ["Android", /Android/],
    ["iOS", /iPhone|iPad/],
    ["ChromeOS", /CrOS/],
    ["Windows", /Windows/],
    ["macOS", /Mac OS X/],
    ["Linux", /Linux/],
  ];
  const found = browsers.find(([, pattern]) => pattern.test(userAgent));
  const name = found ? `${found[0]} ${found[1].exec(userAgent)[1]}` : "A browser";
  const system = systems.find(([, pattern]) => pattern.test(userAgent))?.[0];
  return system ? `${name} on ${system}` : name;
}
