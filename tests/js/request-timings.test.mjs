// runtime/request-timings.js: the marks the benchmarks' waterfall is drawn from.

import assert from "node:assert/strict";
import { test } from "node:test";

import { RequestTimings, now } from "../../runtime/request-timings.js";

test("marks come back oldest first, with the time given or now", () => {
  const timings = new RequestTimings(8);
  const before = now();
  timings.mark("/a", "shell", 5);
  timings.mark("/a", "server-tab");
  const [first, second] = timings.entries();
  assert.deepEqual(first, ["/a", "shell", 5]);
  assert.equal(second[1], "server-tab");
  assert.ok(second[2] >= before && second[2] <= now());
});

test("only the last marks are kept, in order", () => {
  const timings = new RequestTimings(4);
  for (let i = 0; i < 10; i++) timings.mark(`/${i}`, "shell", i);
  assert.deepEqual(
    timings.entries().map(([target]) => target),
    ["/6", "/7", "/8", "/9"],
  );
});
