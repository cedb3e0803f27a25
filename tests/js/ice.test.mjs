// runtime/ice.js: the ICE servers handed out by signaling, and candidates from the other peer
// (untrusted input: whatever arrives over signaling must never throw).

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import {
  IceServers,
  RemoteCandidates,
  describeCandidateError,
  needsRenewal,
  noPathMessage,
  rtcConfiguration,
} from "../../runtime/ice.js";

const TURN = { urls: ["turn:127.0.0.1:3478"], username: "1700000600:peer1", credential: "x" };

test("an ice-servers message becomes an RTCConfiguration", () => {
  const message = {
    type: "ice-servers",
    iceServers: [TURN],
    iceTransportPolicy: "relay",
    expires: 1,
  };
  assert.deepEqual(rtcConfiguration(message), { iceServers: [TURN], iceTransportPolicy: "relay" });
  assert.deepEqual(rtcConfiguration(null), { iceServers: [], iceTransportPolicy: "all" });
  assert.deepEqual(rtcConfiguration({ iceServers: "nope", iceTransportPolicy: "sideways" }), {
    iceServers: [],
    iceTransportPolicy: "all",
  });
});

test("credentials are renewed a minute before they expire, never without an expiry", () => {
  assert.equal(needsRenewal({ expires: 1000 }, 900), false);
  assert.equal(needsRenewal({ expires: 1000 }, 940), true);
  assert.equal(needsRenewal({ expires: null }, 1e12), false);
});

class FakeSignaling extends EventTarget {
  constructor() {
    super();
    this.sent = [];
  }
  send(message) {
    this.sent.push(message);
  }
  deliver(message) {
    this.dispatchEvent(new CustomEvent("message", { detail: message }));
  }
}

test("IceServers asks again when its credentials are old, and uses the answer", async () => {
  const signaling = new FakeSignaling();
  const ice = new IceServers(signaling);
  signaling.deliver({ type: "ice-servers", iceServers: [TURN], expires: Date.now() / 1000 + 3600 });
  assert.deepEqual((await ice.configuration()).iceServers, [TURN]);
  assert.deepEqual(signaling.sent, []);
  signaling.deliver({ type: "ice-servers", iceServers: [TURN], expires: Date.now() / 1000 + 10 });
  const fresh = { ...TURN, username: "later:peer1" };
  const asked = ice.configuration();
  assert.deepEqual(signaling.sent, [{ type: "ice-servers" }]);
  signaling.deliver({
    type: "ice-servers",
    iceServers: [fresh],
    expires: Date.now() / 1000 + 3600,
  });
  assert.deepEqual((await asked).iceServers, [fresh]);
});

/** A peer connection that takes whatever it is given (`refuse`: that refuses all of it, as a
 * browser refuses a candidate it cannot parse). */
class FakePeerConnection {
  constructor({ refuse = false } = {}) {
    this.remoteDescription = null;
    this.added = [];
    this.refuse = refuse;
  }
  addIceCandidate(candidate) {
    this.added.push(candidate);
    return this.refuse ? Promise.reject(new Error("refused")) : Promise.resolve();
  }
}

test("remote candidates wait for the remote description, in order", async () => {
  const pc = new FakePeerConnection();
  const candidates = new RemoteCandidates(pc);
  const first = { candidate: "candidate:1 1 udp 1 127.0.0.1 5000 typ host", sdpMid: "0" };
  candidates.add(first);
  candidates.add(null);
  assert.deepEqual(pc.added, []);
  pc.remoteDescription = { type: "answer" };
  candidates.flush();
  assert.deepEqual(pc.added, [first, undefined]);
});

test("whatever arrives as a candidate never throws; only candidate-shaped ones are added", async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.jsonValue()), fc.boolean(), async (values, refuse) => {
      const pc = new FakePeerConnection({ refuse });
      pc.remoteDescription = { type: "offer" };
      const errors = [];
      const candidates = new RemoteCandidates(pc, (error) => errors.push(error));
      for (const value of values) candidates.add(value);
      await new Promise((resolve) => setImmediate(resolve));
      // RemoteCandidates' own check: null (the end), or an object with a string candidate.
      const shaped = values.filter(
        (v) =>
          v === null ||
          (typeof v === "object" && !Array.isArray(v) && typeof v.candidate === "string"),
      );
      assert.deepEqual(
        pc.added,
        shaped.map((v) => v ?? undefined),
      );
      // The malformed are reported, and so is what the browser refuses: nothing is thrown.
      const refused = refuse ? shaped.length : 0;
      assert.equal(errors.length, values.length - shaped.length + refused);
    }),
  );
});
test("what a person is told when no path is found", () => {
  const refused = describeCandidateError({
    url: "turn:127.0.0.1:3478?transport=udp",
    errorCode: 401,
    errorText: "Unauthorized",
  });
  assert.equal(
    refused,
    "turn:127.0.0.1:3478?transport=udp refused the credentials (401 Unauthorized)",
  );
  assert.match(
    describeCandidateError({ url: "stun:x", errorCode: 701, errorText: "" }),
    /stun:x could not be reached/,
  );
  assert.equal(
    noPathMessage({ iceTransportPolicy: "relay" }, [refused, refused]),
    `No connection through the relay (TURN) server could be made. ${refused}.`,
  );
  assert.equal(
    noPathMessage({ iceTransportPolicy: "all", iceServers: [] }, []),
    "No network path to the server tab could be found from this network, and this PeerServer " +
      "offers no relay (TURN) server to go around firewalls.",
  );
  const turn = [{ urls: ["stun:x:3478", "turn:x:3478?transport=udp"] }];
  assert.match(
    noPathMessage({ iceTransportPolicy: "all", iceServers: turn }, []),
    /not even through the relay \(TURN\) server\.$/,
  );
});
