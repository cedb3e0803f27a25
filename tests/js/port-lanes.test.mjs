// runtime/protocol/port-lanes.js: many conversations over one MessagePort, each as if it had
// a port of its own; over a real MessageChannel, as between a shell and its service worker.

import assert from "node:assert/strict";
import { test } from "node:test";

import { PortLanes } from "../../runtime/protocol/port-lanes.js";

const ends = (message) => message.type === "end";

function pair(opened) {
  const { port1, port2 } = new MessageChannel();
  const opener = new PortLanes(port1, { ends });
  const taker = new PortLanes(port2, { opens: (m) => m.type === "fetch", opened, ends });
  const done = () => {
    port1.close();
    port2.close();
  };
  return { opener, taker, done };
}

/** The next message on `lane`. */
const next = (lane) => new Promise((resolve) => (lane.onmessage = ({ data }) => resolve(data)));

test("lanes keep their conversations apart, bytes moved, and end with their last message", async (t) => {
  const taken = [];
  const { opener, taker, done } = pair((lane, message) => {
    taken.push(message.path);
    lane.postMessage({ type: "head", path: message.path });
    const bytes = new Uint8Array([1, 2, 3]);
    lane.postMessage({ type: "data", bytes }, [bytes.buffer]);
    lane.postMessage({ type: "end" });
  });
  t.after(done); // a test that fails leaves no port to keep Node waiting
  const a = opener.open();
  const b = opener.open();
  const heard = (lane) => {
    const messages = [];
    return new Promise((resolve) => {
      lane.onmessage = ({ data }) => {
        messages.push(data);
        if (data.type === "end") resolve(messages);
      };
    });
  };
  const [fromA, fromB] = [heard(a), heard(b)];
  a.postMessage({ type: "fetch", path: "/a" });
  b.postMessage({ type: "fetch", path: "/b" });
  const [messagesA, messagesB] = await Promise.all([fromA, fromB]);
  assert.deepEqual(taken, ["/a", "/b"]);
  assert.deepEqual(messagesA[0], { type: "head", path: "/a" });
  assert.deepEqual(messagesB[0], { type: "head", path: "/b" });
  assert.deepEqual([...messagesA[1].bytes], [1, 2, 3]);
  assert.equal(opener.lanes.size, 0); // both ends forgot them
  assert.equal(taker.lanes.size, 0);
});

test("late news of an ended lane, and messages that open nothing, are dropped", async (t) => {
  const opened = [];
  const { opener, taker, done } = pair((lane, message) => opened.push([lane, message]));
  t.after(done);
  const lane = opener.open();
  lane.postMessage({ type: "fetch", path: "/x" });
  lane.postMessage({ type: "end" }); // its last: closed here, and there when it arrives
  lane.postMessage({ type: "more" }); // after its end: not sent
  opener.port.postMessage({ lane: 99, type: "more" }); // a lane never opened
  opener.port.postMessage({ type: "fetch" }); // no lane at all
  const seen = opener.open();
  const answered = next(seen);
  seen.postMessage({ type: "fetch", path: "/y" });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(
    opened.map(([, message]) => message.path),
    ["/x", "/y"],
  );
  opened[1][0].postMessage({ type: "end" });
  assert.deepEqual(await answered, { type: "end" });
  assert.equal(taker.lanes.size, 0);
});
