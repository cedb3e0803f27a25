// The worker's side of the HTTP connections: bytes in, to server_py's h11 connections, and
// response chunks out, pulled from Python only while the server tab has granted credit (one
// chunk per credit), so that a large response flows at the pace of its data channel.
//
// A connection that became a WebSocket sends when the site's handlers write, which happens
// when Python polls them (after anything arrives, and when a timer of theirs is due): `poll`
// tells which connections have something to send then.

const CHUNK = 64 * 1024;
const INITIAL_CREDIT = 8;

export class Connections {
  /** `server` is server_py.worker.SiteServer; `post` sends the server tab a message. */
  constructor(server, post) {
    this.server = server;
    this.post = post;
    this.credit = new Map(); // conn -> chunks it may still send
  }

  get count() {
    return this.credit.size;
  }

  open({ conn, scheme, client, identity }) {
    this.server.open(conn, scheme, client, identity || "");
    this.credit.set(conn, INITIAL_CREDIT);
  }

  receive(conn, bytes) {
    this.server.receive(conn, bytes);
  }

  grant(conn, chunks) {
    if (!this.credit.has(conn)) return;
    this.credit.set(conn, this.credit.get(conn) + chunks);
    this.pump(conn);
  }

  close(conn) {
    this.credit.delete(conn);
    this.server.close(conn);
  }

  /** Something went wrong with `conn` in the runtime itself: it ends, the others go on. */
  drop(conn) {
    this.credit.delete(conn);
    this.post({ type: "end", conn });
  }

  /**
   * Let the site's WebSocket handlers run (server_py.worker.SiteServer.poll) and send what they
   * wrote. Resolves to when to poll again, in ms (null: when something arrives); `ran()` is
   * awaited first if any of the site's code ran (its changed files are kept before anything
   * leaves).
   */
  async poll(ran) {
    const proxy = this.server.poll();
    const { ran: codeRan, ready, wakeMs } = proxy.toJs({ dict_converter: Object.fromEntries });
    proxy.destroy();
    if (codeRan) await ran();
    for (const conn of ready) this.pump(conn);
    return wakeMs ?? null;
  }

  /**
   * Python stops: the site's WebSockets close with 1012 (server_py.worker.SiteServer.stop),
   * and those last bytes go out whatever the credit.
   */
  stop(reason) {
    const proxy = this.server.stop(reason);
    const conns = proxy.toJs();
    proxy.destroy();
    for (const conn of conns) {
      for (;;) {
        const bytes = this.take(conn);
        if (!bytes.length) break;
        this.post({ type: "send", conn, bytes }, [bytes.buffer]);
      }
    }
  }

  /** Send what `conn` has to send, as far as its credit allows; end it when it is done. */
  pump(conn) {
    while (this.credit.get(conn) > 0) {
      const bytes = this.take(conn);
      if (!bytes.length) break;
      this.credit.set(conn, this.credit.get(conn) - 1);
      this.post({ type: "send", conn, bytes }, [bytes.buffer]);
    }
    if (this.server.should_close(conn)) {
      this.credit.delete(conn);
      this.server.close(conn);
      this.post({ type: "end", conn });
    }
  }

  take(conn) {
    const proxy = this.server.data_to_send(conn, CHUNK);
    const bytes = proxy.toJs();
    proxy.destroy();
    return bytes;
  }
}
