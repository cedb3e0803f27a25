// The request log's lines (one per request the site answered: server_py's RequestRecord) go to
// the server tab with the worker's next message, whatever it is (its `requests`), not in one
// message each: a message to the main thread costs tens of microseconds, as much as a small
// request's whole HTTP handling. So they keep their order with everything else the worker says
// (a traceback, a crash), and a line waits at most FLUSH_AFTER_MS when nothing else is said.

import { fromWorker } from "../protocol/worker.js";

const FLUSH_AFTER_MS = 50;

export class RequestLog {
  /** `post(message)` sends the server tab a message (through `attach`); `defer(run)` runs
   * `run` a while later. */
  constructor(post, defer = (run) => setTimeout(run, FLUSH_AFTER_MS)) {
    this.post = post;
    this.defer = defer;
    this.records = [];
    this.due = false; // a flush is deferred
  }

  /** One more line: it goes with the next message, or within FLUSH_AFTER_MS on its own. */
  add(record) {
    this.records.push(record);
    if (this.due) return;
    this.due = true;
    this.defer(() => {
      this.due = false;
      if (this.records.length) this.post(fromWorker.requests());
    });
  }

  /** `message`, with the lines that wait as its `requests`. */
  attach(message) {
    if (!this.records.length) return message;
    message.requests = this.records;
    this.records = [];
    return message;
  }
}
