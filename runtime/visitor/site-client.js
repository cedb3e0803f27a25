// A visitor's connection to a site's server tab: signaling, one RTCPeerConnection, its control
// channel and HTTP/1.1 data channels, which its requests (site-requests.js: on this page, or
// in the shell's request worker) use, and the channels of the site's pages' WebSockets.
//
// Its state, and the events that say it, are connection-state.js's ("stopped": by stop()).
// A peer connection that is up does not need signaling: it keeps serving while the service
// restarts.
//
// A site can move to another tab (its standby: signaling/leases.py). The service says so with a
// new epoch of the site's lease; the tab it moved from says so on the control channel, and
// refuses what it did not run (421 Misdirected Request). The requests in flight finish, new ones
// wait, then this visitor connects again (to the tab that serves now), and a refused request is
// sent again (its body too, if it was not too large to keep).

import { opened } from "../channel-io.js";
import { IceServers, RemoteCandidates, noPathMessage, trickle } from "../ice.js";
import { CONTROL, formatChannelProtocol, HTTP } from "../protocol/channels.js";
import { ERROR, SERVER_STATUS, SIGNAL, toService } from "../protocol/signaling.js";
import { retryDelay, SignalingSocket, socketUrl } from "../signaling-socket.js";
import { ConnectionState } from "./connection-state.js";
import { SiteRequests } from "./site-requests.js";
import { visitorCertificate } from "./visitor-identity.js";

const OFFLINE_GRACE_MS = 10000;
const MOVE_WAIT_MS = 5000; // for requests in flight to finish before following the site
const MOVED_RETRY_MS = 500;

export class SiteClient extends ConnectionState {
  /** `makeRequests(options)`: where the requests go (a SiteRequests, or what stands for one in
   * a worker: requests-in-worker.js), made with SiteRequests' options by `start`.
   * `earlySignaling`: the signaling socket the page opened already (SignalingSocket's `early`). */
  constructor({
    signalingPath = "/__ps/signal",
    earlySignaling = null,
    host = location.host,
    scheme = location.protocol.replace(":", ""),
    makeRequests = (options) => new SiteRequests(options),
  } = {}) {
    super();
    this.signalingPath = signalingPath;
    this.earlySignaling = earlySignaling;
    this.scheme = scheme;
    this.keepsCookies = false; // whether the server tab keeps this visitor's HttpOnly cookies
    this.makeRequests = () =>
      makeRequests({
        scheme,
        host,
        moved: () => this.moveOn(),
        lost: (ids) => this.lostSockets(ids),
        closed: () => this.dropped(this.pc),
      });
    this.requests = null; // made by start()
    this.socketChannels = new Set(); // the open channels of the page's WebSockets
    this.pc = null;
    this.serverOnline = false; // as signaling last said
    this.epoch = null; // the epoch of the site's lease, as signaling last said
    this.connectedEpoch = null; // the epoch the current connection was made in
    this.moving = false; // while it finishes what it has in flight, to follow the site
    this.retries = 0; // connections lost in a row while the server was said to be online
    this.retryTimer = null;
    this.offlineTimer = null; // while a working connection outlives the server's signaling
  }

  start() {
    const early = this.earlySignaling;
    this.signaling = new SignalingSocket(early?.socket.url ?? socketUrl(this.signalingPath), {
      early,
    });
    // Made while the signaling socket opens: what that costs (a request worker's probe starts
    // WebRTC in this page, which takes a while the first time) is not added to the wait.
    this.requests = this.makeRequests();
    this.ice = new IceServers(this.signaling);
    this.certificate = visitorCertificate().catch((error) => {
      console.warn("PeerServer: no identity for this visitor:", error);
      return null;
    });
    this.signaling.addEventListener("message", (event) => {
      if (this.state !== "stopped") this.onSignal(event.detail);
    });
    this.signaling.addEventListener("close", () => {
      if (this.state !== "connected" && this.state !== "stopped") this.disconnect("reconnecting");
    });
  }

  /** Stop for good (the shell found out this browser cannot show sites): no more tries. */
  stop() {
    clearTimeout(this.retryTimer);
    clearTimeout(this.offlineTimer);
    this.signaling?.close();
    this.disconnect("stopped");
  }

  setState(state, reason = null) {
    if (state === this.state && reason === this.reason) return;
    this.requests?.setState(state, reason); // first: requests that wait on it go on at once
    super.setState(state, reason);
  }

  // -- connecting ---------------------------------------------------------------------------

  onSignal(message) {
    if (message.type === SERVER_STATUS) {
      this.serverOnline = Boolean(message.online);
      if (message.online) this.epoch = message.epoch ?? null;
      const working = this.state === "connected" && this.pc?.connectionState === "connected";
      clearTimeout(this.offlineTimer);
      if (message.online) {
        if (working) {
          if (this.epoch !== this.connectedEpoch) this.moveOn(); // another tab serves now
          return;
        }
        this.reconnect();
      } else if (working) {
        // The server tab left signaling, but the connection still works: its tab may have
        // been frozen a moment by the browser (which closes its WebSocket, not its peer
        // connections). It has a while to come back before this visitor gives up on it; a
        // tab that is gone closes its channels, which ends the connection sooner.
        const pc = this.pc;
        this.offlineTimer = setTimeout(() => {
          if (this.pc === pc && !this.serverOnline) this.disconnect("offline");
        }, OFFLINE_GRACE_MS);
      } else {
        this.disconnect("offline");
      }
    } else if (message.type === SIGNAL && this.pc) {
      const data = message.data || {};
      if (data.sdp) {
        const { pc, candidates } = this;
        performance.mark("peerserver:answer");
        pc.setRemoteDescription(data.sdp).then(
          () => candidates.flush(),
          (error) => {
            console.warn("PeerServer: bad answer from the server:", error);
          },
        );
      } else if ("candidate" in data) {
        this.candidates.add(data.candidate);
      } else if (typeof data.busy === "string") {
        this.disconnect("busy", data.busy);
      } else if (data.moved === true) {
        this.movedAway(this.pc);
      }
    } else if (message.type === ERROR) {
      console.warn(`PeerServer signaling: ${message.code}: ${message.message}`);
    }
  }

  async connect() {
    this.disconnect("connecting");
    this.connectedEpoch = this.epoch;
    performance.mark("peerserver:server-online"); // the steps of connecting, for the bench
    const [configuration, certificate] = await Promise.all([
      this.ice.configuration(),
      this.certificate,
    ]);
    performance.mark("peerserver:configured");
    if (this.state !== "connecting" || this.pc) return; // went offline, or another attempt won
    // With its lasting certificate, the server tab knows this visitor and keeps its HttpOnly
    // cookies itself (see visitor-identity.js).
    const keepsCookies = certificate !== null;
    this.keepsCookies = keepsCookies;
    const pc = new RTCPeerConnection(
      certificate ? { ...configuration, certificates: [certificate] } : configuration,
    );
    this.pc = pc;
    this.candidates = new RemoteCandidates(pc);
    // The server tab hears of this visitor from its offer: candidates found before the offer
    // went out wait for it.
    let early = [];
    const errors = trickle(pc, (data) => {
      if (this.pc !== pc) return;
      if (early) early.push(data);
      else this.signaling.send(toService.signal(data));
    });
    const noPath = (reason = noPathMessage(configuration, errors)) => {
      if (this.pc === pc) this.disconnect("failed", reason);
    };
    pc.addEventListener("connectionstatechange", () => {
      if (this.pc !== pc) return;
      if (pc.connectionState === "connected") performance.mark("peerserver:peer-connected");
      if (pc.connectionState === "failed" && this.state === "connecting") noPath();
      else if (["failed", "closed", "disconnected"].includes(pc.connectionState)) this.dropped(pc);
    });
    // Relayed only, with no relay to be had: nothing will ever connect, so say so now.
    pc.addEventListener("icegatheringstatechange", () => {
      if (
        pc.iceGatheringState === "complete" &&
        configuration.iceTransportPolicy === "relay" &&
        errors.length &&
        pc.iceConnectionState !== "connected"
      )
        noPath();
    });
    const ready = this.requests.connect({
      control: pc.createDataChannel(CONTROL),
      makeChannel: (protocol) => pc.createDataChannel(HTTP, { protocol }),
      keepsCookies,
    });
    ready.catch(() => {}); // heard below, unless this attempt is over first
    await pc.setLocalDescription(await pc.createOffer());
    if (this.pc !== pc) return;
    this.signaling.send(toService.signal({ sdp: pc.localDescription.toJSON() }));
    performance.mark("peerserver:offer-sent");
    for (const data of early) this.signaling.send(toService.signal(data));
    early = null;
    try {
      await ready;
    } catch (error) {
      noPath(error.visitorReason); // that of a request worker that failed, if it did
      return;
    }
    if (this.pc !== pc) return;
    // The server tab closing (a reload, say) closes the control channel at once, well before
    // ICE notices that the other end is gone: `closed` (see the constructor) drops it.
    this.retries = 0;
    this.setState("connected");
  }

  /**
   * The connection `pc` was lost: offline until the server tab is back. A server tab that
   * reloads quickly may have registered again before the loss was noticed here, so if
   * signaling already says it is online, connect again after a while (longer each time).
   */
  dropped(pc) {
    if (this.pc !== pc) return;
    this.disconnect("offline");
    if (!this.serverOnline) return;
    const ceilingMs = Math.min(500 * 2 ** this.retries++, 15000);
    this.reconnectLater(ceilingMs, () => this.state === "offline" && this.serverOnline);
  }

  /** The offer reached a tab the site moved from (the service had not said so yet): connect
   * again in a moment, when the service knows the tab that serves it now. */
  movedAway(pc) {
    if (this.pc !== pc) return;
    this.disconnect("connecting");
    this.reconnectLater(MOVED_RETRY_MS, () => this.state === "connecting" && this.pc === null);
  }

  /** Connect again after a while (drawn from the upper half of `ceilingMs`), if `wanted()`. */
  reconnectLater(ceilingMs, wanted) {
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      if (wanted()) this.reconnect();
    }, retryDelay(ceilingMs));
  }

  reconnect() {
    this.connect().catch((error) => console.warn("PeerServer: connecting failed:", error));
  }

  /** Another tab serves the site now: what is in flight here finishes (for a while), new
   * requests wait, then this visitor connects again, to that tab. */
  moveOn() {
    const pc = this.pc;
    if (this.moving || pc === null) return;
    this.moving = true;
    this.requests.drain(MOVE_WAIT_MS).then(() => {
      this.moving = false;
      if (this.pc === pc) {
        this.reconnect();
      }
    });
  }

  /** Close the peer connection; requests in flight fail, waiting ones wait for the next. */
  disconnect(state, reason = null) {
    if (this.pc) {
      const pc = this.pc;
      this.pc = null;
      pc.close(); // closes every channel: their close handlers fail what was in flight
    }
    this.requests?.reset();
    this.setState(state, reason);
  }

  // -- requests ---------------------------------------------------------------------------

  /**
   * A data channel of its own, for one WebSocket (site-sockets.js): an "http" channel with no
   * window, since a page cannot hold back a socket's messages. Resolves once it is open.
   */
  async socketChannel() {
    await this.connected();
    const protocol = formatChannelProtocol({
      scheme: this.scheme,
      httpOnlyByServer: this.keepsCookies,
    });
    const channel = this.pc.createDataChannel(HTTP, { protocol });
    channel.binaryType = "arraybuffer";
    this.socketChannels.add(channel);
    channel.addEventListener("close", () => this.socketChannels.delete(channel));
    return opened(channel);
  }

  /** The server tab lost the channels `ids` (protocol/channels.js's "lost"): a page's socket
   * on one closes (the page sees 1006). */
  lostSockets(ids) {
    for (const channel of this.socketChannels) if (ids.includes(channel.id)) channel.close();
  }
}
