// The page's side of the shell's request worker (runtime/protocol/request-worker.js): it stands
// for a SiteRequests (site-requests.js) to the page's SiteClient, with the same methods, while
// the real one runs in the worker (request-worker.js), which the page hands each connection's
// channels to as they are made, and the ports its service worker sends requests on.

import {
  ASK,
  CHANNEL,
  CLOSED,
  COOKIES,
  LOST,
  MOVED,
  Requests,
  RESULT,
  toWorker,
} from "../protocol/request-worker.js";
import { httpChannelProtocol } from "./channel-pool.js";
import { jarJson, storeSetCookies, watchJar } from "./site-cookies.js";

/**
 * `worker`, the shell's request worker (started by shell.html, as the page loads), or null if
 * there is none, or where this browser cannot hand it a data channel (it cannot transfer one:
 * DataCloneError); then the requests stay on the page.
 */
export function requestWorkerFor(worker) {
  if (!worker) return null;
  const pc = new RTCPeerConnection();
  try {
    const channel = pc.createDataChannel("probe");
    worker.postMessage(toWorker.probe(channel), [channel]);
    return worker;
  } catch (error) {
    if (error.name !== "DataCloneError") throw error;
    worker.terminate();
    return null;
  } finally {
    pc.close();
  }
}

export class RequestsInWorker {
  /** `worker`: the request worker; the options are SiteRequests'. */
  constructor(worker, { scheme, host, moved, lost, closed }) {
    this.worker = worker;
    this.scheme = scheme;
    this.told = { moved, lost, closed };
    this.calls = new Requests(); // connect and drain, answered by "result"
    this.connection = 0; // numbers the connections, so that an old one's news is not heard
    this.makeChannel = null; // the current connection's, while it lasts
    // Rejected if the worker does not start (its script did not load): with an error that has
    // a reason to tell the visitor (`visitorReason`).
    this.failure = new Promise((_resolve, reject) => {
      this.fail = reject;
    });
    this.failure.catch(() => {}); // heard by what waits on the worker
    worker.addEventListener("message", ({ data }) => this.heard(data));
    // A worker that did not load says so with a plain Event; an exception it did not catch
    // (an ErrorEvent) leaves it running, and is only said.
    worker.addEventListener("error", (event) => {
      if (event instanceof ErrorEvent) console.warn("PeerServer: request worker:", event.message);
      else this.failed();
    });
    const { userAgent } = navigator;
    worker.postMessage(toWorker.start({ scheme, host, userAgent, jar: jarJson() }));
    watchJar((json) => worker.postMessage(toWorker.jar(json)));
  }

  /** As SiteRequests.connect: the channels go to the worker (in the task they were made in:
   * a channel can be transferred only then), and a first HTTP channel with them. */
  connect({ control, makeChannel, keepsCookies }) {
    const connection = ++this.connection;
    this.makeChannel = makeChannel;
    const first = makeChannel(httpChannelProtocol(this.scheme, keepsCookies));
    const message = (id) => toWorker.connect(id, { connection, control, first, keepsCookies });
    const answered = this.calls.ask((id) => this.worker.postMessage(message(id), [control, first]));
    return Promise.race([answered, this.failure]);
  }

  setState(state, reason) {
    this.worker.postMessage(toWorker.state(state, reason));
  }

  reset() {
    this.makeChannel = null;
    this.worker.postMessage(toWorker.reset());
  }

  drain(timeoutMs) {
    const drained = this.calls.ask((id) => this.worker.postMessage(toWorker.drain(id, timeoutMs)));
    return Promise.race([drained, this.failure]);
  }

  /** The requests of `port`, a port the service worker was handed, go to the worker. */
  take(port) {
    this.worker.postMessage(toWorker.port(), [port]);
  }

  /** A request that came the old way, on its own `port`, goes to the worker. */
  relay(request, port) {
    this.worker.postMessage(toWorker.fetch(request), [port]);
  }

  /** The worker did not start: what waits on it fails, and each connection from now on. */
  failed() {
    const error = new Error("the shell's request worker did not start");
    error.visitorReason = "This page's request worker did not start: reload the page.";
    this.fail(error);
  }

  heard(message) {
    const current = message?.connection === this.connection && this.makeChannel !== null;
    switch (message?.type) {
      case RESULT:
        this.calls.settle(message);
        break;
      case ASK:
        this.answer(message.id, message.question);
        break;
      case MOVED:
        if (current) this.told.moved();
        break;
      case LOST:
        if (current) this.told.lost(message.ids);
        break;
      case CLOSED:
        if (current) this.told.closed();
        break;
    }
  }

  answer(id, question) {
    const reply = (outcome, transfer = []) =>
      this.worker.postMessage(toWorker.reply(id, outcome), transfer);
    if (question.type === CHANNEL) {
      if (question.connection !== this.connection || this.makeChannel === null) {
        reply({ error: "the connection closed" });
        return;
      }
      const channel = this.makeChannel(question.protocol);
      reply({ value: channel }, [channel]);
    } else if (question.type === COOKIES) {
      try {
        storeSetCookies(question.values, question.url); // the worker has the new jar first
      } catch (error) {
        console.warn("PeerServer: the site's cookies could not be kept:", error);
      }
      reply({});
    }
  }
}
