// runtime/protocol/request-worker.js: the shell page <-> request worker messages, written once.
// Each constructor gives a message of a type the module names, and no file of either end
// writes one of those types as a bare string.

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as protocol from "../../runtime/protocol/request-worker.js";
import { assertNoBareTypes, messageTypes, RUNTIME } from "./protocol-checks.mjs";

const TYPES = messageTypes(protocol);

test("every constructor makes a message of a named type, each its own", () => {
  const made = [
    ...Object.values(protocol.toWorker).map((make) => make({}, {}, 2).type),
    ...Object.values(protocol.fromWorker).map((make) => make(1, {}).type),
  ];
  for (const type of made) assert.ok(TYPES.has(type), type);
  assert.equal(new Set(made).size, made.length);
  for (const make of Object.values(protocol.questions)) assert.ok(TYPES.has(make(1, 2).type));
});

test("what a message carries is what its constructor was given", () => {
  const control = { label: "control" }; // RTCDataChannels, transferred with the message
  const first = { label: "http" };
  assert.deepEqual(
    protocol.toWorker.connect(4, { connection: 2, control, first, keepsCookies: true, extra: 1 }),
    { type: protocol.CONNECT, id: 4, connection: 2, control, first, keepsCookies: true },
  );
  const site = { scheme: "https", host: "notes.example", userAgent: "UA", jar: "[]" };
  assert.deepEqual(protocol.toWorker.start({ ...site, extra: 1 }), {
    type: protocol.START,
    ...site,
  });
  assert.deepEqual(protocol.toWorker.state("failed", "no path"), {
    type: protocol.STATE,
    state: "failed",
    reason: "no path",
  });
  assert.deepEqual(protocol.toWorker.reply(3, { value: first }), {
    type: protocol.REPLY,
    id: 3,
    value: first,
  });
  assert.deepEqual(protocol.fromWorker.lost(2, [5, 7]), {
    type: protocol.LOST,
    connection: 2,
    ids: [5, 7],
  });
  assert.deepEqual(protocol.questions.channel(2, "https;window"), {
    type: protocol.CHANNEL,
    connection: 2,
    protocol: "https;window",
  });
});

test("both ends use the module's constants, not their own strings", () => {
  const ends = ["visitor/request-worker.js", "visitor/requests-in-worker.js"];
  for (const end of ends) {
    const source = readFileSync(new URL(end, RUNTIME), "utf8");
    assert.match(source, /from "\.\.\/protocol\/request-worker\.js"/);
  }
  assertNoBareTypes(TYPES, ends, "runtime/protocol/request-worker.js");
});
