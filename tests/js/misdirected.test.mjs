// runtime/visitor/misdirected.js: a request a tab refused unrun (421) is sent again, body and
// all; anything else reaches the page as it came.

import assert from "node:assert/strict";
import { test } from "node:test";

import { KeptBody, unlessMisdirected } from "../../runtime/visitor/misdirected.js";

function recorder() {
  const events = [];
  return {
    events,
    sink: {
      opened: () => events.push("opened"),
      head: (head) => events.push(`head ${head.status}`),
      data: (bytes) => events.push(`data ${bytes.length}`),
      end: () => events.push("end"),
      error: (message) => events.push(`error ${message}`),
    },
  };
}

test("a 421 that can be sent again reaches nobody, and says so once it is over", async () => {
  const { events, sink } = recorder();
  const { outcome, sink: forward } = unlessMisdirected(sink, () => true);
  forward.opened({});
  forward.head({ status: 421 });
  forward.data(new Uint8Array(5));
  forward.end();
  assert.equal(await outcome, "misdirected");
  assert.deepEqual(events, ["opened"]);
});

test("any other answer, or a 421 that cannot be sent again, goes to the page as it came", async () => {
  for (const [status, canRetry] of [
    [200, true],
    [503, true],
    [421, false],
  ]) {
    const { events, sink } = recorder();
    const { outcome, sink: forward } = unlessMisdirected(sink, () => canRetry);
    forward.head({ status });
    assert.equal(await outcome, "answered"); // as soon as its head came
    forward.data(new Uint8Array(2));
    forward.end();
    assert.deepEqual(events, [`head ${status}`, "data 2", "end"]);
  }
  const { events, sink } = recorder();
  const { outcome, sink: forward } = unlessMisdirected(sink, () => true);
  forward.error("the connection closed");
  assert.equal(await outcome, "answered");
  assert.deepEqual(events, ["error the connection closed"]);
});

async function* pieces(...sizes) {
  for (const size of sizes) yield new Uint8Array(size).fill(size);
}

async function all(iterable) {
  const read = [];
  for await (const piece of iterable) read.push(...piece);
  return read;
}

test("a streamed body is kept as it is read, and read again from what was kept", async () => {
  const body = new KeptBody(pieces(3, 5));
  const first = await all(body.pieces());
  assert.equal(body.whole, true);
  assert.deepEqual(await all(body.pieces()), first);
});

test("a body larger than what is kept cannot be sent again", async () => {
  const body = new KeptBody(pieces(6, 6), 10);
  assert.equal((await all(body.pieces())).length, 12);
  assert.equal(body.whole, false);
  await assert.rejects(all(body.pieces()), /too large/);
});
