// The worker's side of the site's threads (server_py/threads.py): cooperative threads on stacks
// of their own, which JavaScript Promise Integration (stack switching) allows, switched where
// they wait. Every call into the site's code goes through `call`: as a call that may suspend
// (Pyodide's callPromising) where the browser can switch stacks, else as a plain call, in which
// threads cannot start (the site is told why).
//
// The time limit counts the site's code while it runs, not while it waits: server_py/threads.py
// says when a thread (a connection, a spawned thread) starts and stops running, and this module
// tells the server tab ("busy" with what runs, "idle"), which times it (server-tab/watchdog.js).

import { fromWorker } from "../protocol/worker.js";
import { RunningReports } from "./running-reports.js";

/** Why this browser cannot run the site's threads, or null if it can. */
export function threadsUnavailable(python) {
  if (typeof WebAssembly.Suspending !== "function" || !python._module.jspiSupported) {
    return "this browser cannot suspend WebAssembly (JavaScript Promise Integration): the site's threads need Chromium 137 or later";
  }
  return null;
}

export class SiteThreads {
  /**
   * `post` sends the server tab a message; `afterThread()` is called when the site's code
   * stops running in a wait, or in a spawned thread or a Console call that returned (what it
   * changed is kept, the site's WebSocket handlers polled).
   */
  constructor({ python, post, afterThread }) {
    Object.assign(this, { python, post, afterThread });
    this.reports = new RunningReports(post); // "busy" and "idle", for the time limit
    this.after = null; // afterThread, due soon
    this.reason = threadsUnavailable(python);
    this.running = new Map(); // ident -> what it is, for the time limit: {conn}, {thread}, ...
    const threads = python.pyimport("server_py.threads");
    if (this.reason !== null) {
      threads.refuse(this.reason);
      this.scheduler = null;
      return;
    }
    this.scheduler = threads.install(this.hooks());
    this.callAs = this.scheduler.call_as;
  }

  get available() {
    return this.scheduler !== null;
  }

  /** The site's main thread: its code runs there as the site loads, and the Console's. */
  get mainIdent() {
    return this.scheduler?.main ?? 0;
  }

  /** A new thread identity (one per connection the server serves, as a threaded server). */
  newIdent() {
    return this.scheduler?.new_ident() ?? 0;
  }

  /**
   * Call `method` (a Python callable) with `args` as the thread `ident`, which the time limit
   * knows as `info` ({conn}, {call, method}, {sockets}): resolves to its result. Where threads
   * cannot run, a plain call, timed as a whole.
   */
  async call(ident, info, method, ...args) {
    if (!this.available) return this.reports.around(info, () => method(...args));
    this.running.set(ident, info);
    return this.callAs.callPromising(ident, method, ...args);
  }

  /** A thread stopped running: once this turn of the event loop is over, afterThread. */
  stoppedRunning() {
    this.after ??= setTimeout(() => {
      this.after = null;
      this.afterThread();
    }, 0);
  }

  /** Forget what `ident` was (its connection closed). */
  forget(ident) {
    this.running.delete(ident);
    this.scheduler?.forget(ident);
  }

  hooks() {
    return {
      spawn: (run, ident, name) => {
        this.running.set(ident, { thread: name });
        setTimeout(() => {
          run
            .callPromising()
            .catch((error) => this.post(fromWorker.log("stderr", String(error))))
            .finally(() => {
              run.destroy();
              this.running.delete(ident);
            });
        }, 0);
      },
      running: (ident) => this.reports.running(this.running.get(ident) ?? {}),
      waiting: (ident, suspended) => {
        this.reports.stopped();
        // What a connection's call did is handled once it returns (its lane polls, keeps the
        // files), and so is what a poll did: only a wait, a thread or the Console's call.
        const info = this.running.get(ident);
        if (suspended || info?.thread || info?.call) this.stoppedRunning();
      },
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      signal: () => {
        let give;
        const promise = new Promise((resolve) => {
          give = resolve;
        });
        return { promise, give: () => give() };
      },
      within: (promise, ms) => {
        let timer;
        return Promise.race([
          promise.then(() => true),
          new Promise((resolve) => {
            timer = setTimeout(() => resolve(false), ms);
          }),
        ]).finally(() => clearTimeout(timer));
      },
    };
  }
}
