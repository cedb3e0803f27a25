// A JSON WebSocket to the signaling service that reconnects by itself after a drop.
//
// Listeners get "open", "close" and "message" (CustomEvent, detail = the parsed message).

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
      setTimeout(() => this.connect(), this.delay);
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
