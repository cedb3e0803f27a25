// runtime/receive-window.js: the window a visitor grants a server tab, and what it grants back.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { INITIAL_WINDOW, ReadAccount, SendWindow } from "../../runtime/receive-window.js";

test("a server tab sends up to its window, and on as the visitor grants more", () => {
  const window = new SendWindow(100);
  window.spend(60);
  assert.equal(window.open, true);
  window.spend(60);
  assert.equal(window.open, false);
  assert.equal(window.grant(30), true);
  assert.equal(window.open, true);
  assert.equal(new SendWindow().bytes, INITIAL_WINDOW);
});

test("grants from the network are numbers of bytes or nothing", () => {
  fc.assert(
    fc.property(fc.anything(), (value) => {
      const window = new SendWindow(0);
      const taken = window.grant(value);
      assert.equal(taken, Number.isSafeInteger(value) && value > 0 && value <= 64 * 1024 * 1024);
      assert.ok(window.bytes >= 0 && window.bytes <= 64 * 1024 * 1024);
    }),
  );
});

test("what the page read goes back in steps, and a complete response's rest with it", () => {
  const account = new ReadAccount(100);
  account.receive(250);
  assert.equal(account.grantFor(250), 0); // nothing read yet
  assert.equal(account.grantFor(200), 0); // 50 read: less than a step
  assert.equal(account.grantFor(100), 150);
  assert.equal(account.grantFor(100), 0);
  assert.equal(account.complete(), 100);
  assert.equal(account.complete(), 0);
});

test("small responses are given back together, once they make a step", () => {
  const account = new ReadAccount(100);
  account.receive(40);
  assert.equal(account.complete(), 0);
  account.receive(40);
  assert.equal(account.complete(), 0);
  account.receive(40);
  assert.equal(account.complete(), 120);
});

test("over a channel's responses, what is kept back stays under a step", () => {
  const response = fc.array(fc.tuple(fc.nat(70000), fc.nat(100)), { maxLength: 10 });
  fc.assert(
    fc.property(
      fc.array(response, { maxLength: 10 }),
      fc.integer({ min: 1, max: 100000 }),
      (responses, step) => {
        const account = new ReadAccount(step);
        let granted = 0;
        let received = 0;
        for (const steps of responses) {
          for (const [count, unreadPercent] of steps) {
            account.receive(count);
            received += count;
            granted += account.grantFor(Math.floor(((received - granted) * unreadPercent) / 100));
            assert.ok(granted <= received);
          }
          granted += account.complete();
          assert.ok(granted <= received && received - granted < step);
        }
      },
    ),
  );
});
