// runtime/python-worker/connections.js: the worker's end of flow control. A response leaves
// one chunk (at most one channel message) per credit the server tab grants, each connection's
// messages run in order, and one connection's wait does not hold back another's.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Connections } from "../../runtime/python-worker/connections.js";
import { MAX_MESSAGE_BYTES } from "../../runtime/protocol/channels.js";

/** A Python value as Pyodide hands it to JavaScript. */
const proxy = (value) => ({ toJs: () => value, destroy() {} });

/** server_py.worker.SiteServer with a response of `chunks` pieces waiting per connection (and,
 * with `polls`, an ASGI app or a WebSocket for its poll). */
function fakeServer(chunks, polls = false) {
  const pending = new Map();
  const server = {
    asked: [],
    polled: 0,
    polls,
    open(conn) {
      pending.set(conn, chunks);
    },
    receive() {},
    data_to_send(conn, maxBytes) {
      server.asked.push(maxBytes);
      const left = pending.get(conn) ?? 0;
      if (left === 0) return proxy(new Uint8Array());
      pending.set(conn, left - 1);
      return proxy(new Uint8Array(maxBytes).fill(left));
    },
    has_pending_output: (conn) => (pending.get(conn) ?? 0) > 0,
    should_close: (conn) => pending.get(conn) === 0,
    poll() {
      server.polled++;
      return proxy({ ran: false, ready: [], wakeMs: null });
    },
    close(conn) {
      pending.delete(conn);
    },
  };
  return server;
}

/** SiteThreads calling at once, each call as the thread it names. */
function fakeThreads() {
  let next = 1;
  const threads = {
    forgotten: [],
    newIdent: () => next++,
    call: async (_ident, _cause, method, ...args) => method(...args),
    forget: (ident) => threads.forgotten.push(ident),
  };
  return threads;
}

function connections(chunks, polls = false) {
  const server = fakeServer(chunks, polls);
  const threads = fakeThreads();
  const posted = [];
  const worker = new Connections(server, (message) => posted.push(message), threads);
  return { server, threads, posted, worker };
}

const sent = (posted, conn) => posted.filter((m) => m.type === "send" && m.conn === conn).length;
const ended = (posted, conn) => posted.some((m) => m.type === "end" && m.conn === conn);

test("a response leaves a chunk per credit: eight at first, then as the tab grants more", async () => {
  const { server, posted, worker } = connections(20);
  worker.open({ conn: 1, scheme: "http", client: "visitor 1", identity: "" });
  await worker.pump(1);
  assert.equal(sent(posted, 1), 8);
  assert.equal(ended(posted, 1), false);
  await worker.grant(1, 3);
  assert.equal(sent(posted, 1), 11);
  await worker.grant(1, 100);
  assert.equal(sent(posted, 1), 20);
  assert.equal(ended(posted, 1), true); // done, and ended once
  assert.equal(posted.filter((m) => m.type === "end").length, 1);
  assert.ok(server.asked.every((bytes) => bytes === MAX_MESSAGE_BYTES));
  assert.ok(posted.every((m) => m.type !== "send" || m.bytes.length <= MAX_MESSAGE_BYTES));
});

test("a closed connection takes no more credit and its thread is forgotten", async () => {
  const { threads, posted, worker } = connections(20);
  worker.open({ conn: 1, scheme: "https", client: "visitor 1", identity: "" });
  const thread = worker.idents.get(1);
  await worker.close(1);
  await worker.grant(1, 5);
  assert.equal(sent(posted, 1), 0);
  assert.equal(worker.count, 0);
  assert.deepEqual(threads.forgotten, [thread]);
  assert.notEqual(thread, worker.sockets); // the WebSocket handlers' thread lives on
});

test("each connection's messages run in order, and a wait holds back only its own", async () => {
  const { worker } = connections(0);
  const order = [];
  let release;
  const waiting = new Promise((resolve) => {
    release = resolve;
  });
  worker.lane(1, async () => {
    await waiting; // a request that waits (a queue another request fills)
    order.push("1: first");
  });
  const second = worker.lane(1, () => order.push("1: second"));
  await worker.lane(2, () => order.push("2: only"));
  assert.deepEqual(order, ["2: only"]);
  release();
  await second;
  assert.deepEqual(order, ["2: only", "1: first", "1: second"]);
});

test("a lane's failure is heard, and the lane goes on", async () => {
  const { worker } = connections(0);
  const heard = [];
  await worker.lane(
    1,
    () => {
      throw new Error("the runtime failed");
    },
    (error) => heard.push(error.message),
  );
  await worker.lane(1, () => heard.push("next"));
  assert.deepEqual(heard, ["the runtime failed", "next"]);
});

test("a connection the runtime gave up on is ended for the tab", () => {
  const { posted, worker } = connections(3);
  worker.open({ conn: 4, scheme: "http", client: "visitor 2", identity: "" });
  worker.drop(4);
  assert.deepEqual(posted, [{ type: "end", conn: 4 }]);
  assert.equal(worker.count, 0);
});

test("the site's code is called only when there is something to send, or to poll", async () => {
  const { server, posted, worker } = connections(2);
  worker.open({ conn: 1, scheme: "http", client: "visitor 1", identity: "" });
  await worker.pump(1);
  await worker.grant(1, 5); // credit back as the channel drains: nothing is left to send
  assert.equal(sent(posted, 1), 2);
  assert.equal(server.asked.length, 2); // one call per chunk, and none for "nothing"
  assert.equal(await worker.poll(() => {}, { conn: 1 }), null);
  assert.equal(server.polled, 0); // a WSGI app with no WebSocket has nothing to poll
  const asgi = connections(0, true);
  await asgi.worker.poll(() => {}, { conn: 1 });
  assert.equal(asgi.server.polled, 1);
});

test("two pumps at once: the last chunk goes before the end, and nothing after it", async () => {
  const { posted, worker } = connections(1);
  worker.open({ conn: 1, scheme: "http", client: "visitor 1", identity: "" });
  const first = worker.pump(1); // takes the last chunk...
  const second = worker.pump(1); // ...and this one finds the response done, and ends it
  await Promise.all([first, second]);
  const types = posted.map((message) => message.type);
  assert.deepEqual(types, ["send", "end"]); // the last chunk (a WebSocket's close) goes, then the end
  assert.equal(worker.count, 0);
  await worker.grant(1, 1); // and no credit brings it back
  assert.equal(worker.count, 0);
});
