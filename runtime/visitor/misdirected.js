// Requests a server tab refused without running them (421 Misdirected Request: the site moved
// to another tab, runtime/http-channels.js), and sending them again: RFC 9110 lets a
// client retry such a request over another connection, whatever its method, since it was not
// run. site-client.js sends it again once it follows the site; a body that came as a stream
// is kept as it is read, up to MAX_REPLAY_BYTES, to be sent again.

export const MAX_REPLAY_BYTES = 16 * 1024 * 1024;

/**
 * `sink`, unless the response is 421 Misdirected Request and the request can be sent again
 * (`canRetry()`): then nothing of it reaches `sink`, and `outcome` resolves to "misdirected"
 * once it is over; otherwise to "answered" as soon as its head came (or its error).
 */
export function unlessMisdirected(sink, canRetry) {
  let settle;
  const outcome = new Promise((resolve) => {
    settle = resolve;
  });
  let misdirected = false;
  const forward = {
    opened: (control) => sink.opened?.(control),
    head: (head) => {
      misdirected = head.status === 421 && canRetry();
      if (misdirected) return;
      settle("answered");
      sink.head(head);
    },
    data: (bytes) => {
      if (!misdirected) sink.data(bytes);
    },
    end: () => {
      if (misdirected) settle("misdirected");
      else sink.end();
    },
    error: (message) => {
      if (misdirected) {
        settle("misdirected");
        return;
      }
      settle("answered");
      sink.error(message);
    },
  };
  return { outcome, sink: forward };
}

/**
 * A request body that comes as pieces (from the service worker), kept as it is read so that it
 * can be sent again: `whole` says whether it was all read and kept (at most `maxBytes`).
 */
export class KeptBody {
  constructor(source, maxBytes = MAX_REPLAY_BYTES) {
    this.source = source;
    this.maxBytes = maxBytes;
    this.kept = [];
    this.size = 0;
    this.read = false; // whether the source was read (it can be only once)
    this.whole = false;
  }

  /** The body's pieces: from the source the first time, from what was kept after. */
  async *pieces() {
    if (this.read) {
      if (!this.whole) throw new Error("the request body was too large to send again");
      yield* this.kept;
      return;
    }
    this.read = true;
    for await (const piece of this.source) {
      this.size += piece.length;
      if (this.size <= this.maxBytes) this.kept.push(piece.slice());
      else this.kept = [];
      yield piece;
    }
    this.whole = this.size <= this.maxBytes;
  }
}
