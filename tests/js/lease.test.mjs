// runtime/lease.js: a serving tab's own deadline for its lease, on both its clocks.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { answerGate, Lease, MARGIN_SHARE, MIN_MARGIN_MS } from "../../runtime/lease.js";

const at = (mono, wall = 1_700_000_000_000 + mono) => ({ mono, wall });

test("a lease counts from when it was asked, and ends a margin before the service's", () => {
  const lease = new Lease();
  assert.equal(lease.valid(at(0)), false); // none yet
  const n = lease.ask(at(1000));
  assert.equal(lease.granted(n, 10, 4), true);
  // The service's lease runs from when the request arrived (after 1000): 10 s. The tab's
  // ends 20% sooner, from when it asked.
  assert.equal(lease.valid(at(1000 + 7999)), true);
  assert.equal(lease.valid(at(1000 + 8000)), false);
  assert.equal(lease.remaining(at(2000)), 7000);
  assert.equal(lease.epoch, 4);
});

test("a short lease keeps a margin of a second at least", () => {
  const lease = new Lease();
  lease.granted(lease.ask(at(0)), 3, 1);
  assert.equal(lease.valid(at(2000 - 1)), true);
  assert.equal(lease.valid(at(2000)), false);
});

test("a machine that slept past its deadline does not believe it still holds the lease", () => {
  const lease = new Lease();
  lease.granted(lease.ask(at(0)), 10, 1);
  // Asleep for an hour: the monotonic clock stood still, the wall clock did not.
  assert.equal(lease.valid({ mono: 10, wall: 1_700_000_000_000 + 3_600_000 }), false);
  // A wall clock set back does not lengthen it either.
  assert.equal(lease.valid({ mono: 9000, wall: 1_700_000_000_000 - 60_000 }), false);
});

test("an answer to no request of this tab's, or to one sent before it lost its lease, grants nothing", () => {
  const lease = new Lease();
  assert.equal(lease.granted(7, 10, 1), false);
  const n = lease.ask(at(0));
  lease.end();
  assert.equal(lease.granted(n, 10, 1), false);
  assert.equal(lease.valid(at(1)), false);
  assert.equal(lease.granted(lease.ask(at(0)), 0, 1), false);
});

test("whatever the delays, the tab's deadline is before the service's", () => {
  fc.assert(
    fc.property(
      fc.double({ min: 1, max: 3600, noNaN: true }), // the lease, s
      fc.nat(10_000), // when the tab asks, ms
      fc.nat(5_000), // the request's way to the service, ms
      (seconds, asked, delay) => {
        const lease = new Lease();
        lease.granted(lease.ask(at(asked)), seconds, 1);
        const serviceEnd = asked + delay + seconds * 1000; // the service counts from arrival
        const margin = Math.max(MIN_MARGIN_MS, seconds * 1000 * MARGIN_SHARE);
        assert.equal(lease.valid(at(serviceEnd - margin)), false);
        assert.equal(lease.valid(at(serviceEnd)), false);
      },
    ),
  );
});

test("the answer gate: a tab answers while it serves, and within its lease once it fences", () => {
  const deadline = { mono: 5000, wall: 1_700_000_005_000 };
  const gate = (state, now = at(1000)) =>
    answerGate({ open: true, moving: false, fencing: false, deadline: null, ...state }, now);
  assert.deepEqual(gate({}), { mayAnswer: true, admit: "yes" }); // no standby: no lease needed
  assert.deepEqual(gate({ open: false }), { mayAnswer: false, admit: "no" });
  assert.deepEqual(gate({ moving: true }), { mayAnswer: true, admit: "hold" });
  assert.deepEqual(gate({ fencing: true }), { mayAnswer: false, admit: "no" }); // no lease
  assert.deepEqual(gate({ fencing: true, deadline }), { mayAnswer: true, admit: "yes" });
  assert.equal(gate({ fencing: true, deadline }, at(5000)).mayAnswer, false);
  // Either clock past the deadline is enough: a wall clock set back, or a machine that slept.
  assert.equal(
    gate({ fencing: true, deadline }, { mono: 1000, wall: 1_800_000_000_000 }).mayAnswer,
    false,
  );
  assert.equal(
    gate({ fencing: true, deadline }, { mono: 9000, wall: 1_700_000_001_000 }).mayAnswer,
    false,
  );
  assert.deepEqual(gate({ open: false, moving: true }), { mayAnswer: false, admit: "hold" });
});
