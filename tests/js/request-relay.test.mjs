// runtime/visitor/request-relay.js: the shell's side of the service-worker protocol, driven
// with a stand-in SiteClient over real MessagePorts.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  BODY,
  BODY_END,
  CANCEL,
  DATA,
  END,
  HEAD,
  MORE,
  UNREAD,
} from "../../runtime/protocol/service-worker.js";
import { RequestRelay } from "../../runtime/visitor/request-relay.js";

const bytes = (text) => new TextEncoder().encode(text);
const text = (data) => new TextDecoder().decode(data);

/** A relay whose client answers with `answer(request, sink)`; what it kept, and was sent.
 * Its ports close when the test `t` ends, passed or failed. */
function relayWith(t, answer) {
  const kept = { cookies: [], requests: [] };
  const relay = new RequestRelay({
    client: {
      request: (request, sink) => {
        kept.requests.push(request);
        answer(request, sink);
      },
    },
    cookies: {
      header: (url, scriptCookies) =>
        `jar-for=${new URL(url).pathname}; ${scriptCookies.map((c) => c.name).join()}`,
      store: (values, url) => kept.cookies.push({ values, url }),
    },
    userAgent: "TestBrowser/1",
  });
  const { port1: serviceWorker, port2: shell } = new MessageChannel();
  t.after(() => serviceWorker.close());
  const heard = [];
  serviceWorker.onmessage = ({ data }) => heard.push(data);
  return { relay, kept, serviceWorker, shell, heard };
}

const request = (more = {}) => ({
  method: "GET",
  target: "/notes",
  url: "https://notes.example/notes",
  headers: [["Accept", "text/html"]],
  destination: "document",
  scriptCookies: [{ name: "theme", value: "dark" }],
  body: null,
  streamed: false,
  takesWhole: false,
  ...more,
});

const settled = () => new Promise((resolve) => setTimeout(resolve, 20));

test("a small response goes back whole, cookies kept and Set-Cookie kept from the page", async (t) => {
  const { relay, kept, shell, heard } = relayWith(t, (_request, sink) => {
    sink.head({
      status: 200,
      statusText: "OK",
      headers: [
        ["Content-Type", "text/plain"],
        ["Set-Cookie", "session=abc; HttpOnly"],
      ],
    });
    sink.data(bytes("hello, "));
    sink.data(bytes("world"));
    sink.end();
  });
  relay.relay(request({ takesWhole: true }), shell);
  await settled();
  const [sent] = kept.requests;
  assert.deepEqual(sent.headers, [
    ["Accept", "text/html"],
    ["User-Agent", "TestBrowser/1"],
    ["Cookie", "jar-for=/notes; theme"],
  ]);
  assert.deepEqual(kept.cookies, [
    { values: ["session=abc; HttpOnly"], url: "https://notes.example/notes" },
  ]);
  assert.equal(heard.length, 1);
  const [head] = heard;
  assert.equal(head.type, HEAD);
  assert.deepEqual(head.headers, [["Content-Type", "text/plain"]]);
  assert.equal(text(head.bytes), "hello, world");
  assert.equal(head.end, true);
});

test("a streamed response goes back as it comes: head, data, end", async (t) => {
  const { relay, shell, heard } = relayWith(t, (_request, sink) => {
    sink.head({ status: 200, statusText: "OK", headers: [] });
    sink.data(bytes("one"));
    setTimeout(() => {
      sink.data(bytes("two"));
      sink.end();
    }, 5);
  });
  relay.relay(request(), shell);
  await settled();
  assert.deepEqual(
    heard.map((m) => [m.type, m.bytes ? text(m.bytes) : null]),
    [
      [HEAD, null],
      [DATA, "one"],
      [DATA, "two"],
      [END, null],
    ],
  );
});

test("a request body is asked for piece by piece, and the page's reading reaches the flow", async (t) => {
  const flow = { unread: [], cancelled: false };
  const received = [];
  const { relay, serviceWorker, shell, heard } = relayWith(t, async (sent, sink) => {
    sink.opened({
      unread: (count) => flow.unread.push(count),
      cancel: () => {
        flow.cancelled = true;
      },
    });
    for await (const piece of sent.bodyStream) received.push(text(piece));
    sink.head({ status: 204, statusText: "No Content", headers: [] });
    sink.end();
  });
  serviceWorker.onmessage = ({ data }) => {
    heard.push(data);
    if (data.type !== MORE) return;
    const asked = heard.filter((m) => m.type === MORE).length;
    if (asked <= 2) serviceWorker.postMessage({ type: BODY, bytes: bytes(`piece ${asked}`) });
    else serviceWorker.postMessage({ type: BODY_END });
  };
  relay.relay(request({ method: "POST", streamed: true }), shell);
  await settled();
  assert.deepEqual(received, ["piece 1", "piece 2"]);
  assert.deepEqual(
    heard.map((m) => m.type),
    [MORE, MORE, MORE, HEAD, END],
  );
  serviceWorker.postMessage({ type: UNREAD, bytes: 4096 });
  serviceWorker.postMessage({ type: CANCEL });
  await settled();
  assert.deepEqual(flow, { unread: [4096], cancelled: true });
});

test("a response that sets cookies goes on once they are kept, where keeping them takes a while", async (t) => {
  let keep;
  const keeping = new Promise((resolve) => {
    keep = resolve;
  });
  const stored = [];
  const relay = new RequestRelay({
    client: {
      request: (_request, sink) => {
        sink.head({ status: 200, statusText: "OK", headers: [["Set-Cookie", "theme=light"]] });
        sink.data(bytes("ok"));
        sink.end();
      },
    },
    cookies: {
      header: () => "",
      store: (values) => {
        stored.push(...values);
        return keeping; // the page keeps them (the request worker's case)
      },
    },
    userAgent: "TestBrowser/1",
  });
  const { port1: serviceWorker, port2: shell } = new MessageChannel();
  t.after(() => serviceWorker.close());
  const heard = [];
  serviceWorker.onmessage = ({ data }) => heard.push(data);
  relay.relay(request({ takesWhole: true }), shell);
  await settled();
  assert.deepEqual(stored, ["theme=light"]);
  assert.equal(heard.length, 0); // not before the cookies are kept
  keep();
  await settled();
  assert.equal(heard.length, 1);
  assert.equal(heard[0].type, HEAD);
  assert.deepEqual(heard[0].headers, []);
  assert.equal(text(heard[0].bytes), "ok");
});
