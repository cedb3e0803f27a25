// A JSON WebSocket to the signaling service that reconnects by itself after a drop.
//
// Listeners get "open", "close" and "message" (CustomEvent, detail = the parsed message).
// Reconnection waits grow exponentially, each drawn at random from its upper half ("equal
// jitter"), so that the tabs of a restarted service do not all come back at the same moment.
//
// The first socket may be one a page opened before its modules had loaded (`early`: see
// web/shell.html): it is taken over, with what it heard meanwhile.

const CONNECTING = 0; // a WebSocket's readyState values
const OPEN = 1;

export class SignalingSocket extends EventTarget {
  /** `early`: {socket, received, stop} — a socket already opened to `url`, the data of the
   * messages it received so far, and `stop()`, which ends their keeping. */
  constructor(url, { retryMs = 500, maxRetryMs = 5000, early = null } = {}) {
    super();
    this.url = url;
    this.retryMs = retryMs;
    this.maxRetryMs = maxRetryMs;
    this.delay = retryMs;
    this.stopped = false;
    this.connect(early);
  }

  connect(early = null) {
    const taken = early?.socket.readyState <= OPEN ? early : null; // one that closed is not
    early?.stop();
    const socket = taken?.socket ?? new WebSocket(this.url);
    this.socket = socket;
    const opened = () => {
      performance.mark("peerserver:signaling-open");
      this.delay = this.retryMs;
      this.dispatchEvent(new Event("open"));
    };
    const received = (data) => {
      let message;
      try {
        message = JSON.parse(data);
      } catch {
        console.warn("signaling: ignored a message that is not JSON", data);
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    };
    socket.addEventListener("open", opened);
    socket.addEventListener("message", (event) => received(event.data));
    if (taken && socket.readyState !== CONNECTING) {
      // Said once the caller has its listeners (it adds them when this constructor returns),
      // before anything the socket hears next (a task later, at the soonest).
      queueMicrotask(() => {
        opened();
        for (const data of taken.received) received(data);
      });
    }
    socket.addEventListener("close", () => {
      this.dispatchEvent(new Event("close"));
      if (this.stopped) return;
      setTimeout(() => this.connect(), retryDelay(this.delay));
      this.delay = Math.min(this.delay * 2, this.maxRetryMs);
    });
  }

  get isOpen() {
    return this.socket.readyState === OPEN;
  }

  send(message) {
    if (this.isOpen) this.socket.send(JSON.stringify(message));
  }

  close() {
    this.stopped = true;
    this.socket.close();
  }
}

/** The ws:// or wss:// URL of `path` on this page's origin. */
export function socketUrl(path) {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${path}`;
}

/** A wait of between half of `ceilingMs` and all of it. */
export function retryDelay(ceilingMs, random = Math.random) {
  return ceilingMs / 2 + random() * (ceilingMs / 2);
}
