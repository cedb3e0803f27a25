// The worker's side of the HTTP connections: bytes in, to server_py's h11 connections, and
// response chunks out, pulled from Python only while the server tab has granted credit (one
// chunk per credit), so that a large response flows at the pace of its data channel.

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

  /** Send what `conn` has to send, as far as its credit allows; end it when it is done. */
  pump(conn) {
    while (this.credit.get(conn) > 0) {
      const proxy = this.server.data_to_send(conn, CHUNK);
      const bytes = proxy.toJs();
      proxy.destroy();
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
}
