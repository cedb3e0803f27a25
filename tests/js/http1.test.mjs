// runtime/http1.js: the visitor's HTTP/1.1 codec. Responses come from a server tab that may be
// broken or hostile, so whatever bytes arrive, in whatever pieces, the parser either yields
// events or throws HttpParseError: never another exception, never a loop without end.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import {
  HttpParseError,
  LAST_CHUNK,
  ResponseParser,
  concat,
  encodeChunk,
  encodeRequestHead,
} from "../../runtime/http1.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function feedAll(parser, pieces) {
  const events = [];
  for (const piece of pieces) events.push(...parser.feed(piece));
  return events;
}

function pieces(bytes, cuts) {
  const points = [...new Set(cuts.map((cut) => cut % (bytes.length + 1)))].sort((a, b) => a - b);
  const out = [];
  let last = 0;
  for (const point of [...points, bytes.length]) {
    if (point > last) out.push(bytes.subarray(last, point));
    last = point;
  }
  return out;
}

function body(events) {
  return decoder.decode(
    events
      .filter((e) => e.type === "data")
      .reduce((all, e) => concat(all, e.bytes), new Uint8Array(0)),
  );
}

test("a request head carries what the page asked for, framing set by the shell", () => {
  const head = decoder.decode(
    encodeRequestHead({
      method: "POST",
      target: "/a?b=1",
      host: "demo.localhost:8000",
      headers: [
        ["Accept", "text/html"],
        ["Content-Length", "999"],
        ["Connection", "close"],
      ],
      bodyLength: 3,
    }),
  );
  assert.equal(
    head,
    "POST /a?b=1 HTTP/1.1\r\nHost: demo.localhost:8000\r\nAccept: text/html\r\n" +
      "Content-Length: 3\r\n\r\n",
  );
});

test("content-length, chunked and close-delimited bodies, in any pieces", () => {
  const responses = [
    ["HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", "hello", true],
    [
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
      "hello world",
      true,
    ],
    [
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
      "ok",
      false,
    ],
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...responses),
      fc.array(fc.nat(), { maxLength: 10 }),
      ([text, expected, keepAlive], cuts) => {
        const parser = new ResponseParser();
        parser.expect("GET");
        const events = feedAll(parser, pieces(encoder.encode(text), cuts));
        assert.equal(body(events), expected);
        assert.deepEqual(events.at(-1), { type: "end", keepAlive });
      },
    ),
  );
  const parser = new ResponseParser();
  parser.expect("GET");
  const events = parser.feed(encoder.encode("HTTP/1.1 200 OK\r\n\r\nuntil the end"));
  assert.equal(body([...events, ...parser.close()]), "until the end");
});

test("whatever bytes a broken server sends: events or HttpParseError, nothing else", () => {
  const junk = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc
      .array(
        fc.constantFrom(
          "HTTP/1.1 200 OK\r\n",
          "HTTP/1.1 99 X\r\n",
          "Content-Length: 3\r\n",
          "Content-Length: -1\r\n",
          "Content-Length: 1e3\r\n",
          "Transfer-Encoding: chunked\r\n",
          "\r\n",
          "zz\r\n",
          "5\r\nab",
          "0\r\n\r\n",
          "No colon\r\n",
          ": empty\r\n",
          "HTTP/2 200\r\n",
        ),
        { maxLength: 12 },
      )
      .map((parts) => encoder.encode(parts.join(""))),
  );
  fc.assert(
    fc.property(junk, fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (bytes, cuts, close) => {
      const parser = new ResponseParser();
      parser.expect("GET");
      try {
        const events = feedAll(parser, pieces(bytes, cuts));
        if (close) events.push(...parser.close());
        for (const event of events) assert.ok(["head", "data", "end"].includes(event.type));
      } catch (error) {
        if (!(error instanceof HttpParseError)) throw error;
      }
    }),
  );
});

test("a head larger than the limit is refused, not buffered without end", () => {
  const parser = new ResponseParser();
  parser.expect("GET");
  parser.feed(encoder.encode("HTTP/1.1 200 OK\r\n"));
  assert.throws(() => {
    for (let i = 0; i < 100; i++) parser.feed(encoder.encode(`X-Pad: ${"a".repeat(1000)}\r\n`));
  }, HttpParseError);
});

test("a body of unknown length goes chunked, and decodes back to itself", () => {
  const head = decoder.decode(
    encodeRequestHead({
      method: "POST",
      target: "/",
      host: "h",
      headers: [["Transfer-Encoding", "gzip"]],
      bodyLength: "chunked",
    }),
  );
  assert.equal(head, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n");
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { maxLength: 8 }),
      (pieces) => {
        const framed = pieces.reduce(
          (all, piece) => concat(all, encodeChunk(piece)),
          new Uint8Array(0),
        );
        const parser = new ResponseParser();
        parser.expect("GET");
        const events = parser.feed(
          concat(
            encoder.encode("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            concat(framed, LAST_CHUNK),
          ),
        );
        const join = (parts) => parts.reduce((all, part) => concat(all, part), new Uint8Array(0));
        const received = join(events.filter((e) => e.type === "data").map((e) => e.bytes));
        assert.deepEqual(Array.from(received), Array.from(join(pieces)));
        assert.equal(events.at(-1).type, "end");
      },
    ),
  );
});
