// runtime/visitor/shell-ports.js: which shell's own port the service worker sends a request to
// (the lanes of it: PortLanes, whose port is the one handed over).

import assert from "node:assert/strict";
import { test } from "node:test";

import { ShellPorts } from "../../runtime/visitor/shell-ports.js";

const port = (name) => ({ name });

test("no shell's port known: none is picked (the shell is found the old way)", () => {
  const shells = new ShellPorts();
  assert.equal(shells.pick(), null);
  shells.heard("a", { visible: true }); // news of a port this worker never had
  assert.equal(shells.pick(), null);
});

test("the shell last shown is picked, a shown one before a hidden one", () => {
  const shells = new ShellPorts();
  shells.heard("a", { visible: true }, [port("a")]);
  shells.heard("b", { visible: true }, [port("b")]);
  assert.equal(shells.pick().port.name, "b");
  shells.heard("b", { visible: false });
  assert.equal(shells.pick().port.name, "a");
  shells.heard("a", { visible: false });
  assert.equal(shells.pick().port.name, "b"); // both hidden: the one seen last
  shells.heard("a", { visible: true });
  assert.equal(shells.pick().port.name, "a");
});

test("a shell that is gone is never picked; one handing a new port is sent to on it", () => {
  const shells = new ShellPorts();
  shells.heard("a", { visible: false }, [port("a")]);
  shells.heard("b", { visible: true }, [port("b")]);
  shells.heard("b", { gone: true });
  assert.equal(shells.pick().port.name, "a");
  shells.heard("a", { visible: true }, [port("a2")]);
  assert.equal(shells.pick().port.name, "a2");
  shells.heard("a", { gone: true });
  assert.equal(shells.pick(), null);
});
