// web/workbench/traceback.js: Python tracebacks read line by line, the site's frames marked.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { hasTraceback, parseTraceback } from "../../web/workbench/traceback.js";

const TEXT = `Traceback (most recent call last):
  File "/lib/python3.14/site-packages/flask/cli.py", line 245, in locate_app
    __import__(module_name)
  File "/peerserver/demo/app.py", line 2, in <module>
    from sqlalchemy import select
  File "/lib/python3.14/site-packages/sqlalchemy/util/langhelpers.py", line 1988, in __init_subclass__
    raise AssertionError(
AssertionError: Class directly inherits TypingOnly`;

test("frames, their code, the heading and the error are told apart", () => {
  const lines = parseTraceback(TEXT, "/peerserver/demo/");
  assert.deepEqual(
    lines.map(({ kind }) => kind),
    ["heading", "frame", "code", "frame", "code", "frame", "code", "text"],
  );
  const site = lines.filter(({ site }) => site);
  assert.equal(site.length, 1);
  assert.deepEqual([site[0].file, site[0].line, site[0].name], ["app.py", 2, "<module>"]);
  assert.equal(site[0].text, '  File "app.py", line 2, in <module>');
  assert.equal(lines.at(-1).text, "AssertionError: Class directly inherits TypingOnly");
  assert.ok(hasTraceback(TEXT) && !hasTraceback("all good"));
});

test("chained exceptions keep both tracebacks", () => {
  const text = `${TEXT}\n\nDuring handling of the above exception, another exception occurred:\n\n${TEXT}`;
  const kinds = parseTraceback(text).map(({ kind }) => kind);
  assert.equal(kinds.filter((kind) => kind === "heading").length, 3);
  assert.equal(kinds.filter((kind) => kind === "frame").length, 6);
});

test("any text parses into as many lines as it has, none of them lost", () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), (text, root) => {
      const lines = parseTraceback(text, root);
      assert.equal(lines.length, text.split("\n").length);
      for (const line of lines) assert.ok(["frame", "code", "heading", "text"].includes(line.kind));
      const plain = lines.filter(({ kind }) => kind !== "frame").map(({ text: line }) => line);
      for (const line of plain) assert.ok(text.split("\n").includes(line));
    }),
  );
});
