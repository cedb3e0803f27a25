// runtime/visitor/page-websocket.js: the WebSocket of a site's pages. Driven here against a
// shell of the test's own on the other end of its port, as the WebSocket API behaves:
// states, events, bufferedAmount, close codes, other hosts left to the browser.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  CLOSE,
  CLOSED,
  CONNECT,
  MESSAGE,
  OPEN,
  SEND,
  SENT,
  WORKER_ROUTE,
} from "../../runtime/protocol/page-sockets.js";
import { makeRoute, makeWebSocket, socketUrl } from "../../runtime/visitor/page-websocket.js";

// Node has no CloseEvent; the browsers the shim runs in do.
globalThis.CloseEvent ??= class CloseEvent extends Event {
  constructor(type, { code, reason, wasClean }) {
    super(type);
    Object.assign(this, { code, reason, wasClean });
  }
};

class NativeWebSocket {
  constructor(url, protocols) {
    this.url = url;
    this.protocols = protocols;
  }
}

/** A page's global scope whose shell is the test: what the page posts lands in `connects`. */
function pageScope() {
  const scope = new EventTarget();
  scope.document = {};
  scope.location = new URL("http://live.localhost:8000/room");
  scope.WebSocket = NativeWebSocket;
  scope.connects = [];
  scope.top = {
    postMessage: (message, origin, [port]) => scope.connects.push({ message, origin, port }),
  };
  return scope;
}

function next(port) {
  return new Promise((resolve) => {
    port.onmessage = ({ data }) => resolve(data);
  });
}

function event(target, type) {
  return new Promise((resolve) => target.addEventListener(type, resolve, { once: true }));
}

test("a socket to the site goes to the shell, and behaves as the API says", async () => {
  const scope = pageScope();
  const WebSocket = makeWebSocket(scope, makeRoute(scope));
  const socket = new WebSocket("/echo", ["chat.v1"]);
  assert.equal(socket.url, "ws://live.localhost:8000/echo");
  assert.equal(socket.readyState, WebSocket.CONNECTING);
  assert.throws(() => socket.send("too early"), { name: "InvalidStateError" });
  const [{ message, origin, port }] = scope.connects;
  assert.deepEqual(message, { type: CONNECT, url: socket.url, protocols: ["chat.v1"] });
  assert.equal(origin, "http://live.localhost:8000");

  const opened = event(socket, "open");
  port.postMessage({ type: OPEN, protocol: "chat.v1", extensions: "" });
  await opened;
  assert.equal(socket.readyState, WebSocket.OPEN);
  assert.equal(socket.protocol, "chat.v1");

  const sent = next(port);
  socket.send("héllo");
  assert.equal(socket.bufferedAmount, 6); // UTF-8 bytes
  assert.deepEqual(await sent, { type: SEND, data: "héllo" });
  const bytes = next(port);
  socket.send(new Uint8Array([1, 2, 3]).subarray(1));
  assert.deepEqual(new Uint8Array((await bytes).data), new Uint8Array([2, 3]));
  assert.equal(socket.bufferedAmount, 8);

  socket.binaryType = "arraybuffer";
  let heard = event(socket, "message");
  port.postMessage({ type: SENT, bytes: 6 }); // before the message, on the same port
  port.postMessage({ type: MESSAGE, data: new Uint8Array([9]).buffer });
  assert.deepEqual(new Uint8Array((await heard).data), new Uint8Array([9]));
  assert.equal(socket.bufferedAmount, 2);
  socket.binaryType = "blob";
  heard = new Promise((resolve) => {
    socket.onmessage = resolve;
  });
  port.postMessage({ type: MESSAGE, data: new Uint8Array([7]).buffer });
  const blob = (await heard).data;
  assert.ok(blob instanceof Blob);
  assert.deepEqual(new Uint8Array(await blob.arrayBuffer()), new Uint8Array([7]));

  assert.throws(() => socket.close(1001), { name: "InvalidAccessError" });
  assert.throws(() => socket.close(4000, "x".repeat(124)), { name: "SyntaxError" });
  const closing = next(port);
  socket.close(4000, "done");
  assert.equal(socket.readyState, WebSocket.CLOSING);
  assert.deepEqual(await closing, { type: CLOSE, code: 4000, reason: "done" });
  const closed = event(socket, "close");
  port.postMessage({ type: CLOSED, code: 4000, reason: "done", wasClean: true, error: false });
  const { code, reason, wasClean } = await closed;
  assert.deepEqual([code, reason, wasClean], [4000, "done", true]);
  assert.equal(socket.readyState, WebSocket.CLOSED);
  assert.ok(socket instanceof WebSocket);
});

test("a lost connection is an error, then a close with 1006", async () => {
  const scope = pageScope();
  const WebSocket = makeWebSocket(scope, makeRoute(scope));
  const socket = new WebSocket("ws://live.localhost:8000/clock");
  const { port } = scope.connects[0];
  const seen = [];
  socket.onerror = () => seen.push("error");
  const closed = event(socket, "close");
  port.postMessage({ type: CLOSED, code: 1006, reason: "", wasClean: false, error: true });
  seen.push((await closed).code);
  assert.deepEqual(seen, ["error", 1006]);
});

test("leaving the page tells the shell 1001, and the page hears nothing more", async () => {
  const scope = pageScope();
  const WebSocket = makeWebSocket(scope, makeRoute(scope));
  const socket = new WebSocket("/chat");
  const { port } = scope.connects[0];
  port.postMessage({ type: OPEN, protocol: "", extensions: "" });
  await event(socket, "open");
  const told = next(port);
  socket.onclose = () => assert.fail("the page is gone");
  scope.dispatchEvent(new Event("pagehide"));
  assert.deepEqual(await told, { type: CLOSE, code: 1001 });
});

test("sockets to other hosts, and bad arguments, are as the browser has them", () => {
  const scope = pageScope();
  const WebSocket = makeWebSocket(scope, makeRoute(scope));
  const elsewhere = new WebSocket("wss://example.org/feed", "v1");
  assert.ok(elsewhere instanceof NativeWebSocket);
  assert.ok(elsewhere instanceof WebSocket);
  assert.deepEqual([elsewhere.url, elsewhere.protocols], ["wss://example.org/feed", ["v1"]]);
  assert.equal(scope.connects.length, 0);
  assert.throws(() => new WebSocket("/x", ["a", "a"]), { name: "SyntaxError" });
  assert.throws(() => new WebSocket("/x", ["a b"]), { name: "SyntaxError" });
  assert.throws(() => socketUrl("ftp://x/", "http://a/"), { name: "SyntaxError" });
  assert.throws(() => socketUrl("/x#frag", "http://a/"), { name: "SyntaxError" });
  assert.equal(socketUrl("https://a/b?c", "http://a/").href, "wss://a/b?c");
});

test("a worker's sockets wait for the route its page gives it", async () => {
  const scope = new EventTarget();
  scope.location = new URL("http://live.localhost:8000/static/worker.js");
  scope.WebSocket = NativeWebSocket;
  const WebSocket = makeWebSocket(scope, makeRoute(scope));
  const seenByWorker = [];
  scope.addEventListener("message", (event) => seenByWorker.push(event.data));
  new WebSocket("/echo");
  const { port1: page, port2: worker } = new MessageChannel();
  const relayed = new Promise((resolve) => {
    page.onmessage = resolve;
  });
  scope.dispatchEvent(
    new MessageEvent("message", { data: { [WORKER_ROUTE]: true }, ports: [worker] }),
  );
  const { data, ports } = await relayed;
  assert.deepEqual(data, { type: CONNECT, url: "ws://live.localhost:8000/echo", protocols: [] });
  assert.deepEqual(seenByWorker, []); // the route is not the worker's own message
  ports[0].postMessage({ type: CLOSED, code: 1006, reason: "", wasClean: false, error: true });
  ports[0].close();
  page.close();
});
