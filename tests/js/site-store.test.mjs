// runtime/site-store.js: what a site's Python worker (untrusted: it runs a stranger's code as
// readily as the owner's) may ask the server tab to save.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { ROOTS } from "../../runtime/site-files.js";
import { ChangeError, checkChanges, storageKey } from "../../runtime/server-tab/site-store.js";

const FILE = 0o100644;
const DIRECTORY = 0o040755;
const file = (path, root = "site") => ({
  root,
  path,
  mode: FILE,
  timestamp: 1,
  contents: new Uint8Array(3),
});

test("files and directories of the site's two trees are kept, with only their own fields", () => {
  const changes = checkChanges({
    put: [
      { ...file("templates/index.html"), extra: "dropped" },
      { root: "state", path: "cookies", mode: DIRECTORY, timestamp: 2 },
    ],
    remove: [{ root: "site", path: "old.py" }],
  });
  assert.deepEqual(
    changes.put.map(({ root, path }) => `${root}:${path}`),
    ["site:templates/index.html", "state:cookies"],
  );
  assert.equal("extra" in changes.put[0], false);
  assert.deepEqual(changes.remove, [{ root: "site", path: "old.py" }]);
  assert.equal(storageKey("notes", "site", "app.py"), "/peerserver/notes/app.py");
});

test("paths out of a tree, and other roots, are refused", () => {
  for (const path of [
    "../other/app.py",
    "a/../../b",
    "/etc/passwd",
    "a//b",
    ".",
    "",
    "a\0b",
    "x/.",
  ]) {
    assert.throws(() => checkChanges({ put: [file(path)], remove: [] }), ChangeError, path);
    assert.throws(() => checkChanges({ put: [], remove: [{ root: "site", path }] }), ChangeError);
  }
  // The last two found by the property below: keys that throw when converted to a string.
  for (const root of [
    "web",
    "__proto__",
    "toString",
    undefined,
    { toString: undefined },
    { toString: undefined, valueOf: undefined },
  ]) {
    assert.throws(() => checkChanges({ put: [{ ...file("a"), root }], remove: [] }), ChangeError);
  }
});

test("only files with bytes and directories: no links, no contents of the wrong kind", () => {
  const link = { root: "site", path: "l", mode: 0o120777, timestamp: 1 };
  assert.throws(() => checkChanges({ put: [link], remove: [] }), ChangeError);
  assert.throws(
    () => checkChanges({ put: [{ ...file("a"), contents: "text" }], remove: [] }),
    ChangeError,
  );
  assert.throws(
    () => checkChanges({ put: [{ ...file("d"), mode: DIRECTORY }], remove: [] }),
    ChangeError,
  );
  assert.throws(
    () => checkChanges({ put: [{ ...file("a"), timestamp: NaN }], remove: [] }),
    ChangeError,
  );
  const unprintable = { root: "site", path: { toString: undefined } };
  assert.throws(() => checkChanges({ put: [], remove: [unprintable] }), ChangeError);
});

test("anything a worker sends is either changes inside the site's trees or a ChangeError", () => {
  const segment = fc.oneof(fc.constantFrom("..", ".", "", "app.py", "instance"), fc.string());
  const entry = fc.record(
    {
      root: fc.oneof(fc.constantFrom("site", "state", "web"), fc.anything()),
      path: fc.oneof(
        fc.array(segment, { maxLength: 5 }).map((parts) => parts.join("/")),
        fc.anything(),
      ),
      mode: fc.oneof(fc.constantFrom(FILE, DIRECTORY, 0o120777), fc.anything()),
      timestamp: fc.oneof(fc.integer(), fc.anything()),
      contents: fc.oneof(fc.uint8Array({ maxLength: 4 }), fc.anything()),
    },
    { requiredKeys: [] },
  );
  const changes = fc.oneof(
    fc.record({
      put: fc.array(entry, { maxLength: 4 }),
      remove: fc.array(entry, { maxLength: 4 }),
    }),
    fc.anything(),
  );
  fc.assert(
    fc.property(changes, (sent) => {
      let checked;
      try {
        checked = checkChanges(sent);
      } catch (error) {
        assert.ok(error instanceof ChangeError, String(error));
        return;
      }
      for (const { root, path } of [...checked.put, ...checked.remove]) {
        const key = storageKey("site-name", root, path);
        assert.ok(key.startsWith(`${ROOTS[root]}/site-name/`));
        assert.ok(
          !key
            .split("/")
            .slice(1)
            .some((part) => ["", ".", ".."].includes(part)),
          key,
        );
      }
    }),
    { numRuns: 2000 },
  );
});
