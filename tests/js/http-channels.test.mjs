// runtime/http-channels.js: a server tab's HTTP channels, driven with fake data
// channels and a fake Python worker: routing both ways, credit, the visitor's window, what
// waiting requests get when Python restarts, and channels handed over to the worker.

import assert from "node:assert/strict";
import { test } from "node:test";

import { HttpChannels, requestLine } from "../../runtime/http-channels.js";
import { parseServerControl } from "../../runtime/protocol/channels.js";
import { CREDIT_BATCH } from "../../runtime/protocol/worker.js";

class FakeChannel extends EventTarget {
  constructor(id, protocol) {
    super();
    Object.assign(this, { id, protocol, readyState: "open", bufferedAmount: 0, sent: [] });
  }

  send(bytes) {
    this.sent.push(typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes));
  }

  close() {
    if (this.readyState === "closed") return;
    this.readyState = "closed";
    this.dispatchEvent(new Event("close"));
  }

  receive(text) {
    const event = new Event("message");
    event.data = new TextEncoder().encode(text).buffer;
    this.dispatchEvent(event);
  }
}

function setUp(gate, away) {
  const posted = [];
  const worker = { post: (message) => posted.push(message) };
  const channels = new HttpChannels(worker, (visitor) => visitor.name, gate, away);
  const visitor = { name: "visitor 1", identity: "sha-256 AA:BB" };
  return { posted, channels, visitor };
}

/** Where channels are handed over (the PythonProcess's part): it takes those `takes` allows. */
function fakeAway(takes = () => true) {
  const away = {
    adopted: [],
    said: [],
    adopt: (connection, channel) => takes(channel) && away.adopted.push({ connection, channel }),
    held: (what) => away.said.push(["held", what]),
    grant: (conn, bytes) => away.said.push(["grant", conn, bytes]),
  };
  return away;
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

test("a channel opens a connection; its bytes go to the worker, the worker's back to it", async () => {
  const { posted, channels, visitor } = setUp();
  const channel = new FakeChannel(5, "https; httponly=server; window");
  const { conn } = channels.accept(visitor, channel);
  assert.deepEqual(posted.shift(), {
    type: "open",
    conn,
    scheme: "https",
    client: "visitor 1",
    identity: "sha-256 AA:BB",
  });
  channel.receive("GET /cart HTTP/1.1\r\nHost: demo\r\n\r\n");
  assert.equal(posted.shift().type, "data");
  assert.equal(channels.waitingOn(conn), "GET /cart");
  channels.send(conn, new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n"));
  assert.deepEqual(channel.sent, ["HTTP/1.1 200 OK\r\n\r\n"]);
  assert.equal(channels.waitingOn(conn), null);
  await tick();
  assert.deepEqual(posted, []); // credit goes back a batch at a time...
  for (let chunk = 1; chunk < CREDIT_BATCH; chunk++) channels.send(conn, new Uint8Array(10));
  await tick();
  assert.deepEqual(posted.shift(), { type: "credit", conn, chunks: CREDIT_BATCH }); // ...in one
  channels.end(conn);
  assert.equal(channel.readyState, "closed");
  assert.deepEqual(posted, []); // the worker ended it: nothing to tell it
});

test("a tunnel's channel keeps its own cookies, and text on a channel is not HTTP", () => {
  const { posted, channels, visitor } = setUp();
  const channel = new FakeChannel(1, "http");
  channels.accept(visitor, channel);
  assert.equal(posted.shift().identity, "");
  const text = new Event("message");
  text.data = "not bytes";
  channel.dispatchEvent(text);
  assert.deepEqual(posted, []);
  channel.close();
  assert.equal(posted.shift().type, "close"); // the visitor closed it: the worker hears
});

test("past the visitor's window the connection stalls, and a grant lets it go on", async () => {
  const { posted, channels, visitor } = setUp();
  const channel = new FakeChannel(7, "http; window");
  const { conn } = channels.accept(visitor, channel);
  posted.length = 0;
  for (let chunk = 0; chunk < CREDIT_BATCH; chunk++) {
    channels.send(conn, new Uint8Array((1024 * 1024) / CREDIT_BATCH)); // the initial window
  }
  await tick();
  assert.deepEqual(posted, []); // no credit: stalled
  channels.grant({ other: true }, 7, 65536); // another visitor's channel of the same id
  assert.deepEqual(posted, []);
  channels.grant(visitor, 7, 65536);
  assert.deepEqual(posted, [{ type: "credit", conn, chunks: CREDIT_BATCH }]);
});

test("a restart answers every waiting request and closes every channel", () => {
  const { channels, visitor } = setUp();
  const stuck = new FakeChannel(1, "http");
  const waiting = new FakeChannel(2, "http");
  const idle = new FakeChannel(3, "http");
  const [a, b] = [stuck, waiting, idle].map((channel) => channels.accept(visitor, channel));
  stuck.receive("GET /slow HTTP/1.1\r\n\r\n");
  waiting.receive("POST /form HTTP/1.1\r\n\r\n");
  channels.abortAll({ stuckConn: a.conn, stuckAnswer: (line) => `504 for ${line}` });
  assert.deepEqual(stuck.sent, ["504 for GET /slow"]);
  assert.match(waiting.sent[0], /^HTTP\/1.1 503 Service Unavailable\r\n[\s\S]*Retry-After: 5/);
  assert.deepEqual(idle.sent, []);
  assert.ok([stuck, waiting, idle].every((channel) => channel.readyState === "closed"));
  assert.equal(channels.waitingOn(b.conn), null);
});

test("a tab that may not answer lets nothing out: the channel closes instead", () => {
  const gate = { admit: () => "yes", mayAnswer: () => true };
  const { channels, visitor } = setUp(gate);
  const channel = new FakeChannel(1, "http");
  const { conn } = channels.accept(visitor, channel);
  channel.receive("POST /write HTTP/1.1\r\n\r\n");
  gate.mayAnswer = () => false; // its lease ran out while Python ran the request
  channels.send(conn, new TextEncoder().encode("HTTP/1.1 200 OK\r\n\r\n"));
  assert.deepEqual(channel.sent, []);
  assert.equal(channel.readyState, "closed");
  const other = new FakeChannel(2, "http");
  channels.accept(visitor, other);
  other.receive("POST /write HTTP/1.1\r\n\r\n");
  channels.abortAll({ stuckAnswer: () => "504" });
  assert.deepEqual(other.sent, []); // not even an error page
});

test("a channel handed over is the worker's: its grants go there, and so does the word on held requests", () => {
  const away = fakeAway();
  const { posted, channels, visitor } = setUp(undefined, away);
  const channel = new FakeChannel(4, "https; httponly=server; window");
  assert.equal(channels.accept(visitor, channel), null);
  const [{ connection }] = away.adopted;
  assert.deepEqual(connection, { conn: 1, client: "visitor 1", identity: "sha-256 AA:BB" });
  assert.deepEqual(posted, []); // nothing is relayed for it
  assert.equal(channel.binaryType, undefined); // the worker's to set: this end is not used
  channels.grant(visitor, 4, 1000);
  channels.grant(visitor, 5, 1000); // another channel's
  channels.grant({ name: "visitor 2" }, 4, 1000); // another visitor's channel 4
  channels.releaseHeld();
  assert.deepEqual(away.said, [
    ["grant", 1, 1000],
    ["held", "release"],
  ]);
  channels.forget(1); // it closed
  channels.refuseHeld();
  assert.equal(away.said.length, 2);
});

test("a restart tells each visitor which of its handed-over channels were lost, with their answers", () => {
  const away = fakeAway((channel) => channel.id !== 9); // channel 9 stays here
  const { channels } = setUp(undefined, away);
  const controls = [new FakeChannel(0, ""), new FakeChannel(0, "")];
  const [one, two] = controls.map((control, n) => ({ name: `visitor ${n}`, control }));
  channels.accept(one, new FakeChannel(1, "http")); // conn 1
  channels.accept(one, new FakeChannel(3, "http")); // conn 2
  channels.accept(two, new FakeChannel(1, "http")); // conn 3
  const kept = new FakeChannel(9, "http");
  channels.accept(two, kept); // conn 4, relayed
  kept.receive("GET /kept HTTP/1.1\r\n\r\n");
  channels.abortAll({
    stuckConn: 2,
    stuckRequest: "GET /slow",
    stuckAnswer: (line) => new TextEncoder().encode(`504 ${line}`), // as error-pages.js makes it
  });
  const [toOne, toTwo] = controls.map(({ sent }) => sent.map(parseServerControl));
  assert.equal(toOne.length, 1);
  assert.deepEqual(
    toOne[0].channels.map(({ id }) => id),
    [1, 3],
  );
  assert.match(toOne[0].channels[0].answer, /^HTTP\/1.1 503 Service Unavailable\r\n/);
  assert.equal(toOne[0].channels[1].answer, "504 GET /slow");
  assert.deepEqual(
    toTwo[0].channels.map(({ id }) => id),
    [1],
  );
  assert.match(kept.sent[0], /^HTTP\/1.1 503 /); // the one relayed here is answered here
  channels.abortAll({ stuckAnswer: () => "504" });
  assert.equal(controls[0].sent.length, 1); // all said once
});

test("a tab that may not answer says its channels were lost, with no answer", () => {
  const gate = { admit: () => "no", mayAnswer: () => false };
  const { channels } = setUp(gate, fakeAway());
  const control = new FakeChannel(0, "");
  channels.accept({ name: "v", control }, new FakeChannel(2, "http"));
  channels.abortAll({ stuckAnswer: () => "504" });
  assert.deepEqual(parseServerControl(control.sent[0]).channels, [{ id: 2, answer: null }]);
});

test("while the site moves, requests are held; then run after all, or refused unrun (421)", () => {
  const gate = { admit: () => "hold", mayAnswer: () => true };
  const { posted, channels, visitor } = setUp(gate);
  const [first, second] = [new FakeChannel(1, "http"), new FakeChannel(2, "http")];
  const [a, b] = [first, second].map((channel) => channels.accept(visitor, channel));
  posted.length = 0;
  first.receive("POST /write HTTP/1.1\r\nContent-Length: 3\r\n\r\n");
  first.receive("n=1");
  assert.deepEqual(posted, []); // held, its body too
  assert.equal(channels.running, 0);
  gate.admit = () => "yes"; // the move was refused: serving on
  channels.releaseHeld();
  assert.deepEqual(
    posted.map(({ type, conn }) => [type, conn]),
    [
      ["data", a.conn],
      ["data", a.conn],
    ],
  );
  assert.equal(channels.running, 1);
  posted.length = 0;
  gate.admit = () => "hold";
  second.receive("GET /entries HTTP/1.1\r\n\r\n");
  channels.refuseHeld(); // moved
  assert.match(second.sent[0], /^HTTP\/1.1 421 Misdirected Request\r\n/);
  assert.equal(second.readyState, "closed");
  assert.deepEqual(posted, [{ type: "close", conn: b.conn }]);
  gate.admit = () => "no"; // a tab that no longer serves refuses at once
  const third = new FakeChannel(3, "http");
  channels.accept(visitor, third);
  third.receive("GET / HTTP/1.1\r\n\r\n");
  assert.match(third.sent[0], /^HTTP\/1.1 421 /);
});

test("a request line is the method and target of the first bytes", () => {
  const bytes = new TextEncoder().encode("DELETE /notes/3?x=1 HTTP/1.1\r\nHost: a\r\n\r\n");
  assert.equal(requestLine(bytes.buffer), "DELETE /notes/3?x=1");
});
