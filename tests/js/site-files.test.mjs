// runtime/site-files.js over a real Emscripten file system (Pyodide's, loaded in Node): a site
// laid out from what the server tab kept, and exactly what changed sent back.

import assert from "node:assert/strict";
import { before, test } from "node:test";
import { loadPyodide } from "pyodide";

import { changesSince, describeTree, restoreTree } from "../../runtime/site-files.js";
import { checkChanges } from "../../runtime/server-tab/site-store.js";

let FS;
before(async () => {
  ({ FS } = await loadPyodide());
});

const bytes = (text) => new TextEncoder().encode(text);
const text = (data) => new TextDecoder().decode(data);

test("a kept tree comes back as it was, and unchanged it has nothing to send", () => {
  const when = Date.UTC(2026, 0, 1);
  restoreTree(FS, "/kept/site", [
    { path: "templates/index.html", mode: 0o100600, timestamp: when, contents: bytes("<p>") },
    { path: "app.py", mode: 0o100644, timestamp: when, contents: bytes("app = 1\n") },
    { path: "templates", mode: 0o40755, timestamp: when }, // after what it holds: any order
    { path: "link", mode: 0o120777, timestamp: when }, // a symbolic link IDBFS kept: skipped
  ]);
  assert.equal(FS.readFile("/kept/site/templates/index.html", { encoding: "utf8" }), "<p>");
  assert.equal(FS.stat("/kept/site/templates/index.html").mode, 0o100600);
  assert.equal(+FS.stat("/kept/site/app.py").mtime, when);
  assert.equal(FS.stat("/kept/site/templates").mode, 0o40755);
  assert.equal(FS.analyzePath("/kept/site/link").exists, false);
  const saved = describeTree(FS, "/kept/site");
  assert.deepEqual([...saved.keys()].sort(), ["app.py", "templates", "templates/index.html"]);
  const { put, remove, transfer } = changesSince(FS, "site", "/kept/site", saved);
  assert.deepEqual([put, remove, transfer], [[], [], []]);
});

test("written, added and removed files are sent, and pass the server tab's check", () => {
  restoreTree(FS, "/changing/site", [
    { path: "app.py", mode: 0o100644, timestamp: 1000, contents: bytes("old") },
    { path: "gone.txt", mode: 0o100644, timestamp: 1000, contents: bytes("bye") },
  ]);
  const saved = describeTree(FS, "/changing/site");
  FS.writeFile("/changing/site/app.py", "new");
  FS.mkdirTree("/changing/site/instance");
  FS.writeFile("/changing/site/instance/notes.db", bytes("SQLite format 3"));
  FS.unlink("/changing/site/gone.txt");

  const { put, remove, transfer } = changesSince(FS, "site", "/changing/site", saved);
  const sent = checkChanges({ put, remove });
  assert.deepEqual(sent.put.map(({ path }) => path).sort(), [
    "app.py",
    "instance",
    "instance/notes.db",
  ]);
  assert.equal(text(sent.put.find(({ path }) => path === "app.py").contents), "new");
  assert.equal(sent.put.find(({ path }) => path === "instance").contents, undefined);
  assert.deepEqual(sent.remove, [{ root: "site", path: "gone.txt" }]);
  assert.equal(transfer.length, 2); // the two files' bytes, copies of their own to move
});
