// The worker's side of the HTTP connections: bytes in, to server_py's h11 connections, and
// response chunks out, pulled from Python only while the server tab has granted credit (one
// chunk per credit), so that a large response flows at the pace of its data channel.
//
// Each connection's messages are handled in order, on a lane of its own, and each connection is
// a thread of the site's (threads.js), as in a threaded server: a request that waits (for a
// queue another request fills, say) holds back its own connection only.
//
// A connection that became a WebSocket sends when the site's handlers write, which happens
// when Python polls them (after anything arrives, and when a timer of theirs is due): `poll`
// tells which connections have something to send then.

import { MAX_MESSAGE_BYTES } from "../protocol/channels.js";
import { fromWorker, INITIAL_CREDIT } from "../protocol/worker.js";

export class Connections {
  /** `server` is server_py.worker.SiteServer; `post` sends the server tab a message;
   * `threads` is the SiteThreads every call into the site's code goes through. */
  constructor(server, post, threads) {
    Object.assign(this, { server, post, threads });
    this.credit = new Map(); // conn -> chunks it may still send
    this.idents = new Map(); // conn -> its thread's identity
    this.lanes = new Map(); // conn -> its messages handled so far (a promise)
    this.pumping = new Map(); // conn -> its pumps so far (a promise)
    // The methods called for each connection, looked up once (each lookup of a Python method
    // makes a proxy of it, which costs, and lives until JavaScript's garbage collector runs).
    this.methods = {
      receive: server.receive,
      take: server.data_to_send,
      close: server.close,
      pending: server.has_pending_output,
      shouldClose: server.should_close,
      poll: server.poll,
      socketTaken: server.socket_taken,
    };
    this.sockets = threads.newIdent(); // the thread of the site's WebSocket handlers
  }

  get count() {
    return this.credit.size;
  }

  /**
   * Run `work` once what came before on `conn` is done; `failed(error)` hears what it threw.
   * Another connection's messages do not wait for it.
   */
  lane(conn, work, failed) {
    const done = (this.lanes.get(conn) ?? Promise.resolve()).then(work).catch(failed);
    this.lanes.set(conn, done);
    done.then(() => {
      if (this.lanes.get(conn) === done && !this.credit.has(conn)) this.lanes.delete(conn);
    });
    return done;
  }

  /** Call the site's `method` for `conn`, as its thread. */
  call(conn, method, ...args) {
    return this.threads.call(this.idents.get(conn), { conn }, method, conn, ...args);
  }

  open({ conn, scheme, client, identity }) {
    this.server.open(conn, scheme, client, identity || "");
    this.credit.set(conn, INITIAL_CREDIT);
    this.idents.set(conn, this.threads.newIdent());
  }

  receive(conn, bytes) {
    return this.call(conn, this.methods.receive, bytes);
  }

  /** Whether what arrives on `conn` is for the socket a WSGI app took (server_py/
   * wsgi_socket.py) rather than HTTP requests. */
  socketTaken(conn) {
    return this.methods.socketTaken(conn);
  }

  /** Bytes for the socket a WSGI app took: they go to it at once (the app's reader wakes when
   * its thread next runs); no site code runs here. */
  feedSocket(conn, bytes) {
    this.methods.receive(conn, bytes);
  }

  async grant(conn, chunks) {
    if (!this.credit.has(conn)) return;
    this.credit.set(conn, this.credit.get(conn) + chunks);
    await this.pump(conn);
  }

  async close(conn) {
    this.credit.delete(conn);
    await this.call(conn, this.methods.close);
    this.threads.forget(this.idents.get(conn));
    this.idents.delete(conn);
  }

  /** Something went wrong with `conn` in the runtime itself: it ends, the others go on. */
  drop(conn) {
    this.credit.delete(conn);
    this.post(fromWorker.end(conn));
  }

  /**
   * Let the site's WebSocket handlers run (server_py.worker.SiteServer.poll) and send what they
   * wrote. Resolves to when to poll again, in ms (null: when something arrives); `ran()` is
   * awaited first if any of the site's code ran (its changed files are kept before anything
   * leaves). `cause` is what the time limit knows them by.
   */
  async poll(ran, cause) {
    if (!this.server.polls) return null; // a WSGI app with no WebSocket: nothing to poll
    const proxy = await this.threads.call(this.sockets, cause, this.methods.poll);
    const { ran: codeRan, ready, wakeMs } = proxy.toJs({ dict_converter: Object.fromEntries });
    proxy.destroy();
    if (codeRan) await ran();
    for (const conn of ready) await this.pump(conn);
    return wakeMs ?? null;
  }

  /**
   * Python stops: the site's WebSockets close with 1012 (server_py.worker.SiteServer.stop),
   * and those last bytes go out whatever the credit.
   */
  async stop(reason) {
    const proxy = this.server.stop(reason);
    const conns = proxy.toJs();
    proxy.destroy();
    for (const conn of conns) {
      for (;;) {
        const bytes = await this.take(conn);
        if (!bytes.length) break;
        this.post(fromWorker.send(conn, bytes), [bytes.buffer]);
      }
    }
  }

  /**
   * Send what `conn` has to send, as far as its credit allows; end it when it is done. One
   * pump of a connection at a time (its lane's, a poll's): a pump that finds nothing left to
   * send must not end the connection while another is still taking its last bytes.
   */
  pump(conn) {
    const pumped = (this.pumping.get(conn) ?? Promise.resolve())
      .catch(() => {}) // that pump's failure was its caller's to hear
      .then(() => this.pumpNow(conn));
    this.pumping.set(conn, pumped);
    const forget = () => {
      if (this.pumping.get(conn) === pumped) this.pumping.delete(conn);
    };
    pumped.then(forget, forget);
    return pumped;
  }

  /** One pump: Python is asked whether there is anything to send before it is taken (taking
   * is a call into the site's code, which costs far more than the question). */
  async pumpNow(conn) {
    while (this.credit.get(conn) > 0 && this.methods.pending(conn)) {
      const bytes = await this.take(conn);
      // Nothing after all; or the connection ended meanwhile (another pump found it done).
      if (!bytes.length || !this.credit.has(conn)) break;
      this.credit.set(conn, this.credit.get(conn) - 1);
      this.post(fromWorker.send(conn, bytes), [bytes.buffer]);
    }
    if (this.credit.has(conn) && this.methods.shouldClose(conn)) {
      this.credit.delete(conn);
      this.methods.close(conn);
      this.post(fromWorker.end(conn));
    }
  }

  async take(conn) {
    const proxy = await this.call(conn, this.methods.take, MAX_MESSAGE_BYTES);
    const bytes = proxy.toJs();
    proxy.destroy();
    return bytes;
  }
}
