// runtime/python-worker/request-log.js: the request log's lines go with the worker's next
// message, in order, or on their own once FLUSH_AFTER_MS passes with nothing else said.

import assert from "node:assert/strict";
import { test } from "node:test";

import { fromWorker } from "../../runtime/protocol/worker.js";
import { RequestLog } from "../../runtime/python-worker/request-log.js";

function requestLog() {
  const posted = [];
  const due = [];
  const log = new RequestLog(
    (message) => posted.push(log.attach(message)),
    (run) => due.push(run),
  );
  const later = () => {
    for (const run of due.splice(0)) run();
  };
  return { posted, log, later };
}

const line = (target) => ({ method: "GET", target, status: 200 });

test("lines go with the next message, in order, and once", () => {
  const { posted, log, later } = requestLog();
  log.add(line("/a"));
  log.add(line("/b"));
  posted.push(log.attach(fromWorker.end(1)));
  posted.push(log.attach(fromWorker.idle()));
  later(); // nothing waits: no message of their own
  assert.deepEqual(posted, [
    { type: "end", conn: 1, requests: [line("/a"), line("/b")] },
    { type: "idle" },
  ]);
});

test("lines with nothing else to go with go on their own, a while later", () => {
  const { posted, log, later } = requestLog();
  log.add(line("/a"));
  log.add(line("/b"));
  assert.deepEqual(posted, []);
  later();
  assert.deepEqual(posted, [{ type: "requests", requests: [line("/a"), line("/b")] }]);
  log.add(line("/c")); // a new while
  later();
  assert.equal(posted.length, 2);
  assert.deepEqual(posted[1].requests, [line("/c")]);
});
