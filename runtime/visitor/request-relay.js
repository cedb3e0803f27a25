// The shell's side of the service-worker protocol (protocol/service-worker.js): each request a
// page of the site makes comes from the service worker with a port of its own; it goes to the
// site over the peer connection (site-client.js), with the visitor's cookies, and the answer
// goes back on the port as it comes: its head, its body in pieces, its end.

import { concat } from "../http1.js";
import {
  BODY,
  BODY_END,
  BODY_ERROR,
  CANCEL,
  DATA,
  END,
  ERROR,
  HEAD,
  MORE,
  UNREAD,
} from "../protocol/service-worker.js";
import { requestTimings } from "../request-timings.js";
import { framedByShell } from "./framing.js";

export class RequestRelay {
  /**
   * `client` is the SiteRequests (its request()); `cookies` has header(url, scriptCookies)
   * (the Cookie header for a request to `url`) and store(values, url) (the Set-Cookie values
   * of a response; the response goes on once it is done, if it returns a promise: the site's
   * scripts see the cookies as soon as they see the response); `userAgent` is the browser's.
   */
  constructor({ client, cookies, userAgent }) {
    Object.assign(this, { client, cookies, userAgent });
  }

  /** Answer the service worker's `request` ({type: "fetch"}'s) on `port`. */
  relay(request, port) {
    requestTimings.mark(request.target, "service-worker", request.receivedAt);
    requestTimings.mark(request.target, "shell");
    request.headers.push(["User-Agent", this.userAgent]);
    const cookie = this.cookies.header(request.url, request.scriptCookies);
    if (cookie) request.headers.push(["Cookie", cookie]);
    let flow = null;
    const body = request.streamed ? new BodyPieces(port) : null;
    port.onmessage = ({ data }) => {
      if (data?.type === UNREAD) flow?.unread(data.bytes);
      else if (data?.type === CANCEL) flow?.cancel();
      else body?.take(data);
    };
    // A small response usually comes in one message from the channel: its head, body and end
    // go on to the service worker as one message too, which then answers without a stream.
    let held = null;
    const postHeld = () => {
      const { head, pieces, end } = held;
      held = null;
      if (!request.takesWhole) {
        port.postMessage({ type: HEAD, ...head });
        for (const bytes of pieces) port.postMessage({ type: DATA, bytes }, [bytes.buffer]);
        if (end) port.postMessage({ type: END });
        return;
      }
      const bytes = pieces.reduce(concat, new Uint8Array(0));
      port.postMessage({ type: HEAD, ...head, bytes, end }, [bytes.buffer]);
    };
    this.client.request(
      { ...request, bodyStream: body },
      {
        opened: (control) => {
          flow = control;
        },
        head: ({ status, statusText, headers }) => {
          requestTimings.mark(request.target, "shell-head");
          const isSetCookie = ([name]) => name.toLowerCase() === "set-cookie";
          const stored = this.cookies.store(
            headers.filter(isSetCookie).map(([, value]) => value),
            request.url,
          );
          let kept = headers.filter((header) => !isSetCookie(header));
          if (request.destination === "iframe") kept = framedByShell(kept); // a page in the shell
          held = { head: { status, statusText, headers: kept }, pieces: [], end: false };
          // After the rest of the channel's message is taken apart (a microtask later), and
          // the cookies are kept.
          Promise.resolve(stored).then(postHeld, postHeld);
        },
        data: (bytes) => {
          if (held) held.pieces.push(bytes);
          else port.postMessage({ type: DATA, bytes }, [bytes.buffer]);
        },
        end: () => {
          if (held) held.end = true;
          else port.postMessage({ type: END });
        },
        error: (text) => port.postMessage({ type: ERROR, message: text }),
      },
    );
  }
}

/**
 * A request body the service worker streams over its port: each piece is asked for ("more")
 * when the one before has gone on, so that neither side holds more than one.
 */
export class BodyPieces {
  constructor(port) {
    this.port = port;
    this.pieces = [];
    this.ended = false;
    this.failure = null;
    this.wake = null;
  }

  take(message) {
    if (message?.type === BODY) this.pieces.push(message.bytes);
    else if (message?.type === BODY_END) this.ended = true;
    else if (message?.type === BODY_ERROR) this.failure = message.message;
    else return;
    this.wake?.();
  }

  async *[Symbol.asyncIterator]() {
    for (;;) {
      this.port.postMessage({ type: MORE });
      while (!this.pieces.length && !this.ended && this.failure === null) {
        await new Promise((resolve) => {
          this.wake = resolve;
        });
      }
      if (this.failure !== null)
        throw new Error(`the request body could not be read: ${this.failure}`);
      if (!this.pieces.length) return;
      yield this.pieces.shift();
    }
  }
}
