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

/** Run `body(sockets)` with a stand-in WebSocket that records each one made (its URL). */
async function withFakeWebSocket(body) {
  const realWebSocket = globalThis.WebSocket;
  const sockets = [];
  globalThis.WebSocket = class extends EventTarget {
    constructor(url) {
      super();
      Object.assign(this, { url, readyState: 0 });
      sockets.push(this);
    }
  };
  try {
    await body(sockets);
  } finally {
    globalThis.WebSocket = realWebSocket;
  }
}

/** What shell.html hands over: a socket in `readyState`, with `received` kept meanwhile. */
function earlySocket(readyState, received = []) {
  const socket = Object.assign(new EventTarget(), { url: "ws://site/__ps/signal", readyState });
  const early = { socket, received, stopped: false };
  early.stop = () => {
    early.stopped = true;
  };
  return early;
}

/** The events `signaling` dispatches, as "open" or each message's type. */
function heard(signaling) {
  const events = [];
  signaling.addEventListener("open", () => events.push("open"));
  signaling.addEventListener("message", ({ detail }) => events.push(detail.type));
  return events;
}

const message = (type) => new MessageEvent("message", { data: JSON.stringify({ type }) });

test("a socket the page opened early is taken over: its open and what it heard come first", async () => {
  await withFakeWebSocket(async (sockets) => {
    const early = earlySocket(1, ['{"type":"server-status"}', "not json", '{"type":"ice"}']);
    const signaling = new SignalingSocket(early.socket.url, { early });
    const events = heard(signaling); // as SiteClient.start does, right after
    await Promise.resolve(); // the socket's next message is a task later, at the soonest
    early.socket.dispatchEvent(message("answer"));
    assert.deepEqual(events, ["open", "server-status", "ice", "answer"]);
    assert.equal(early.stopped, true);
    assert.equal(sockets.length, 0); // no second socket
    assert.equal(signaling.socket, early.socket);
  });
});

test("an early socket still connecting is taken over, and opens when it opens", async () => {
  await withFakeWebSocket(async (sockets) => {
    const early = earlySocket(0);
    const signaling = new SignalingSocket(early.socket.url, { early });
    const events = heard(signaling);
    await Promise.resolve();
    assert.deepEqual(events, []);
    early.socket.readyState = 1;
    early.socket.dispatchEvent(new Event("open"));
    early.socket.dispatchEvent(message("server-status"));
    assert.deepEqual(events, ["open", "server-status"]);
    assert.equal(sockets.length, 0);
  });
});

test("an early socket that closed already is left, and a new one opened", async () => {
  await withFakeWebSocket(async (sockets) => {
    const early = earlySocket(3, ['{"type":"server-status"}']);
    const signaling = new SignalingSocket("ws://site/__ps/signal", { early });
    const events = heard(signaling);
    await Promise.resolve();
    assert.deepEqual(events, []); // what it heard belonged to a connection that is gone
    assert.equal(early.stopped, true);
    assert.deepEqual(
      sockets.map((socket) => socket.url),
      ["ws://site/__ps/signal"],
    );
    signaling.stopped = true;
  });
});
