// runtime/server-tab/watchdog.js: the time limit on the site's code, with timers driven by hand.

import assert from "node:assert/strict";
import { test } from "node:test";

import { Watchdog } from "../../runtime/server-tab/watchdog.js";

function fakeTimers() {
  const timers = new Map();
  let next = 1;
  return {
    timers,
    setTimer: (run, ms) => {
      timers.set(next, { run, ms });
      return next++;
    },
    clearTimer: (id) => timers.delete(id),
    fire: () => {
      for (const [id, { run }] of [...timers]) {
        timers.delete(id);
        run();
      }
    },
  };
}

test("what runs past the limit is reported once, with what it was; what ends in time is not", () => {
  const clock = fakeTimers();
  const expired = [];
  const watchdog = new Watchdog({
    limitMs: 2000,
    onExpired: (info) => expired.push(info),
    ...clock,
  });
  watchdog.busy({ conn: 1 });
  watchdog.idle();
  assert.equal(clock.timers.size, 0);
  watchdog.busy({ call: 7, method: "console" });
  assert.deepEqual(
    [...clock.timers.values()].map(({ ms }) => ms),
    [2000],
  );
  watchdog.busy({ conn: 2 }); // what runs next restarts the clock
  assert.equal(clock.timers.size, 1);
  clock.fire();
  assert.deepEqual(expired, [{ conn: 2 }]);
  watchdog.limitMs = 5000;
  watchdog.busy({ loading: true });
  assert.deepEqual(
    [...clock.timers.values()].map(({ ms }) => ms),
    [5000],
  );
});

test("time the page spends frozen does not count against the site's code", () => {
  const clock = fakeTimers();
  let now = 0;
  const expired = [];
  const watchdog = new Watchdog({
    limitMs: 2000,
    onExpired: (info) => expired.push(info),
    now: () => now,
    ...clock,
  });
  watchdog.busy({ conn: 1 });
  now = 500;
  watchdog.frozen();
  assert.equal(clock.timers.size, 0); // nothing fires while frozen
  now = 60_000; // a minute in the background
  watchdog.resumed();
  assert.deepEqual(
    [...clock.timers.values()].map(({ ms }) => ms),
    [1500], // what it had left before the freeze
  );
  watchdog.idle();
  assert.deepEqual(expired, []);
  // What starts while frozen starts its clock when the page runs again.
  watchdog.frozen();
  watchdog.busy({ conn: 2 });
  assert.equal(clock.timers.size, 0);
  now = 90_000;
  watchdog.resumed();
  clock.fire();
  assert.deepEqual(expired, [{ conn: 2 }]);
});
