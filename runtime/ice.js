// ICE for both ends of a site: the STUN/TURN servers the signaling service hands out, trickled
// candidates, and what to tell a person when no path is found.
//
// The service sends `ice-servers {iceServers, iceTransportPolicy, expires}` first thing on
// every signaling connection; TURN credentials in it expire (coturn checks that when a relay is
// allocated), so a peer asks again ({type: "ice-servers"}) before it connects with old ones.
// Nothing about STUN or TURN is written here: an operator's settings reach the page that way.

import { ICE_SERVERS, toService } from "./protocol/signaling.js";

const RENEW_MARGIN_S = 60; // ask again this long before the credentials expire
const ANSWER_TIMEOUT_MS = 5000;

/** The RTCConfiguration an `ice-servers` message describes (no servers before one came). */
export function rtcConfiguration(message) {
  return {
    iceServers: Array.isArray(message?.iceServers) ? message.iceServers : [],
    iceTransportPolicy: message?.iceTransportPolicy === "relay" ? "relay" : "all",
  };
}

/** Whether the credentials of `message` are too close to their expiry at `nowS` (Unix s). */
export function needsRenewal(message, nowS) {
  return typeof message?.expires === "number" && nowS >= message.expires - RENEW_MARGIN_S;
}

/** The ICE servers last handed out on one signaling socket (a SignalingSocket). */
export class IceServers {
  constructor(signaling) {
    this.signaling = signaling;
    this.message = null;
    this.waiters = [];
    signaling.addEventListener("message", ({ detail }) => {
      if (detail.type !== ICE_SERVERS) return;
      this.message = detail;
      for (const resolve of this.waiters.splice(0)) resolve();
    });
  }

  /** Resolve to an RTCConfiguration whose credentials are still good. */
  async configuration() {
    if (this.message === null || needsRenewal(this.message, Date.now() / 1000)) {
      let timer;
      const answered = new Promise((resolve) => {
        this.waiters.push(resolve);
        timer = setTimeout(resolve, ANSWER_TIMEOUT_MS); // then go on with what there is
      });
      this.signaling.send(toService.askIceServers());
      await answered;
      clearTimeout(timer);
    }
    return rtcConfiguration(this.message);
  }
}

/**
 * Hand each local candidate of `pc` to `send` as soon as it is found ({candidate}, and
 * {candidate: null} once gathering is over), and collect the errors of STUN/TURN servers.
 * Returns the list of those errors, as text, for messages to a person.
 */
export function trickle(pc, send) {
  const errors = [];
  pc.addEventListener("icecandidate", ({ candidate }) => {
    send({ candidate: candidate?.candidate ? candidate.toJSON() : null });
  });
  pc.addEventListener("icecandidateerror", (event) => {
    errors.push(describeCandidateError(event));
  });
  return errors;
}

/** "turn:127.0.0.1:3478?transport=udp refused: 401 Unauthorized", from an icecandidateerror. */
export function describeCandidateError({ url, errorCode, errorText }) {
  const server = url || "a STUN/TURN server";
  if (errorCode === 401)
    return `${server} refused the credentials (401 ${errorText || "Unauthorized"})`;
  if (errorCode >= 700) return `${server} could not be reached (${errorText || errorCode})`;
  return `${server} answered ${errorCode} ${errorText || ""}`.trim();
}

/**
 * Candidates from the other peer, added once its description is in place: a candidate that
 * arrives first waits, and one the browser rejects is reported, never thrown.
 */
export class RemoteCandidates {
  constructor(pc, onError = (error) => console.warn("PeerServer: ICE candidate:", error)) {
    this.pc = pc;
    this.onError = onError;
    this.pending = [];
  }

  add(candidate) {
    if (
      candidate !== null &&
      (typeof candidate !== "object" || typeof candidate.candidate !== "string")
    ) {
      this.onError(new Error("a malformed ICE candidate was ignored"));
      return;
    }
    if (this.pc.remoteDescription === null) this.pending.push(candidate);
    else this.apply(candidate);
  }

  /** Call once the remote description is set. */
  flush() {
    for (const candidate of this.pending.splice(0)) this.apply(candidate);
  }

  apply(candidate) {
    // null means "no more candidates" (end-of-candidates).
    this.pc.addIceCandidate(candidate ?? undefined).catch(this.onError);
  }
}

/**
 * Why a peer connection found no path, in words for a person; for the service's operator, it
 * says whether a relay (TURN) server was offered, which paths across firewalls need.
 */
export function noPathMessage(configuration, errors) {
  const relayOnly = configuration.iceTransportPolicy === "relay";
  const urls = (configuration.iceServers ?? []).flatMap(({ urls }) => [urls].flat());
  const relayOffered = urls.some((url) => /^turns?:/.test(url));
  let text;
  if (relayOnly) text = "No connection through the relay (TURN) server could be made.";
  else if (relayOffered)
    text =
      "No network path to the server tab could be found, not even through the relay (TURN) server.";
  else
    text =
      "No network path to the server tab could be found from this network, and this PeerServer " +
      "offers no relay (TURN) server to go around firewalls.";
  if (errors.length) text += ` ${[...new Set(errors)].join("; ")}.`;
  return text;
}
