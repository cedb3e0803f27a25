// The visitors' HTTP channels in a server tab: each data channel labelled "http" is one HTTP/1.1
// connection (runtime/protocol/channels.js), whose bytes go to Python and whose responses come
// back from it. One record per connection holds all there is to know of it.
//
// It runs in two places. In the Python worker, which a channel is handed to where the browser
// can transfer one (runtime/server-tab/python-process.js's `adopt`): there the bytes go straight
// to the worker's connections, and no request crosses the tab's main thread. And on the main
// thread, which hands each channel over as it comes (`away`), keeps the few facts it needs of
// those (the visitor, the channel's id), and holds the channels itself where it cannot hand
// them over, relaying their bytes to the worker in messages (runtime/protocol/worker.js).
//
// Flow control: the worker produces a chunk only when credited (one chunk per credit), credit
// goes back as the channel's send buffer drains (a batch at a time: runtime/protocol/worker.js's
// CREDIT_BATCH), and a visitor that grants a window (receive-window.js) gets no more than it
// allows: past it, the connection stalls until the visitor has read more.
//
// A connection whose request was answered "101 Switching Protocols" carries a WebSocket from
// then on (server_py/websocket.py): its bytes are frames, not requests, and it has no window
// (a page cannot hold back a WebSocket's messages).
//
// Nothing leaves a tab that may not answer (`gate.mayAnswer()`: it does not serve the site, or
// its lease ran out: lease.js's answerGate), and the connection closes instead. A request that
// comes while the site moves to another tab is held (`gate.admit()` says "hold") and, once it
// has moved, refused with 421 Misdirected Request, which says it was not run: the visitor's
// shell sends it again to the tab that serves now.
//
// A worker that is terminated (Python restarts) leaves the channels it held open at the
// visitor's end, and its requests unanswered: the main thread tells each visitor on its control
// channel which channels were lost, with the answer for a request that waits on one (`abortAll`).

import { whenWritable } from "./channel-io.js";
import { errorResponse } from "./error-pages.js";
import { lost, parseChannelProtocol } from "./protocol/channels.js";
import { CREDIT_BATCH, toWorker } from "./protocol/worker.js";
import { SendWindow } from "./receive-window.js";
import { requestTimings } from "./request-timings.js";

/**
 * @typedef {object} Connection
 * @property {number} conn the connection's id, as the worker knows it
 * @property {RTCDataChannel} channel
 * @property {object} visitor whose connection it is (visitors.js)
 * @property {string|null} waiting the request line awaiting its answer ("GET /path")
 * @property {SendWindow|null} window what the visitor still lets this tab send
 * @property {number} owed chunks sent (and drained) whose credit the worker has not got back
 * @property {boolean} stalled held back until the visitor has read more
 * @property {string|null} websocket the path of the WebSocket it became, if it did
 * @property {ArrayBuffer[]|null} held the request's bytes, while it is held
 */

/** Whether a new request is let in: "yes", "hold" (the site is moving), or "no" (421). */
const OPEN_GATE = { admit: () => "yes", mayAnswer: () => true };

export class HttpChannels {
  /**
   * `worker` takes the connections' messages (post(message, transfer)): the PythonProcess, or
   * within the worker its own handling of them; `label(visitor)` names a visitor in the log;
   * `gate` says whether requests come in and answers go out ({admit(), mayAnswer()}); `away`,
   * on the main thread, is where channels are handed over (the PythonProcess: adopt(connection,
   * channel) says whether it took one; held(what); grant(conn, bytes)).
   */
  constructor(worker, label, gate = OPEN_GATE, away = null) {
    this.worker = worker;
    this.label = label;
    this.gate = gate;
    this.away = away;
    this.connections = new Map(); // conn -> Connection
    this.handedOver = new Map(); // conn -> {visitor, id}: the channels `away` holds
    this.nextConn = 1;
  }

  /**
   * Take a visitor's "http" channel as a new connection (numbered `conn`), or hand it `away`:
   * then null. Called in the task the channel came in, before anything else uses it.
   */
  accept(visitor, channel, conn = this.nextConn++) {
    const protocol = parseChannelProtocol(channel.protocol);
    const client = this.label(visitor);
    const identity = protocol.httpOnlyByServer ? visitor.identity : "";
    const { id } = channel;
    if (this.away?.adopt({ conn, client, identity }, channel)) {
      this.handedOver.set(conn, { visitor, id });
      return null;
    }
    channel.binaryType = "arraybuffer";
    /** @type {Connection} */
    const connection = {
      conn,
      channel,
      visitor,
      waiting: null,
      window: protocol.window ? new SendWindow() : null,
      owed: 0,
      stalled: false,
      websocket: null,
      held: null,
    };
    this.connections.set(connection.conn, connection);
    this.worker.post(
      toWorker.open({
        conn: connection.conn,
        scheme: protocol.scheme,
        client,
        identity,
      }),
    );
    channel.addEventListener("message", (event) => this.fromVisitor(connection, event.data));
    channel.addEventListener("close", () => this.closed(connection));
    return connection;
  }

  fromVisitor(connection, data) {
    if (!(data instanceof ArrayBuffer)) return; // HTTP is bytes; text has no place here
    if (connection.held) {
      connection.held.push(data); // the rest of a held request
      return;
    }
    if (connection.waiting === null && connection.websocket === null) {
      const admitted = this.gate.admit();
      if (admitted !== "yes") {
        connection.held = [data];
        connection.waiting = requestLine(data);
        if (admitted === "no") this.refuseHeld();
        return;
      }
      connection.waiting = requestLine(data);
      requestTimings.mark(connection.waiting.split(" ")[1], "server-tab");
    }
    this.worker.post(toWorker.data(connection.conn, new Uint8Array(data)), [data]);
  }

  /** A channel handed away closed. */
  forget(conn) {
    this.handedOver.delete(conn);
  }

  /** The requests held while the site was moving go on to Python after all. */
  releaseHeld() {
    if (this.handedOver.size) this.away.held("release");
    for (const connection of this.connections.values()) {
      const held = connection.held;
      if (!held) continue;
      connection.held = null;
      connection.waiting = null;
      for (const data of held) this.fromVisitor(connection, data);
    }
  }

  /** The requests held are refused, unrun (421): their visitors ask the tab that serves now. */
  refuseHeld() {
    if (this.handedOver.size) this.away.held("refuse");
    for (const connection of [...this.connections.values()]) {
      if (!connection.held) continue;
      const { conn, channel } = connection;
      if (channel.readyState === "open") {
        channel.send(
          errorResponse(
            421,
            "Misdirected Request",
            "This request reached a tab that no longer serves the site; it was not run.",
          ),
        );
      }
      this.connections.delete(conn);
      channel.close();
      this.worker.post(toWorker.close(conn));
    }
  }

  /** How many requests Python is running (their answers have not begun). */
  get running() {
    let count = 0;
    for (const { waiting, held } of this.connections.values()) {
      if (waiting !== null && held === null) count++;
    }
    return count;
  }

  closed(connection) {
    if (this.connections.get(connection.conn) !== connection) return;
    this.connections.delete(connection.conn);
    this.worker.post(toWorker.close(connection.conn));
  }

  /** The worker's response bytes for `conn`. */
  send(conn, bytes) {
    const connection = this.connections.get(conn);
    if (connection?.waiting)
      requestTimings.mark(connection.waiting.split(" ")[1], "server-tab-head");
    if (connection?.channel.readyState !== "open") return;
    if (!this.gate.mayAnswer()) {
      connection.channel.close(); // nothing leaves a tab that may not answer
      return;
    }
    if (connection.waiting !== null && isSwitchingProtocols(bytes)) {
      connection.websocket = connection.waiting.split(" ")[1];
    }
    connection.waiting = null;
    connection.channel.send(bytes);
    connection.window?.spend(bytes.length);
    whenWritable(connection.channel).then(() => {
      connection.owed++;
      this.credit(connection);
    });
  }

  /** The worker is done with `conn`: its channel closes. */
  end(conn) {
    const connection = this.connections.get(conn);
    if (!connection) return;
    this.connections.delete(conn);
    connection.channel.close();
  }

  /** Let the worker produce more for `connection` (the credit owed, once there is a batch of
   * it), unless its window is shut. */
  credit(connection) {
    if (this.connections.get(connection.conn) !== connection) return;
    if (connection.window && !connection.window.open) {
      connection.stalled = true; // until the visitor has read more
      return;
    }
    if (connection.owed < CREDIT_BATCH) return;
    this.worker.post(toWorker.credit(connection.conn, connection.owed));
    connection.owed = 0;
  }

  /** A visitor's grant of `bytes` more on its channel `channelId`. */
  grant(visitor, channelId, bytes) {
    for (const connection of this.connections.values()) {
      if (connection.visitor === visitor && connection.channel.id === channelId) {
        this.widen(connection, bytes);
      }
    }
    for (const [conn, handed] of this.handedOver) {
      if (handed.visitor === visitor && handed.id === channelId) this.away.grant(conn, bytes);
    }
  }

  /** The grant of `bytes` more on connection `conn` (its visitor's, passed on). */
  grantConn(conn, bytes) {
    const connection = this.connections.get(conn);
    if (connection) this.widen(connection, bytes);
  }

  widen(connection, bytes) {
    if (connection.window?.grant(bytes) && connection.window.open && connection.stalled) {
      connection.stalled = false;
      this.credit(connection);
    }
  }

  /** The request line `conn` waits for an answer to, or the WebSocket it is, if either. */
  waitingOn(conn) {
    const connection = this.connections.get(conn);
    if (connection?.websocket) return `WebSocket ${connection.websocket}`;
    return connection?.waiting ?? null;
  }

  /**
   * Python is restarting: each request that waits gets an answer (`stuckAnswer(requestLine)`
   * for the one that was stuck, 503 for the others) and every channel closes; the visitors keep
   * their peer connections, and their browsers open new channels. The channels the worker held
   * are its visitors' to close, told so on their control channels with those answers.
   */
  abortAll({ stuckConn, stuckRequest, stuckAnswer }) {
    const answering = this.gate.mayAnswer();
    const answer = (conn, requestLine) =>
      conn === stuckConn
        ? stuckAnswer(requestLine)
        : errorResponse(
            503,
            "Service Unavailable",
            "The server is restarting. Try again in a few seconds.",
            "Retry-After: 5\r\n",
          );
    for (const { conn, channel, waiting } of this.connections.values()) {
      if (answering && waiting !== null && channel.readyState === "open") {
        channel.send(answer(conn, waiting));
      }
      channel.close();
    }
    this.connections.clear();
    const byVisitor = new Map(); // visitor -> [{id, answer}]
    for (const [conn, { visitor, id }] of this.handedOver) {
      const text = answering
        ? new TextDecoder().decode(answer(conn, stuckRequest ?? "A request"))
        : null;
      if (!byVisitor.has(visitor)) byVisitor.set(visitor, []);
      byVisitor.get(visitor).push({ id, answer: text });
    }
    for (const [visitor, channels] of byVisitor) {
      if (visitor.control?.readyState === "open") visitor.control.send(lost(channels));
    }
    this.handedOver.clear();
  }
}

const SWITCHING = new TextEncoder().encode("HTTP/1.1 101 ");

function isSwitchingProtocols(bytes) {
  return SWITCHING.every((byte, index) => bytes[index] === byte);
}

/** "GET /path", from the first bytes of a request, for the log and error pages. */
export function requestLine(buffer) {
  const head = new TextDecoder().decode(
    new Uint8Array(buffer, 0, Math.min(buffer.byteLength, 512)),
  );
  return head.split("\r\n", 1)[0].split(" ").slice(0, 2).join(" ");
}
