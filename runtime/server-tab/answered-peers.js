// Peer connections a server tab makes from other peers' offers, one per peer: its visitors'
// (visitors.js) and its standbys' (standbys.js). The other peer's offer and ICE candidates come
// over signaling, the answer and this tab's candidates go back the same way, trickled.

import { RemoteCandidates, trickle } from "../ice.js";
import { toService } from "../protocol/signaling.js";

/**
 * @typedef {object} AnsweredPeer
 * @property {RTCPeerConnection|null} pc null while it is being made
 * @property {RemoteCandidates|null} candidates null while the peer connection is being made
 * @property {object[]} pending candidates that came before the peer connection
 * @property {string[]} errors what STUN/TURN servers said, for messages to a person
 */

export class AnsweredPeers {
  /** `ice` is the IceServers of `signaling`; `onError(client, text)` reports what went wrong. */
  constructor({ signaling, ice, onError }) {
    Object.assign(this, { signaling, ice, onError });
    /** @type {Map<string, AnsweredPeer>} */
    this.byClient = new Map();
  }

  /** A candidate of `client`'s (null: no more), added once its peer connection is there. */
  candidate(client, candidate) {
    const peer = this.byClient.get(client);
    if (!peer) return;
    if (peer.candidates) peer.candidates.add(candidate);
    else peer.pending.push(candidate); // the peer connection is being made
  }

  /**
   * Answer `client`'s offer (an RTCSessionDescriptionInit) with a new peer connection, in place
   * of any earlier one; `setUp(pc, peer)` is called before the answer is made (to listen for its
   * channels). Resolves to the peer, or null if the client left or started over meanwhile.
   */
  async answer(client, offer, setUp) {
    this.drop(client);
    // Set before the first await, so that the candidates that follow the offer find it.
    /** @type {AnsweredPeer} */
    const peer = { pc: null, candidates: null, pending: [], errors: [] };
    this.byClient.set(client, peer);
    const configuration = await this.ice.configuration();
    if (this.byClient.get(client) !== peer) return null;
    const pc = new RTCPeerConnection(configuration);
    peer.pc = pc;
    const candidates = new RemoteCandidates(pc, (error) =>
      this.onError(client, error.message ?? String(error)),
    );
    for (const candidate of peer.pending) candidates.add(candidate);
    peer.candidates = candidates;
    peer.errors = trickle(pc, (candidate) => {
      if (this.byClient.get(client) !== peer) return;
      this.signaling.send(toService.signal(candidate, client));
    });
    setUp(pc, peer);
    await pc.setRemoteDescription(offer);
    candidates.flush();
    await pc.setLocalDescription(await pc.createAnswer());
    if (this.byClient.get(client) !== peer) return null;
    this.signaling.send(toService.signal({ sdp: pc.localDescription.toJSON() }, client));
    return peer;
  }

  /** `client`'s peer connection closes (it left, or starts over). */
  drop(client) {
    const peer = this.byClient.get(client);
    if (!peer) return;
    this.byClient.delete(client);
    peer.pc?.close();
  }
}
