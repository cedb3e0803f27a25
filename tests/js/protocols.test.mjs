// runtime/protocol/: the data channels' protocol strings and control messages, and requests
// answered by id (the server tab's calls to its worker, the worker's questions to the tab).

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import {
  formatChannelProtocol,
  hello,
  lost,
  MAX_STREAM_ID,
  MOVED,
  parseChannelProtocol,
  parseControl,
  parseServerControl,
  windowGrant,
} from "../../runtime/protocol/channels.js";
import { Requests } from "../../runtime/protocol/worker.js";

test("a channel's protocol string says the same once formatted and parsed", () => {
  const protocol = fc.record({
    scheme: fc.constantFrom("http", "https"),
    httpOnlyByServer: fc.boolean(),
    window: fc.boolean(),
  });
  fc.assert(
    fc.property(protocol, (asked) => {
      assert.deepEqual(parseChannelProtocol(formatChannelProtocol(asked)), { ...asked });
    }),
  );
  assert.equal(
    formatChannelProtocol({ scheme: "https", httpOnlyByServer: true, window: true }),
    "https; httponly=server; window",
  );
});

test("what a visitor writes as a protocol is read as no more than it says", () => {
  fc.assert(
    fc.property(fc.string(), (text) => {
      const { scheme, httpOnlyByServer, window } = parseChannelProtocol(text);
      assert.ok(scheme === "http" || scheme === "https");
      assert.equal(
        httpOnlyByServer,
        text.split(";").some((part) => part.trim() === "httponly=server"),
      );
      assert.equal(typeof window, "boolean");
    }),
  );
});

test("control messages: a grant round-trips, anything else is not one", () => {
  assert.deepEqual(parseControl(windowGrant(3, 65536)), {
    type: "window",
    channel: 3,
    bytes: 65536,
  });
  assert.equal(parseControl(hello("demo")), null); // the server tab's, not a visitor's
  assert.equal(parseControl("{"), null);
  assert.equal(parseControl(JSON.stringify({ type: "window", channel: "3", bytes: 1 })), null);
  fc.assert(
    fc.property(fc.string(), (text) => {
      const message = parseControl(text);
      assert.ok(message === null || Number.isInteger(message.channel));
    }),
  );
});

test("a server tab's control messages: what it says is read back, anything else is not", () => {
  assert.deepEqual(parseServerControl(hello("demo")), { type: "hello" });
  assert.deepEqual(parseServerControl(MOVED), { type: "moved" });
  const said = [
    { id: 3, answer: "HTTP/1.1 503 Service Unavailable\r\n\r\n" },
    { id: 0, answer: null },
  ];
  assert.deepEqual(parseServerControl(lost(said)), { type: "lost", channels: said });
  // Whatever comes (a broken or hostile tab), it never throws, and what it returns is only
  // ever channel ids and answers of the right kinds.
  const entry = fc.oneof(
    fc.record({ id: fc.integer(), answer: fc.oneof(fc.string(), fc.constant(null)) }),
    fc.anything(),
  );
  const message = fc.oneof(
    fc.record({ type: fc.constant("lost"), channels: fc.oneof(fc.array(entry), fc.anything()) }),
    fc.anything(),
  );
  fc.assert(
    fc.property(
      fc.oneof(
        message.map((value) => JSON.stringify(value) ?? ""),
        fc.string(),
      ),
      (text) => {
        const parsed = parseServerControl(text);
        if (parsed === null || parsed.type !== "lost") return;
        for (const { id, answer } of parsed.channels) {
          assert.ok(Number.isInteger(id) && id >= 0 && id <= MAX_STREAM_ID);
          assert.ok(answer === null || typeof answer === "string");
        }
      },
    ),
  );
});

test("requests are answered by id, in any order, and can all be failed at once", async () => {
  const requests = new Requests();
  const sent = [];
  const first = requests.ask((id) => sent.push(id));
  const second = requests.ask((id) => sent.push(id));
  requests.settle({ id: sent[1], value: "second" });
  requests.settle({ id: sent[0], error: "no such file" });
  requests.settle({ id: 99, value: "nobody asked" });
  assert.equal(await second, "second");
  await assert.rejects(first, /no such file/);
  const third = requests.ask(() => {});
  requests.failAll((id) => `stopped ${id}`);
  await assert.rejects(third, /stopped 3/);
});
