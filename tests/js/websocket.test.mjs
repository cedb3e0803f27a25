// runtime/websocket.js: the client's side of RFC 6455. Frames come from a server tab that may be
// broken or hostile, so whatever bytes arrive, in whatever pieces, the decoder yields messages
// or fails the socket with a close code: never another exception.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import { ResponseParser } from "../../runtime/http1.js";
import {
  acceptFor,
  checkHandshake,
  handshakeRequest,
  isPageCloseCode,
  WebSocketFrames,
} from "../../runtime/websocket.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A frame as a server sends it (unmasked), for the decoder to take. */
function serverFrame(opcode, payload, { fin = true, rsv = 0, masked = false } = {}) {
  const length = payload.length;
  const head = [((fin ? 0x80 : 0) | rsv | opcode) & 0xff];
  if (length < 126) head.push((masked ? 0x80 : 0) | length);
  else if (length < 65536) head.push((masked ? 0x80 : 0) | 126, length >> 8, length & 0xff);
  else {
    head.push((masked ? 0x80 : 0) | 127, 0, 0, 0, 0);
    head.push((length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff);
  }
  const out = new Uint8Array(head.length + (masked ? 4 : 0) + length);
  out.set(head);
  out.set(payload, head.length + (masked ? 4 : 0));
  return out;
}

/** What a server reads of a client's frame: {fin, opcode, payload}, unmasked. */
function readClientFrame(bytes) {
  assert.ok(bytes[1] & 0x80, "a client's frames are masked");
  let length = bytes[1] & 0x7f;
  let offset = 2;
  if (length === 126) {
    length = (bytes[2] << 8) | bytes[3];
    offset = 4;
  } else if (length === 127) {
    length = new DataView(bytes.buffer, bytes.byteOffset + 2, 8).getUint32(4);
    offset = 10;
  }
  const mask = bytes.subarray(offset, offset + 4);
  const payload = bytes.slice(offset + 4, offset + 4 + length);
  for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3];
  assert.equal(bytes.length, offset + 4 + length);
  return { fin: (bytes[0] & 0x80) !== 0, opcode: bytes[0] & 0x0f, payload };
}

function closePayload(code, reason = "") {
  const text = encoder.encode(reason);
  return new Uint8Array([code >> 8, code & 0xff, ...text]);
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

function join(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

test("the accept key is RFC 6455's own example", async () => {
  assert.equal(await acceptFor("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
});

test("the handshake is an HTTP/1.1 upgrade with a fresh key, checked against the answer", async () => {
  const { bytes, accept } = await handshakeRequest({
    target: "/chat?room=1",
    host: "site.localhost:8000",
    protocols: ["chat.v2", "chat.v1"],
    headers: [["Origin", "http://site.localhost:8000"]],
  });
  const text = decoder.decode(bytes);
  assert.match(text, /^GET \/chat\?room=1 HTTP\/1\.1\r\nHost: site\.localhost:8000\r\n/);
  assert.match(text, /\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Version: 13\r\n/);
  assert.match(text, /\r\nSec-WebSocket-Protocol: chat\.v2, chat\.v1\r\n/);
  assert.match(text, /\r\nOrigin: http:\/\/site\.localhost:8000\r\n\r\n$/);
  const key = /Sec-WebSocket-Key: (\S+)\r\n/.exec(text)[1];
  assert.equal(Buffer.from(key, "base64").length, 16);
  assert.equal(accept, await acceptFor(key));

  const answer = (headers, status = 101) => ({ status, headers });
  const good = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Accept", accept],
  ];
  const protocols = ["chat.v2", "chat.v1"];
  assert.deepEqual(checkHandshake(answer(good), { accept, protocols }), {
    protocol: "",
    extensions: "",
  });
  assert.equal(
    checkHandshake(answer([...good, ["Sec-WebSocket-Protocol", "chat.v1"]]), { accept, protocols })
      .protocol,
    "chat.v1",
  );
  const refused = (headers, status, why) =>
    assert.throws(() => checkHandshake(answer(headers, status), { accept, protocols }), why);
  refused(good, 403, /403 instead of 101/);
  refused(good.slice(1), 101, /Upgrade: websocket/);
  refused([good[0], good[2]], 101, /Connection: Upgrade/);
  refused([...good.slice(0, 2), ["Sec-WebSocket-Accept", "nope"]], 101, /does not match/);
  refused([...good, ["Sec-WebSocket-Protocol", "other"]], 101, /not offered/);
  refused([...good, ["Sec-WebSocket-Extensions", "permessage-deflate"]], 101, /extensions/);
});

test("the parser hands over what follows a 101 to the frames", () => {
  const parser = new ResponseParser();
  parser.expect("GET", { upgrade: true });
  const head = encoder.encode("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n");
  const events = parser.feed(join(head, serverFrame(1, encoder.encode("hi"))));
  assert.deepEqual(
    events.map((event) => event.type),
    ["head", "upgraded"],
  );
  assert.equal(events[0].status, 101);
  const frames = new WebSocketFrames();
  assert.deepEqual(frames.receive(events[1].bytes), [{ type: "message", data: "hi" }]);
  // A refusal is an ordinary response, body and all.
  const refusal = new ResponseParser();
  refusal.expect("GET", { upgrade: true });
  const refused = refusal.feed(
    encoder.encode("HTTP/1.1 403 Forbidden\r\nContent-Length: 2\r\n\r\nno"),
  );
  assert.deepEqual(
    refused.map((event) => event.type),
    ["head", "data", "end"],
  );
});

test("the client's frames are masked, and carry text, bytes and close", () => {
  const frames = new WebSocketFrames();
  for (const size of [0, 125, 126, 65535, 65536, 200000]) {
    const data = new Uint8Array(size).map((_, i) => i % 251);
    const frame = readClientFrame(frames.encodeMessage(data));
    assert.equal(frame.opcode, 2);
    assert.ok(frame.fin);
    assert.deepEqual(frame.payload, data);
  }
  const text = readClientFrame(frames.encodeMessage("héllo"));
  assert.equal(text.opcode, 1);
  assert.equal(decoder.decode(text.payload), "héllo");
  const close = readClientFrame(frames.encodeClose(4000, "bye"));
  assert.equal(close.opcode, 8);
  assert.deepEqual(close.payload, closePayload(4000, "bye"));
  assert.equal(readClientFrame(frames.encodeClose()).payload.length, 0);
});

test("messages in fragments, with control frames between, in any pieces", () => {
  fc.assert(
    fc.property(
      fc.array(fc.string({ maxLength: 40 }), { minLength: 1, maxLength: 4 }),
      fc.uint8Array({ maxLength: 300 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (parts, binary, cuts) => {
        const text = parts.join("");
        const fragments = parts.map((part, i) =>
          serverFrame(i === 0 ? 1 : 0, encoder.encode(part), { fin: i === parts.length - 1 }),
        );
        const stream = join(
          ...fragments.slice(0, 1),
          serverFrame(9, encoder.encode("ping!")),
          ...fragments.slice(1),
          serverFrame(2, binary),
          serverFrame(8, closePayload(1000, "done")),
        );
        const frames = new WebSocketFrames();
        const events = pieces(stream, cuts).flatMap((piece) => frames.receive(piece));
        const messages = events.filter((event) => event.type === "message");
        assert.deepEqual(
          messages.map((event) => event.data),
          [text, binary],
        );
        const pong = readClientFrame(events.find((event) => event.type === "write").bytes);
        assert.equal(pong.opcode, 10);
        assert.equal(decoder.decode(pong.payload), "ping!");
        const close = events.at(-1);
        assert.deepEqual(close, { type: "close", code: 1000, reason: "done" });
        const reply = readClientFrame(events.at(-2).bytes);
        assert.deepEqual([reply.opcode, ...reply.payload.subarray(0, 2)], [8, 0x03, 0xe8]);
      },
    ),
  );
});

test("a server that breaks the protocol fails the socket with the right code", () => {
  const failure = (bytes, options) => {
    const events = new WebSocketFrames(options).receive(bytes);
    const fail = events.find((event) => event.type === "fail");
    assert.ok(fail, `no failure for ${bytes}`);
    const close = readClientFrame(events.find((event) => event.type === "write").bytes);
    assert.equal((close.payload[0] << 8) | close.payload[1], fail.code);
    return fail.code;
  };
  assert.equal(failure(serverFrame(1, encoder.encode("x"), { masked: true })), 1002);
  assert.equal(failure(serverFrame(1, encoder.encode("x"), { rsv: 0x40 })), 1002);
  assert.equal(failure(serverFrame(3, new Uint8Array())), 1002);
  assert.equal(failure(serverFrame(9, new Uint8Array(126))), 1002);
  assert.equal(failure(serverFrame(9, new Uint8Array(1), { fin: false })), 1002);
  assert.equal(failure(serverFrame(0, new Uint8Array(1))), 1002);
  assert.equal(failure(serverFrame(1, new Uint8Array([0xff, 0xfe]))), 1007);
  assert.equal(failure(serverFrame(8, new Uint8Array([3]))), 1002);
  assert.equal(failure(serverFrame(8, closePayload(1005))), 1002);
  assert.equal(failure(serverFrame(8, closePayload(999))), 1002);
  assert.equal(failure(serverFrame(2, new Uint8Array(11)), { maxMessageBytes: 10 }), 1009);
  const twoStarts = join(
    serverFrame(1, encoder.encode("a"), { fin: false }),
    serverFrame(1, encoder.encode("b")),
  );
  assert.equal(failure(twoStarts), 1002);
});

test("whatever the server sends, the decoder answers with events, never an exception", () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
      const frames = new WebSocketFrames({ maxMessageBytes: 4096 });
      for (const chunk of chunks) {
        for (const event of frames.receive(chunk)) {
          assert.ok(["message", "write", "close", "fail"].includes(event.type));
        }
      }
    }),
  );
});

test("a close with no code is 1005, and a page may only close with 1000 or 3000-4999", () => {
  const events = new WebSocketFrames().receive(serverFrame(8, new Uint8Array()));
  assert.deepEqual(events.at(-1), { type: "close", code: 1005, reason: "" });
  assert.equal(readClientFrame(events[0].bytes).payload.length, 0);
  assert.ok(isPageCloseCode(1000) && isPageCloseCode(3000) && isPageCloseCode(4999));
  assert.ok(!isPageCloseCode(1001) && !isPageCloseCode(2999) && !isPageCloseCode(5000));
});
