// What the worker tells the server tab of the site's code running ("busy" with what runs) and
// no longer running ("idle"), for the time limit (server-tab/watchdog.js), in as few messages
// as say it: a request's handling calls into Python several times in a row (its request, its
// response's chunks, the WebSocket handlers' poll), and a message to the main thread costs
// more than most of those calls.
//
// So "idle" waits a moment (IDLE_AFTER_MS: not just the end of the task, as each call into
// Python returns through a task of its own): if the site's code runs again meanwhile, nothing
// is said, and if it runs for the same cause as the main thread was last told, not even "busy"
// is said again: the time limit counts those calls as one run, which they nearly are. A wait
// (a timer, a message from the main thread, a thread's sleep) longer than that moment is said
// as before, and never counted; a shorter one counts, a few milliseconds against a limit of
// seconds.

import { fromWorker } from "../protocol/worker.js";

const IDLE_AFTER_MS = 4;

export class RunningReports {
  /** `post(message)` sends the server tab a message; `defer(run)` runs `run` a moment later. */
  constructor(post, defer = (run) => setTimeout(run, IDLE_AFTER_MS)) {
    this.post = post;
    this.defer = defer;
    this.told = null; // the cause of the "busy" the main thread was last told, as JSON
    this.idleDue = false;
  }

  /** The site's code runs, for `cause` ({conn}, {call, method}, {sockets}, {thread}, ...). */
  running(cause) {
    this.idleDue = false;
    const key = JSON.stringify(cause);
    if (key === this.told) return;
    this.told = key;
    this.post(fromWorker.busy(cause));
  }

  /** Run `work` now, as the site's code running for `cause`, from start to end (where threads
   * cannot say when it waits): what `work` returns, or throws. */
  around(cause, work) {
    this.running(cause);
    try {
      return work();
    } finally {
      this.stopped();
    }
  }

  /** It stopped running (done, or waiting). */
  stopped() {
    if (this.told === null || this.idleDue) return;
    this.idleDue = true;
    this.defer(() => {
      if (!this.idleDue) return;
      this.idleDue = false;
      this.told = null;
      this.post(fromWorker.idle());
    });
  }
}
