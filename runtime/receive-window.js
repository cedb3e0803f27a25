// Flow control from the page that reads a response back to the server tab that writes it.
//
// A data channel cannot be paused on the receiving side: every message is delivered as it
// arrives, whether or not the page reads the response. So the visitor grants the server tab a
// window of bytes per HTTP channel and widens it as the page reads; the server tab sends no
// further than the window allows and holds back the Python worker (which produces only when
// credited) meanwhile. From the server tab through the shell to the service worker's stream,
// a page that stops reading then holds at most a window's worth of bytes, not the response.
//
// Grants travel on the control channel, and a channel opts in with "window" in its protocol
// (runtime/protocol/channels.js); others (a tunnel's, whose TCP peer has its own flow control)
// are not held back.

export const INITIAL_WINDOW = 1024 * 1024;
const MAX_GRANT = 64 * 1024 * 1024;

/** The bytes a server tab may still send on one channel. No I/O: the caller sends and waits. */
export class SendWindow {
  constructor(bytes = INITIAL_WINDOW) {
    this.bytes = bytes;
  }

  /** Whether the next message may go out now. */
  get open() {
    return this.bytes > 0;
  }

  /** `count` bytes went out. */
  spend(count) {
    this.bytes -= count;
  }

  /** The visitor read more; a grant that is not a sane number of bytes is ignored. */
  grant(bytes) {
    if (!Number.isSafeInteger(bytes) || bytes <= 0 || bytes > MAX_GRANT) return false;
    this.bytes = Math.min(this.bytes + bytes, MAX_GRANT);
    return true;
  }
}

/**
 * The visitor's side of one channel: the bytes that came in on it, and how many of them the
 * page has read, which is all of them but what still waits in the service worker's stream of
 * the response in progress. The server tab gets back what was read in steps of at least `step`
 * bytes, so that neither reading nor small responses cost a message each: a channel keeps back
 * less than a step of its window, and a response that completes gives back all the rest.
 */
export class ReadAccount {
  constructor(step = 64 * 1024) {
    this.step = step;
    this.received = 0;
    this.granted = 0;
  }

  receive(count) {
    this.received += count;
  }

  /** The grant to send now (0 for none), `waiting` bytes being still unread by the page. */
  grantFor(waiting) {
    const grant = this.received - Math.max(0, waiting) - this.granted;
    if (grant < this.step) return 0;
    this.granted += grant;
    return grant;
  }

  /** A response is complete, read or not: the grant to send now (0 for none). */
  complete() {
    return this.grantFor(0);
  }
}
