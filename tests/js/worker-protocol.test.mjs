// runtime/protocol/worker.js: the server tab <-> Python worker messages, written once. Each
// constructor gives a message of a type the module names, the sets hold only such types, and
// no file of either end writes one of those types as a bare string.

import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";

import * as protocol from "../../runtime/protocol/worker.js";
import { assertNoBareTypes, messageTypes, RUNTIME } from "./protocol-checks.mjs";

const TYPES = messageTypes(protocol);

test("every constructor makes a message of a named type", () => {
  const made = [
    ...Object.values(protocol.toWorker).map((make) => make({}, 1, 2).type),
    ...Object.values(protocol.fromWorker).map((make) => make({}, 1, 2).type),
    ...Object.values(protocol.questions).map((make) => make({}).type),
  ];
  for (const type of made) assert.ok(TYPES.has(type), type);
  assert.equal(new Set(made).size, made.length - 1); // "stats" goes both ways
  for (const type of [...protocol.CONNECTION_MESSAGES, ...protocol.FORWARDED]) {
    assert.ok(TYPES.has(type), type);
  }
});

test("what a message carries is what its constructor was given", () => {
  const bytes = new Uint8Array([1, 2, 3]);
  assert.deepEqual(protocol.toWorker.data(7, bytes), { type: protocol.DATA, conn: 7, bytes });
  assert.deepEqual(
    protocol.toWorker.open({ conn: 1, scheme: "https", client: "visitor 2", identity: "" }),
    {
      type: protocol.OPEN,
      conn: 1,
      scheme: "https",
      client: "visitor 2",
      identity: "",
    },
  );
  assert.deepEqual(protocol.fromWorker.result(3, { error: "no" }), {
    type: protocol.RESULT,
    id: 3,
    error: "no",
  });
  assert.deepEqual(protocol.fromWorker.busy({ conn: 4 }), { type: protocol.BUSY, conn: 4 });
  const state = { open: true, moving: false, fencing: true, deadline: { mono: 9, wall: 10 } };
  assert.deepEqual(protocol.toWorker.gate(5, state), { type: protocol.GATE, id: 5, state });
  const channel = { label: "http" }; // an RTCDataChannel, transferred with the message
  assert.deepEqual(
    protocol.toWorker.channel({ conn: 2, channel, client: "visitor 1", identity: "", extra: 1 }),
    { type: protocol.CHANNEL, conn: 2, channel, client: "visitor 1", identity: "" },
  );
  assert.deepEqual(protocol.toWorker.held("refuse"), { type: protocol.HELD, what: "refuse" });
  assert.deepEqual(protocol.fromWorker.closed(2), { type: protocol.CLOSED, conn: 2 });
});

test("no file of either end writes a message type as a bare string", () => {
  const files = [
    ...readdirSync(new URL("python-worker/", RUNTIME)).map((name) => `python-worker/${name}`),
    "server-tab/python-process.js",
    "server-tab/python-snapshot.js",
    "http-channels.js",
    "server-tab/test-run.js",
  ];
  assertNoBareTypes(TYPES, files, "runtime/protocol/worker.js");
});

test("the server tab gives credit back in batches no larger than a connection starts with", () => {
  // Larger, and a worker that used all its credit would wait for a batch that never fills.
  assert.ok(protocol.CREDIT_BATCH >= 1 && protocol.CREDIT_BATCH <= protocol.INITIAL_CREDIT);
});
