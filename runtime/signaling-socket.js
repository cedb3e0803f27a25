// A JSON WebSocket to the signaling service that reconnects by itself after a drop.
//
// Listeners get "open", "close" and "message" (CustomEvent, detail = the parsed message).
// Reconnection waits grow exponentially, each drawn at random from its upper half ("equal
// jitter"), so that the tabs of a restarted service do not all come back at the same moment.

export class SignalingSocket extends EventTarget {
  constructor(url, { retryMs = 500, maxRetryMs = 5000 } = {}) {
    super();
    this.url = url;
    this.retryMs = retryMs;
    this.maxRetryMs = maxRetryMs;
    this.delay = retryMs;
    this.stopped = false;
    this.connect();
  }

  connect() {
    const socket = new WebSocket(this.url);
    this.socket = socket;
    socket.addEventListener("open", () => {
      performance.mark("peerserver:signaling-open");
      this.delay = this.retryMs;
      this.dispatchEvent(new Event("open"));
    });
    socket.addEventListener("message", (event) => {
      let message;
      try {
        message = JSON.parse(event.data);
      } catch {
        console.warn("signaling: ignored a message that is not JSON", event.data);
        return;
      }
      this.dispatchEvent(new CustomEvent("message", { detail: message }));
    });
    socket.addEventListener("close", () => {
      this.dispatchEvent(new Event("close"));
      if (this.stopped) return;
      setTimeout(() => this.connect(), retryDelay(this.delay));
      this.delay = Math.min(this.delay * 2, this.maxRetryMs);
    });
  }

  get isOpen() {
    return this.socket.readyState === WebSocket.OPEN;
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
