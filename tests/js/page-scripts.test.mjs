// runtime/visitor/page-scripts.js: where the shell's WebSocket goes in a site's pages and
// workers' scripts. A page must keep its doctype first (or it falls into quirks mode), a
// worker its "use strict", and a body in any pieces must come out as the whole one does.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import {
  PAGE_SCRIPT_PATH,
  inject,
  injecting,
  injectionFor,
} from "../../runtime/visitor/page-scripts.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const TAG = `<script src="${PAGE_SCRIPT_PATH}"></script>`;
const page = { kind: "page", nonce: null };

function injected(text, injection = page) {
  return decoder.decode(inject(encoder.encode(text), injection));
}

async function streamed(chunks, injection) {
  const source = new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
  const out = [];
  for await (const chunk of source.pipeThrough(injecting(injection))) out.push(...chunk);
  return new Uint8Array(out);
}

test("a page gets the script right after its doctype", () => {
  assert.equal(injected("<!doctype html><p>hi"), `<!doctype html>${TAG}<p>hi`);
  assert.equal(
    injected("\n  <!-- made by Jinja -->\n<!DOCTYPE html>\n<html>"),
    `\n  <!-- made by Jinja -->\n<!DOCTYPE html>${TAG}\n<html>`,
  );
  assert.equal(injected("\ufeff<!doctype html>x"), `\ufeff<!doctype html>${TAG}x`);
  assert.equal(injected("<html><body>no doctype"), `${TAG}<html><body>no doctype`);
  assert.equal(injected(""), TAG);
  assert.equal(
    injected("<!doctype html>", { kind: "page", nonce: "abc123" }),
    `<!doctype html><script src="${PAGE_SCRIPT_PATH}" nonce="abc123"></script>`,
  );
});

test("a worker's script gets one statement on its first line, after 'use strict'", () => {
  const classic = { kind: "worker", module: false };
  const module = { kind: "worker", module: true };
  assert.equal(
    injected("onmessage = () => {};\n", classic),
    `importScripts("${PAGE_SCRIPT_PATH}");onmessage = () => {};\n`,
  );
  assert.equal(
    injected('// a worker\n"use strict";\nlet x;', classic),
    `// a worker\n"use strict";importScripts("${PAGE_SCRIPT_PATH}");\nlet x;`,
  );
  assert.equal(injected("export {};\n", module), `import "${PAGE_SCRIPT_PATH}";export {};\n`);
});

test("what is changed, and what is not", () => {
  const html = [["Content-Type", "text/html; charset=utf-8"]];
  const csp = [...html, ["Content-Security-Policy", "script-src 'nonce-r4nd0m' 'strict-dynamic'"]];
  assert.deepEqual(injectionFor({ destination: "iframe" }, html), { kind: "page", nonce: null });
  assert.deepEqual(injectionFor({ destination: "iframe" }, csp), { kind: "page", nonce: "r4nd0m" });
  assert.equal(injectionFor({ destination: "image" }, html), null);
  assert.equal(injectionFor({ destination: "" }, html), null); // a fetch() of HTML: data
  assert.equal(
    injectionFor({ destination: "iframe" }, [...html, ["Content-Encoding", "gzip"]]),
    null,
  );
  assert.equal(
    injectionFor({ destination: "iframe" }, [["Content-Type", "text/html; charset=UTF-16"]]),
    null,
  );
  const js = [["Content-Type", "text/javascript"]];
  assert.deepEqual(injectionFor({ destination: "worker", mode: "same-origin" }, js), {
    kind: "worker",
    module: false,
  });
  assert.deepEqual(injectionFor({ destination: "worker", mode: "cors" }, js), {
    kind: "worker",
    module: true,
  });
  assert.equal(injectionFor({ destination: "script" }, js), null);
});

test("a body in any pieces comes out as the whole body does", async () => {
  const documents = fc.oneof(
    fc.constantFrom("<!doctype html>", "<!DOCTYPE html>\n", "<!-- c -->\n<!doctype html>", ""),
    fc.constant("\ufeff<!doctype html>"),
  );
  await fc.assert(
    fc.asyncProperty(
      documents,
      fc.string({ maxLength: 200 }),
      fc.array(fc.nat(), { maxLength: 6 }),
      async (start, rest, cuts) => {
        const bytes = encoder.encode(start + rest);
        const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort(
          (a, b) => a - b,
        );
        const chunks = [];
        let last = 0;
        for (const point of [...points, bytes.length]) {
          if (point > last) chunks.push(bytes.slice(last, point));
          last = point;
        }
        assert.deepEqual(await streamed(chunks, page), inject(bytes, page));
      },
    ),
  );
});
