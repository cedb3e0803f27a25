// The serving tab's standbys: a peer connection with each (made from its offer, which the
// service tags with its member id), a "replica" channel on it (runtime/protocol/replication.js),
// and the replication log's rules (replication.js) carried out: a snapshot of the site when a
// standby connects, then every change, and each write held until the standbys in sync have
// confirmed it (`confirmed`), or have been declared out of sync with the service's agreement.
//
// Events: changed (the standbys' states changed: for the owner's list), log {stream, text}.

import { whenWritable } from "../channel-io.js";
import { REPLICA } from "../protocol/channels.js";
import {
  ACK,
  changeMessage,
  HELLO,
  MessageReader,
  parseFromStandby,
  ReplicationError,
  RESYNC,
  snapshotMessage,
} from "../protocol/replication.js";
import { AnsweredPeers } from "./answered-peers.js";
import { ReplicationLog } from "./replication.js";

// A standby that falls this far behind is dropped (it gets a new snapshot when it is back),
// instead of this tab keeping all it has not taken.
const MAX_BACKLOG_BYTES = 64 * 1024 * 1024;
// Signals from standbys that come before this tab knows its epoch (a promoted tab keeps what
// its own copy received first; the tab it replaced may already be offering as its standby)
// wait for it, up to this many.
const MAX_EARLY_SIGNALS = 256;

/**
 * @typedef {object} Connected
 * @property {string} client the standby tab's peer id (signaling)
 * @property {string} member its member id
 * @property {string} where what browser it is, as it said
 * @property {RTCDataChannel|null} channel its replica channel, once it is there
 * @property {boolean} attached whether it had its snapshot (changes go to it from then on)
 * @property {Promise<void>} sending messages go out one after another
 * @property {number} backlog bytes waiting to be sent
 */

export class Standbys extends EventTarget {
  /**
   * `exclusive(run)` runs `run` while no change of the site is being kept (SiteHost's store
   * lock); `loadSite()` resolves to the site as kept ({site, state}: site-store.js);
   * `settings()` the owner's settings that travel with it; `declare(inSync)` resolves to what
   * the service acknowledged of a declaration (its in-sync list), or rejects.
   */
  constructor({
    signaling,
    ice,
    exclusive,
    loadSite,
    settings,
    declare,
    now = () => performance.now(),
  }) {
    super();
    Object.assign(this, { exclusive, loadSite, settings, declare, now });
    this.log = new ReplicationLog();
    this.epoch = null; // the lease's epoch, while this tab serves
    this.peers = new AnsweredPeers({
      signaling,
      ice,
      onError: (client, text) => this.say("signaling", `standby ${client}: ${text}`),
    });
    /** @type {Map<string, Connected>} by client */
    this.byClient = new Map();
    this.waiting = new Set(); // writes waiting for confirmations: {seq, since, resolve, reject}
    this.timer = null;
    this.declaring = false;
    this.early = []; // [client, member, data] that came before this tab's epoch
  }

  /** Whether a standby could be promoted in this tab's place (then it answers only while its
   * lease lasts). */
  get fencing() {
    return this.log.fencing;
  }

  /** A signal from standby `client` (member `member`): its offer, or an ICE candidate. */
  async signal(client, member, data) {
    if (!data || typeof data !== "object") return;
    if (this.epoch === null) {
      if (this.early.length < MAX_EARLY_SIGNALS) this.early.push([client, member, data]);
      return;
    }
    if (!data.sdp) {
      if ("candidate" in data) this.peers.candidate(client, data.candidate);
      return;
    }
    if (data.sdp.type !== "offer") return;
    this.dropMember(member); // a standby that connects again starts over
    /** @type {Connected} */
    const connected = {
      client,
      member,
      where: "",
      channel: null,
      attached: false,
      sending: Promise.resolve(),
      backlog: 0,
    };
    this.byClient.set(client, connected);
    await this.peers.answer(client, data.sdp, (pc) => {
      pc.addEventListener("connectionstatechange", () => {
        if (["failed", "closed"].includes(pc.connectionState)) this.drop(client);
      });
      pc.addEventListener("datachannel", ({ channel }) => {
        if (channel.label !== REPLICA || connected.channel) {
          channel.close();
          return;
        }
        this.accept(connected, channel);
      });
    });
  }

  accept(connected, channel) {
    channel.binaryType = "arraybuffer";
    connected.channel = channel;
    const reader = new MessageReader();
    channel.addEventListener("message", ({ data }) => {
      let message;
      try {
        const whole = reader.feed(data);
        if (whole === null) return;
        message = parseFromStandby(whole);
      } catch (error) {
        if (!(error instanceof ReplicationError)) throw error;
        this.say(
          "stderr",
          `A standby sent what this tab does not understand (${error.message}): dropped.`,
        );
        this.drop(connected.client);
        return;
      }
      this.receive(connected, message);
    });
    channel.addEventListener("close", () => {
      // Not a later connection of the same standby (its channel closes after it is replaced).
      if (this.byClient.get(connected.client) === connected) this.drop(connected.client);
    });
  }

  receive(connected, message) {
    if (message.type === HELLO) {
      connected.where = message.where;
      this.attach(connected);
    } else if (message.type === ACK && message.epoch === this.epoch) {
      this.log.acked(connected.member, message.seq, this.now());
      this.settle();
      this.emit("changed");
    } else if (message.type === RESYNC) {
      this.say("server", `A standby asked for a new copy (${message.reason}).`);
      this.log.detach(connected.member);
      connected.attached = false;
      this.attach(connected);
    }
  }

  /** Give a standby the whole site, as of the last change kept; every change after it follows. */
  attach(connected) {
    this.copy(connected).catch((error) => {
      this.say("stderr", `A standby could not be given its copy: ${error.message}`);
      this.drop(connected.client);
    });
  }

  async copy(connected) {
    await this.exclusive(async () => {
      const trees = await this.loadSite();
      if (this.byClient.get(connected.client) !== connected) return;
      const files = Object.entries(trees).flatMap(([root, entries]) =>
        entries.map((entry) => ({ ...entry, root })),
      );
      this.log.attach(connected.member, connected.where, this.now());
      connected.attached = true;
      const { epoch } = this;
      const seq = this.log.seq;
      this.send(connected, snapshotMessage({ epoch, seq, settings: this.settings(), files }));
    });
    this.say("server", `A standby (${connected.where}) is getting a copy of the site.`);
    this.emit("changed");
  }

  /**
   * A change of the site (checked changes, and, or, the owner's settings), made while
   * `exclusive`: sent to every standby that has its snapshot. Returns its number.
   */
  replicate({ changes, settings }) {
    const seq = this.log.append();
    const frames = changeMessage({ epoch: this.epoch, seq, changes, settings });
    for (const connected of this.byClient.values()) {
      if (connected.attached) this.send(connected, frames);
    }
    return seq;
  }

  /**
   * Resolves once change `seq` may be answered: every standby in sync confirmed it, or was
   * declared out of sync (past DEFAULT_WAIT_MS) and the service agreed. Rejects if this tab
   * stops serving meanwhile.
   */
  confirmed(seq) {
    if (this.log.unconfirmed(seq).length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiting.add({ seq, since: this.now(), resolve, reject });
      this.settle();
    });
  }

  /** Answer the writes that may be, and declare what changed in the in-sync set. */
  settle() {
    const now = this.now();
    for (const write of this.waiting) {
      const late = this.log.overdue(write.seq, write.since, now);
      if (late.length) this.say("stderr", lateMessage(late.length, this.log.waitMs));
      if (this.log.unconfirmed(write.seq).length === 0) {
        this.waiting.delete(write);
        write.resolve();
      }
    }
    // Look again when the next write's wait is over; past it, only the service's answer (or a
    // confirmation) moves things on.
    clearTimeout(this.timer);
    const ends = [...this.waiting]
      .map((write) => write.since + this.log.waitMs - now)
      .filter((left) => left > 0);
    if (ends.length) this.timer = setTimeout(() => this.settle(), Math.min(...ends));
    this.sendDeclaration();
  }

  /** Tell the service which standbys are in sync, if that changed (one declaration at a time). */
  sendDeclaration() {
    if (this.declaring || this.epoch === null) return;
    const inSync = this.log.nextDeclaration();
    if (inSync === null) return;
    this.declaring = true;
    const { epoch } = this;
    this.declare(inSync).then(
      (acknowledged) => {
        if (this.epoch !== epoch) return; // an answer about a lease this tab holds no more
        this.declaring = false;
        this.log.synced(acknowledged);
        this.emit("changed");
        this.settle();
      },
      () => {
        // No answer: this tab no longer serves, or lost the service meanwhile.
        if (this.epoch !== epoch) return;
        this.declaring = false;
        this.log.unanswered();
      },
    );
  }

  /** Messages to a standby go out one after another, each waiting for room on its channel. */
  send(connected, frames) {
    const size = frames.reduce((sum, frame) => sum + frame.length, 0);
    connected.backlog += size;
    if (connected.backlog > MAX_BACKLOG_BYTES) {
      this.say(
        "stderr",
        "A standby fell too far behind: it is dropped, and copies anew when back.",
      );
      this.drop(connected.client);
      return;
    }
    connected.sending = connected.sending.then(async () => {
      for (const frame of frames) {
        const { channel } = connected;
        await whenWritable(channel);
        if (channel.readyState !== "open") return;
        channel.send(frame);
      }
      connected.backlog -= size;
    });
  }

  /** Standby `client` is gone (or starts over): it is out of the log. */
  drop(client) {
    const connected = this.byClient.get(client);
    if (!connected) return;
    this.byClient.delete(client);
    connected.channel?.close();
    this.peers.drop(client);
    if (this.log.standbys.has(connected.member)) {
      this.log.detach(connected.member);
      this.say("server", "A standby disconnected.");
    }
    this.settle();
    this.emit("changed");
  }

  /** The standby of member `member`, if connected. */
  dropMember(member) {
    for (const connected of this.byClient.values()) {
      if (connected.member === member) this.drop(connected.client);
    }
  }

  /**
   * This tab serves in `epoch` now. A new lease of the same tab (it registered again) starts
   * with no standby in sync at the service: writes still waiting may be answered, and the
   * standbys connect again for a snapshot of this epoch.
   */
  serveIn(epoch) {
    if (epoch === this.epoch) return;
    const waiting = [...this.waiting];
    this.waiting.clear();
    this.forget();
    this.epoch = epoch;
    for (const write of waiting) write.resolve();
    const early = this.early;
    this.early = [];
    for (const [client, member, data] of early) {
      this.signal(client, member, data).catch((error) =>
        this.say("signaling", `standby ${client}: ${error}`),
      );
    }
  }

  /** This tab serves no more: standbys go, and writes still waiting fail (they are never
   * answered: the HTTP channels let nothing out of a tab that does not serve). */
  stop() {
    const waiting = [...this.waiting];
    this.waiting.clear();
    this.forget();
    this.epoch = null;
    this.early = [];
    for (const write of waiting) write.reject(new Error("this tab no longer serves the site"));
  }

  forget() {
    for (const client of [...this.byClient.keys()]) this.drop(client);
    this.log.restart();
    this.declaring = false;
    clearTimeout(this.timer);
    this.emit("changed");
  }

  /** The standbys as the owner sees them (see ReplicationLog.describe). */
  describe() {
    return this.log.describe();
  }

  say(stream, text) {
    this.emit("log", { stream, text });
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

function lateMessage(count, waitMs) {
  const who = count === 1 ? "A standby" : `${count} standbys`;
  return `${who} did not confirm a change within ${waitMs / 1000} s: the site serves on without them (their copies can no longer take over) until they catch up.`;
}
