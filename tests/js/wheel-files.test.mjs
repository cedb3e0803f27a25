// runtime/python-worker/wheel-files.js: the bundle's wheels, unpacked by JavaScript. Zips made
// with fflate, stored (as the build writes them) and deflated; the file system is a recording
// stand-in for Emscripten's (real Pyodide unpacks them in tests/pyodide and every e2e test).

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { zipSync } from "fflate";

import { unpackWheels, zipFiles } from "../../runtime/python-worker/wheel-files.js";

const bytes = (text) => new TextEncoder().encode(text);
const WHEEL = {
  "flask/__init__.py": bytes("from .app import Flask\n"),
  "flask/__pycache__/__init__.cpython-314.pyc": new Uint8Array([0xf3, 0x0d, 0x0d, 0x0a, 0, 1]),
  "flask/templates/": new Uint8Array(0),
  "flask-3.1.3.dist-info/METADATA": bytes("Name: Flask\n"),
};

/** A stand-in for Emscripten's FS: what was made and written (as Latin-1 text), in order. */
function recordingFS() {
  const calls = [];
  return {
    calls,
    mkdirTree: (path) => calls.push(["mkdirTree", path]),
    writeFile: (path, contents) =>
      calls.push(["writeFile", path, Buffer.from(contents).toString("latin1")]),
  };
}

for (const level of [0, 6]) {
  test(`a wheel's files come back as they went in (level ${level}), its directories left out`, () => {
    const files = Object.fromEntries(zipFiles(zipSync(WHEEL, { level })));
    assert.deepEqual(Object.keys(files).sort(), [
      "flask-3.1.3.dist-info/METADATA",
      "flask/__init__.py",
      "flask/__pycache__/__init__.cpython-314.pyc",
    ]);
    for (const [path, contents] of Object.entries(files)) assert.deepEqual(contents, WHEEL[path]);
  });
}

test("each file is written under the folder, each folder made once", () => {
  const FS = recordingFS();
  const other = zipSync({ "flask/json/__init__.py": bytes("x"), "h11/__init__.py": bytes("y") });
  unpackWheels(FS, "/lib/site-packages", [zipSync(WHEEL, { level: 0 }), other]);
  assert.deepEqual(FS.calls, [
    ["mkdirTree", "/lib/site-packages/flask"],
    ["writeFile", "/lib/site-packages/flask/__init__.py", "from .app import Flask\n"],
    ["mkdirTree", "/lib/site-packages/flask/__pycache__"],
    [
      "writeFile",
      "/lib/site-packages/flask/__pycache__/__init__.cpython-314.pyc",
      "\xf3\r\r\n\0\x01",
    ],
    ["mkdirTree", "/lib/site-packages/flask-3.1.3.dist-info"],
    ["writeFile", "/lib/site-packages/flask-3.1.3.dist-info/METADATA", "Name: Flask\n"],
    ["mkdirTree", "/lib/site-packages/flask/json"],
    ["writeFile", "/lib/site-packages/flask/json/__init__.py", "x"],
    ["mkdirTree", "/lib/site-packages/h11"],
    ["writeFile", "/lib/site-packages/h11/__init__.py", "y"],
  ]);
});

test("a path that would leave the folder is refused, by name", () => {
  for (const path of [
    "../evil.py",
    "/etc/passwd",
    "pkg/../../evil.py",
    "pkg//m.py",
    "pkg\\..\\m.py",
    "./m.py",
  ]) {
    assert.throws(
      () => zipFiles(zipSync({ [path]: bytes("x") })),
      new Error(`${JSON.stringify(path)} in a wheel is not a path inside its folder`),
    );
  }
});

test("whatever the names, a file is either refused or stays inside the folder", () => {
  const segment = fc.oneof(
    fc.constantFrom("..", ".", "", "a", "b.py", "\\", "a\\b"),
    fc.string({ minLength: 0, maxLength: 6 }).filter((text) => !text.includes("/")),
  );
  fc.assert(
    fc.property(fc.array(segment, { minLength: 1, maxLength: 5 }), (segments) => {
      const path = segments.join("/");
      if (path.endsWith("/") || path === "") return; // a directory entry, or no name
      let files;
      try {
        files = zipFiles(zipSync({ [path]: bytes("x") }));
      } catch (error) {
        assert.match(error.message, /in a wheel is not a path inside its folder$/);
        return;
      }
      for (const [kept] of files) {
        const parts = kept.split("/");
        assert.ok(
          parts.every((part) => part && part !== "." && part !== ".." && !part.includes("\\")),
        );
      }
    }),
  );
});
