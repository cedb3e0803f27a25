// The `WebSocket` of a site's pages and of the workers they start: the browser's own API, whose
// sockets to the site itself go through the visitor's shell to the server tab
// (protocol/page-sockets.js), since no WebSocket can reach a server tab's site directly.
// Sockets to any other host are the browser's own, untouched.
//
// The service worker puts this script first in each page of the site and each worker script
// (visitor/page-scripts.js); signaling/bundle builds it into one classic script.

import {
  CLOSE,
  CLOSED,
  CONNECT,
  MESSAGE,
  OPEN,
  SEND,
  SENT,
  WORKER_ROUTE,
} from "../protocol/page-sockets.js";
import { isPageCloseCode } from "../websocket.js";

const CONNECTING = 0;
const OPEN_STATE = 1;
const CLOSING = 2;
const CLOSED_STATE = 3;
const STATES = { CONNECTING, OPEN: OPEN_STATE, CLOSING, CLOSED: CLOSED_STATE };

/**
 * How this context reaches the shell: `route(message, port)`. A page posts to the shell's
 * window; a worker, to the port the context that started it gave it (held until it comes).
 */
export function makeRoute(scope) {
  if (typeof scope.document !== "undefined") {
    return (message, port) => scope.top.postMessage(message, scope.location.origin, [port]);
  }
  let parent = null;
  const waiting = [];
  // First of the worker's listeners: the route is not the worker's own message to see.
  scope.addEventListener("message", (event) => {
    if (parent || !event.data?.[WORKER_ROUTE]) return;
    event.stopImmediatePropagation();
    parent = event.ports[0];
    for (const [message, port] of waiting.splice(0)) parent.postMessage(message, [port]);
  });
  return (message, port) => {
    if (parent) parent.postMessage(message, [port]);
    else waiting.push([message, port]);
  };
}

/**
 * The WebSocket class for `scope` (a window or a worker's global scope), whose own sockets to
 * `scope.location`'s host go by `route`.
 */
export function makeWebSocket(scope, route) {
  const Native = scope.WebSocket;
  const open = new Set(); // the sockets to close with 1001 when the page goes away

  class WebSocket extends EventTarget {
    #url;
    #state = CONNECTING;
    #buffered = 0;
    #protocol = "";
    #extensions = "";
    #binaryType = "blob";
    #port;
    #handlers = {};

    // biome-ignore lint/correctness/noUnreachableSuper: a socket to another host is the browser's own
    constructor(url, protocols = []) {
      const target = socketUrl(url, scope.location);
      const offered = typeof protocols === "string" ? [protocols] : [...protocols];
      if (new Set(offered).size !== offered.length || !offered.every(isToken)) {
        throw new DOMException(`Invalid subprotocols: ${offered}`, "SyntaxError");
      }
      // biome-ignore lint/correctness/noConstructorReturn: another host's socket is the browser's own
      if (target.host !== scope.location.host) return new Native(target.href, offered);
      super();
      this.#url = target.href;
      const { port1, port2 } = new MessageChannel();
      this.#port = port1;
      port1.onmessage = ({ data }) => this.#fromShell(data);
      open.add(this);
      route({ type: CONNECT, url: this.#url, protocols: offered }, port2);
    }

    static [Symbol.hasInstance](value) {
      return (
        Object.prototype.isPrototypeOf.call(WebSocket.prototype, value) || value instanceof Native
      );
    }

    get url() {
      return this.#url;
    }
    get readyState() {
      return this.#state;
    }
    get bufferedAmount() {
      return this.#buffered;
    }
    get protocol() {
      return this.#protocol;
    }
    get extensions() {
      return this.#extensions;
    }
    get binaryType() {
      return this.#binaryType;
    }
    set binaryType(value) {
      if (value === "blob" || value === "arraybuffer") this.#binaryType = value;
    }

    send(data) {
      if (this.#state === CONNECTING) {
        throw new DOMException("Still in CONNECTING state.", "InvalidStateError");
      }
      const { payload, size } = asPayload(data);
      this.#buffered += size;
      // Past OPEN the message is not sent, but still counted, as the API says.
      if (this.#state === OPEN_STATE) this.#port.postMessage({ type: SEND, data: payload });
    }

    close(code, reason = "") {
      if (code !== undefined && !isPageCloseCode(code)) {
        throw new DOMException(`The close code ${code} is not allowed.`, "InvalidAccessError");
      }
      if (new TextEncoder().encode(reason).length > 123) {
        throw new DOMException("The close reason is longer than 123 bytes.", "SyntaxError");
      }
      if (this.#state === CLOSING || this.#state === CLOSED_STATE) return;
      this.#state = CLOSING;
      this.#port.postMessage({ type: CLOSE, code, reason });
    }

    /** The page goes away: the server hears 1001 (Going Away), the page nothing more. */
    #leave() {
      if (this.#state !== CLOSED_STATE) this.#port.postMessage({ type: CLOSE, code: 1001 });
      this.#state = CLOSED_STATE;
      this.#port.close();
    }

    #fromShell(message) {
      if (this.#state === CLOSED_STATE) return;
      if (message.type === OPEN) {
        if (this.#state !== CONNECTING) return; // closed before it opened: the close comes
        this.#state = OPEN_STATE;
        this.#protocol = message.protocol;
        this.#extensions = message.extensions;
        this.dispatchEvent(new Event("open"));
      } else if (message.type === MESSAGE && this.#state === OPEN_STATE) {
        const data =
          typeof message.data === "string" || this.#binaryType === "arraybuffer"
            ? message.data
            : new Blob([message.data]);
        this.dispatchEvent(
          new MessageEvent("message", { data, origin: new URL(this.#url).origin }),
        );
      } else if (message.type === SENT) {
        this.#buffered = Math.max(0, this.#buffered - message.bytes);
      } else if (message.type === CLOSED) {
        this.#state = CLOSED_STATE;
        open.delete(this);
        this.#port.close();
        if (message.error) this.dispatchEvent(new Event("error"));
        const { code, reason, wasClean } = message;
        this.dispatchEvent(new CloseEvent("close", { code, reason, wasClean }));
      }
    }

    static {
      scope.addEventListener("pagehide", () => {
        for (const socket of open) socket.#leave();
        open.clear();
      });
      for (const type of ["open", "message", "error", "close"]) {
        Object.defineProperty(WebSocket.prototype, `on${type}`, {
          get() {
            return this.#handlers[type] ?? null;
          },
          set(handler) {
            if (this.#handlers[type]) this.removeEventListener(type, this.#handlers[type]);
            this.#handlers[type] = typeof handler === "function" ? handler : null;
            if (this.#handlers[type]) this.addEventListener(type, this.#handlers[type]);
          },
          configurable: true,
          enumerable: true,
        });
      }
      for (const [name, value] of Object.entries(STATES)) {
        Object.defineProperty(WebSocket, name, { value, enumerable: true });
        Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
      }
    }
  }

  return WebSocket;
}

/** The contexts this one starts (workers) get a route to the shell through this one. */
export function relayToWorkers(scope, route) {
  const NativeWorker = scope.Worker;
  if (typeof NativeWorker !== "function") return;
  scope.Worker = class Worker extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      const { port1, port2 } = new MessageChannel();
      port1.onmessage = ({ data, ports }) => {
        if (data?.type === CONNECT) route(data, ports[0]);
      };
      super.postMessage({ [WORKER_ROUTE]: true }, [port2]);
    }
  };
}

/** The socket's URL, as the API resolves it: http(s) means ws(s), a fragment is an error. */
export function socketUrl(url, base) {
  let parsed;
  try {
    parsed = new URL(url, base);
  } catch {
    throw new DOMException(`The URL '${url}' is invalid.`, "SyntaxError");
  }
  if (parsed.protocol === "http:") parsed.protocol = "ws:";
  else if (parsed.protocol === "https:") parsed.protocol = "wss:";
  if (parsed.protocol !== "ws:" && parsed.protocol !== "wss:") {
    throw new DOMException(`The URL's scheme must be 'ws' or 'wss': ${url}`, "SyntaxError");
  }
  if (parsed.hash) {
    throw new DOMException(`The URL contains a fragment identifier: ${url}`, "SyntaxError");
  }
  return parsed;
}

function isToken(text) {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(text);
}

/** What `send` was given, as the shell takes it, and its size in bytes. */
function asPayload(data) {
  if (typeof data === "string")
    return { payload: data, size: new TextEncoder().encode(data).length };
  if (data instanceof Blob) return { payload: data, size: data.size };
  if (data instanceof ArrayBuffer) return { payload: data.slice(0), size: data.byteLength };
  if (ArrayBuffer.isView(data)) {
    const copy = new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
    return { payload: copy.buffer, size: copy.byteLength };
  }
  const text = String(data);
  return { payload: text, size: new TextEncoder().encode(text).length };
}

/** Install the shell's WebSocket in `scope` (once). */
export function install(scope) {
  if (scope.WebSocket?.peerServer) return;
  const route = makeRoute(scope);
  const WebSocket = makeWebSocket(scope, route);
  Object.defineProperty(WebSocket, "peerServer", { value: true });
  scope.WebSocket = WebSocket;
  relayToWorkers(scope, route);
}
