// runtime/signaling-socket.js: reconnection waits with jitter.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { retryDelay } from "../../runtime/signaling-socket.js";

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
