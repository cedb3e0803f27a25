// runtime/python-worker/running-reports.js: what the time limit is told, in as few messages as
// say it. The deferred "idle" runs when the test says the task is over.

import assert from "node:assert/strict";
import { test } from "node:test";

import { RunningReports } from "../../runtime/python-worker/running-reports.js";

function reports() {
  const posted = [];
  const due = [];
  const running = new RunningReports(
    (message) => posted.push(message),
    (run) => due.push(run),
  );
  const taskOver = () => {
    for (const run of due.splice(0)) run();
  };
  return { posted, running, taskOver };
}

test("calls in a row for one cause are one run: one busy, one idle", () => {
  const { posted, running, taskOver } = reports();
  for (let call = 0; call < 5; call++) {
    running.running({ conn: 1 });
    running.stopped();
  }
  assert.deepEqual(posted, [{ type: "busy", conn: 1 }]);
  taskOver();
  assert.deepEqual(posted, [{ type: "busy", conn: 1 }, { type: "idle" }]);
});

test("another cause is said at once; the time limit then counts it from there", () => {
  const { posted, running, taskOver } = reports();
  running.running({ conn: 1 });
  running.stopped();
  running.running({ conn: 2 });
  running.running({ sockets: true });
  assert.deepEqual(posted, [
    { type: "busy", conn: 1 },
    { type: "busy", conn: 2 },
    { type: "busy", sockets: true },
  ]);
  taskOver(); // still running: nothing more is said
  assert.equal(posted.length, 3);
});

test("a wait that outlasts the task is said, and the next run is said again", () => {
  const { posted, running, taskOver } = reports();
  running.running({ conn: 1 });
  running.stopped(); // the request waits (a sleep, a queue)
  taskOver();
  running.running({ conn: 1 }); // it runs again: its time counts from now
  running.stopped();
  taskOver();
  assert.deepEqual(
    posted.map((message) => message.type),
    ["busy", "idle", "busy", "idle"],
  );
});

test("nothing running, nothing said", () => {
  const { posted, running, taskOver } = reports();
  running.stopped();
  taskOver();
  assert.deepEqual(posted, []);
});

test("work run around is said from its start to its end, even when it throws", () => {
  const { posted, running, taskOver } = reports();
  assert.equal(
    running.around({ building: "PyYAML" }, () => 7),
    7,
  );
  assert.throws(() =>
    running.around({ conn: 3 }, () => {
      throw new Error("the site's code failed");
    }),
  );
  taskOver();
  assert.deepEqual(posted, [
    { type: "busy", building: "PyYAML" },
    { type: "busy", conn: 3 },
    { type: "idle" },
  ]);
});
