// The server tab's Python: one Web Worker running Pyodide and the site (runtime/python-worker/),
// started, fed the site, held to the time limit, and started afresh when it must be. The
// messages it exchanges are those of runtime/protocol/worker.js.
//
// The worker has an opaque origin and no storage: this tab keeps the site's files for it
// (site-store.js), and a Python snapshot for its boots (python-snapshot.js), made once by a
// worker of its own that is never given a site.
//
// Events: the worker's messages it passes on (protocol/worker.js's FORWARDED: ready, failed,
// send, end, closed, log, output, stats, progress, unsaved, threads), each as a CustomEvent of its type
// with the message as detail; requests {records}: lines of the request log (any message of the
// worker's may carry some); a message of another type is dropped with a warning; and
// restarting {reason, stream, stuckConn, stuckRequest, stuckAnswer(requestLine)}: the worker was
// terminated; requests waiting for an answer must be answered (503, or `stuckAnswer` for the one
// that was stuck: `stuckRequest` is its request line, if the worker said it) before a new one
// boots.
//
// A visitor's HTTP channel may be handed to the worker itself (`adopt`), which then reads and
// writes it (runtime/http-channels.js, there): a request's bytes then never cross this thread.
// The worker is told the answer gate (`setGate`: lease.js) whenever it changes, and says when
// such a channel closes ("closed").

import { errorResponse } from "../error-pages.js";
import {
  ASK,
  BUSY,
  CRASHED,
  FAILED,
  FORWARDED,
  IDLE,
  LOG,
  PYTHON_READY,
  READY,
  Requests,
  REQUESTS,
  RESULT,
  STOPPED,
  toWorker,
} from "../protocol/worker.js";
import { makeSnapshot } from "./python-snapshot.js";
import { Watchdog } from "./watchdog.js";

const SNAPSHOT_DELAY_MS = 3000;
// How long a planned restart waits for Python to close the site's WebSockets.
const STOP_WAIT_MS = 1000;

export class PythonProcess extends EventTarget {
  /**
   * `siteMessage()` resolves to the "site" message of a boot but its flags ({name, address,
   * packagesUrl, files, template}); `answer(question)` resolves to the value of a question the
   * worker asks; `describeConn(conn)` is the request line a connection is busy with, if any.
   * `restarts` false: a Python for one job (a test run), ended where another would restart.
   * `pyodidePackages` (a URL, or a promise of one) is Pyodide's packageBaseUrl (boot.js).
   * `channelsInWorker` false: visitors' channels are never handed to the worker (`adopt`).
   */
  constructor({
    bundleUrl,
    pyodidePackages = null,
    snapshots,
    siteMessage,
    answer,
    describeConn = () => undefined,
    timeLimitMs,
    restarts = true,
    channelsInWorker = false,
  }) {
    super();
    Object.assign(this, {
      bundleUrl,
      pyodidePackages,
      snapshots,
      siteMessage,
      answer,
      describeConn,
      restarts,
      channelsInWorker,
    });
    this.gate = null; // the answer gate the worker was last told, and its promise of being heard
    this.calls = new Requests();
    this.watchdog = new Watchdog({
      limitMs: timeLimitMs,
      onExpired: (busy) => this.onTimeLimit(busy),
    });
    this.worker = null;
    this.ready = false;
    this.stopped = false;
    // A frozen page's worker is frozen too: that time is not the site's code running long.
    this.onFreeze = () => this.watchdog.frozen();
    this.onResume = () => this.watchdog.resumed();
    document.addEventListener("freeze", this.onFreeze);
    document.addEventListener("resume", this.onResume);
  }

  get timeLimitMs() {
    return this.watchdog.limitMs;
  }

  set timeLimitMs(value) {
    this.watchdog.limitMs = value;
  }

  /**
   * Start a worker and boot the site in it. `loadApp` false: without importing the app;
   * `buildSources` false: without building its source packages (either ran past the time limit
   * the time before).
   */
  start(loadApp = true, buildSources = true) {
    const worker = pythonWorker(this.bundleUrl);
    this.worker = worker;
    this.ready = false;
    worker.addEventListener("message", (event) => {
      if (this.worker === worker) this.onMessage(event.data);
    });
    worker.addEventListener("error", (event) => {
      if (this.worker !== worker) return;
      const message = `The Python worker failed: ${event.message}`;
      if (this.ready) this.onCrash({ reason: message });
      else this.emit(FAILED, { message });
    });
    this.siteSent = false;
    this.beforeSite = []; // messages for the worker, held until it has the site
    if (this.gate) this.tellGate(this.gate.state);
    Promise.all([this.snapshots.load(), this.pyodidePackages]).then(([snapshot, packages]) => {
      const { bundleUrl } = this;
      worker.postMessage(toWorker.boot({ bundleUrl, pyodidePackages: packages, snapshot }));
    });
    // Read while Python starts; sent once it has (see onMessage's "python-ready").
    this.site = this.siteMessage().then((site) => ({ ...site, loadApp, buildSources }));
  }

  async sendSite(worker) {
    let site;
    try {
      site = await this.site;
    } catch (error) {
      if (this.worker === worker) {
        this.emit(FAILED, { message: `The site could not be read: ${error}` });
      }
      return;
    }
    if (this.worker !== worker) return;
    const { files, template } = site;
    const transfer = [...files.site, ...files.state].flatMap(
      ({ contents }) => contents?.buffer ?? [],
    );
    if (template) transfer.push(template.buffer);
    this.siteSent = true;
    worker.postMessage(toWorker.site(site), transfer);
    for (const [message, moved] of this.beforeSite) worker.postMessage(message, moved);
    this.beforeSite = [];
  }

  /** Send the worker `message`, after the site if that has not gone yet. */
  post(message, transfer = []) {
    if (this.siteSent) this.worker.postMessage(message, transfer);
    else this.beforeSite.push([message, transfer]);
  }

  /**
   * Hand the visitor's HTTP `channel` to the worker, to be served there as `connection`
   * ({conn, client, identity}); false if it stays here: where this browser cannot transfer a
   * data channel (DataCloneError, from then on), or it is not wanted. Must be called in the
   * task the channel arrived in (a channel is transferable only then).
   */
  adopt(connection, channel) {
    if (!this.channelsInWorker || !this.worker) return false;
    try {
      this.worker.postMessage(toWorker.channel({ ...connection, channel }), [channel]);
      return true;
    } catch (error) {
      if (error.name !== "DataCloneError") throw error;
      this.channelsInWorker = false;
      console.warn("PeerServer: this browser cannot hand a data channel to a worker:", error);
      return false;
    }
  }

  /** Tell the worker the answer gate (lease.js's GateState) if it changed; resolves once the
   * worker has heard it (or is gone: a worker terminated answers nothing any more). */
  setGate(state) {
    if (this.gate && JSON.stringify(state) === JSON.stringify(this.gate.state)) {
      return this.gate.heard;
    }
    if (!this.worker) {
      this.gate = { state, heard: Promise.resolve() };
      return this.gate.heard;
    }
    return this.tellGate(state);
  }

  tellGate(state) {
    const heard = this.askWorker((id) => toWorker.gate(id, state));
    this.gate = { state, heard };
    return heard;
  }

  /** Resolves once no request on a channel the worker holds is running (or after `timeoutMs`). */
  drained(timeoutMs) {
    return this.askWorker((id) => toWorker.drain(id, timeoutMs));
  }

  /** Requests the worker holds (the site was moving) go on to Python ("release"), or are
   * refused unrun with 421 ("refuse"). */
  held(what) {
    this.worker?.postMessage(toWorker.held(what));
  }

  /** A visitor read `bytes` more of the responses on `conn`, a channel the worker holds. */
  grant(conn, bytes) {
    this.worker?.postMessage(toWorker.grant(conn, bytes));
  }

  /** Send the worker a message answered by "result" at once (not after the site: these are
   * about its channels); resolves with its value, or when the worker is gone. */
  askWorker(message) {
    const worker = this.worker;
    return this.calls.ask((id) => worker.postMessage(message(id))).catch(() => {});
  }

  /**
   * Run a workbench operation in the worker (server_py.worker.SiteServer.call). Resolves to its
   * value; rejects with an Error whose message is meant for the site's owner.
   */
  call(method, ...args) {
    return this.calls.ask((id) => this.post(toWorker.call(id, method, args)));
  }

  /**
   * Have a worker of its own make a Python snapshot for the boots to come, this once: a worker
   * that is given no site, so that no site's code can have run in the Python it snapshots.
   * It starts a while after this site is served, not to slow its start.
   */
  makeSnapshotLater(delayMs = SNAPSHOT_DELAY_MS) {
    if (this.snapshotMaker !== undefined) return;
    this.snapshotMaker = null;
    setTimeout(() => {
      if (this.stopped) return;
      this.snapshotMaker = pythonWorker(this.bundleUrl);
      makeSnapshot(this.snapshotMaker, this.bundleUrl, this.snapshots, (text) =>
        this.emit(LOG, { stream: "stderr", text }),
      );
    }, delayMs);
  }

  onMessage(message) {
    if (message.requests) this.emit(REQUESTS, { records: message.requests });
    switch (message.type) {
      case BUSY:
        this.watchdog.busy(message);
        break;
      case IDLE:
        this.watchdog.idle();
        break;
      case RESULT:
        this.calls.settle(message);
        break;
      case ASK:
        this.reply(this.worker, message);
        break;
      case PYTHON_READY:
        this.sendSite(this.worker);
        if (!message.restored && this.restarts) this.makeSnapshotLater(); // not for one job
        break;
      case CRASHED:
        this.onCrash(message);
        break;
      case READY:
        this.ready = true;
        this.emit(READY, message);
        break;
      case STOPPED: // heard by closeSockets
      case REQUESTS: // its lines, as those of any message, above
        break;
      default:
        if (FORWARDED.has(message.type)) this.emit(message.type, message);
        else console.warn("PeerServer: a message of the Python worker's not known here:", message);
    }
  }

  async reply(worker, { id, question }) {
    let value;
    let error;
    try {
      value = await this.answer(question);
    } catch (problem) {
      error = String(problem.message ?? problem);
    }
    worker.postMessage(toWorker.reply(id, value, error));
  }

  /** The worker ran the site's code past the time limit: answer for it and start afresh. */
  onTimeLimit(busy) {
    const seconds = this.timeLimitMs / 1000;
    const importing = busy.loading || busy.method === "reload";
    let what;
    if (importing) what = "Importing the site's app";
    else if (busy.building) what = `Building ${busy.building} from source`;
    else if (busy.call !== undefined) what = `The workbench's ${busy.method}`;
    else if (busy.sockets) what = "The site's WebSocket handlers";
    else if (busy.thread) what = `The site's thread "${busy.thread}"`;
    else what = this.describeConn(busy.conn) ?? busy.request ?? "Sending a response";
    this.restart({
      reason: `${what} ran longer than ${seconds} s: stopped, restarting Python with the site as last saved.`,
      stuckConn: busy.conn,
      stuckRequest: busy.request,
      stuckAnswer: (requestLine) =>
        errorResponse(
          504,
          "Gateway Timeout",
          `${requestLine} ran longer than ${seconds} s and was stopped.`,
        ),
      stuckCall: busy.call,
      stuckError: `Stopped: it ran longer than ${seconds} s.${this.restartedNote}`,
      // An import (or a build) that never finishes would stop the next start too: boot
      // without the app (or without building) then.
      loadApp: !importing,
      buildSources: !busy.building,
    });
  }

  /** Python itself died (not the site's exception): start afresh with the site as saved. */
  onCrash({ reason, conn, request, call }) {
    this.restart({
      reason: `Python crashed (${reason}): restarting it with the site as last saved.`,
      stuckConn: conn,
      stuckRequest: request,
      stuckAnswer: (requestLine) =>
        errorResponse(
          502,
          "Bad Gateway",
          `${requestLine} crashed the site's Python, which is restarting. Try again in a few seconds.`,
        ),
      stuckCall: call,
      stuckError: `Python crashed while doing this.${this.restartedNote}`,
    });
  }

  get restartedNote() {
    return this.restarts ? " Python restarted with the site as last saved." : "";
  }

  /**
   * Terminate the worker and boot a new one. Pending calls fail; "restarting" lets the HTTP
   * channels answer the requests that wait (their visitors keep their peer connections).
   * A `planned` restart first lets Python close the site's WebSockets with 1012 (Service
   * Restart); a stuck or crashed one cannot, and their visitors see 1006.
   */
  async restart({
    reason,
    stream = "stderr",
    stuckConn,
    stuckRequest,
    stuckAnswer,
    stuckCall,
    stuckError,
    loadApp = true,
    buildSources = true,
    planned = false,
  }) {
    if (this.stopped) return;
    if (!this.restarts) {
      this.stop();
      this.calls.failAll((id) => (id === stuckCall ? stuckError : "Python stopped."));
      return;
    }
    if (planned && this.ready) await this.closeSockets(reason);
    this.worker.terminate();
    this.ready = false;
    this.watchdog.idle();
    this.emit("restarting", { reason, stream, stuckConn, stuckRequest, stuckAnswer });
    this.calls.failAll((id) => (id === stuckCall ? stuckError : "Python restarted; try again."));
    this.start(loadApp, buildSources);
  }

  /** Ask the worker to close the site's WebSockets (see restart); at most STOP_WAIT_MS. */
  closeSockets(reason) {
    const worker = this.worker;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        worker.removeEventListener("message", onMessage);
        resolve();
      };
      const onMessage = ({ data }) => {
        if (data.type === STOPPED) done();
      };
      const timer = setTimeout(done, STOP_WAIT_MS);
      worker.addEventListener("message", onMessage);
      this.post(toWorker.stop(reason));
    });
  }

  stop() {
    this.stopped = true;
    document.removeEventListener("freeze", this.onFreeze);
    document.removeEventListener("resume", this.onResume);
    this.watchdog.idle();
    this.worker?.terminate();
    this.snapshotMaker?.terminate();
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }
}

/**
 * A Python worker (runtime/python-worker/main.js, built into the bundle by signaling/bundle)
 * started from a data: URL, which gives it an opaque origin of its own: the site's code
 * (perhaps an imported stranger's zip) cannot open this origin's IndexedDB, where the owner's
 * other sites live, nor reach the owner tokens in its localStorage. It only has its messages
 * to this tab, and what it asks of it is checked (see site-store.js).
 */
function pythonWorker(bundleUrl) {
  const script = new URL("pages/python-worker.js", bundleUrl).href;
  return new Worker(
    `data:text/javascript,${encodeURIComponent(`import ${JSON.stringify(script)};`)}`,
    { type: "module" },
  );
}
