// runtime/signaling-socket.js: reconnection waits with jitter.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { retryDelay, SignalingSocket } from "../../runtime/signaling-socket.js";

test("a reconnection wait lies in the upper half of its ceiling", () => {
  assert.equal(
    retryDelay(1000, () => 0),
    500,
  );
  assert.equal(
    retryDelay(1000, () => 0.999),
    999.5,
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 60000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (ceiling, draw) => {
        const wait = retryDelay(ceiling, () => draw);
        return wait >= ceiling / 2 && wait <= ceiling;
      },
    ),
  );
});

test("a socket that keeps dropping waits longer each time, and never more than 5 s", () => {
  const waits = [];
  const realSetTimeout = globalThis.setTimeout;
  const realWebSocket = globalThis.WebSocket;
  const sockets = [];
  globalThis.WebSocket = class extends EventTarget {
    constructor(url) {
      super();
      this.url = url;
      sockets.push(this);
    }
  };
  globalThis.setTimeout = (run, ms) => {
    waits.push(ms);
    run(); // connect again at once: the next socket drops too
  };
  try {
    const signaling = new SignalingSocket("ws://service/ws/server");
    for (let drop = 0; drop < 10; drop++) sockets.at(-1).dispatchEvent(new Event("close"));
    signaling.stopped = true;
  } finally {
    globalThis.setTimeout = realSetTimeout;
    globalThis.WebSocket = realWebSocket;
  }
  const ceilings = [500, 1000, 2000, 4000, 5000, 5000, 5000, 5000, 5000, 5000];
  assert.equal(waits.length, 10);
  waits.forEach((wait, n) => {
    assert.ok(wait >= ceilings[n] / 2 && wait <= ceilings[n], `wait ${n}: ${wait}`);
  });
  assert.ok(Math.max(...waits) <= 5000);
});
