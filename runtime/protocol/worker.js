// The protocol between a server tab (its main thread) and its Python worker, over postMessage.
// runtime/server-tab/python-process.js speaks it on one side, runtime/python-worker/ on the
// other; this module is the one place its messages are written down: both ends make them with
// its constructors and tell them apart by its constants (tests/js/worker-protocol.test.mjs).
//
// Server tab -> worker:
//   boot {bundleUrl, pyodidePackages, snapshot: {key, blob}|null, makeSnapshot}: start Python
//     (with makeSnapshot, only make a snapshot and send it; such a worker is never given a
//     site); pyodidePackages: where Pyodide's own packages are loaded from (the service's
//     /api/config), or null
//   site {name, address, packagesUrl, files, template, loadApp, buildSources}: the site's
//     files (site-files.js), the template of a new site, its public address, whether to import
//     its app and build its source packages (not after they ran past the time limit)
//   open {conn, scheme, client, identity}, data {conn, bytes}, credit {conn, chunks},
//     close {conn}: an HTTP connection and its bytes; a credit lets the worker send a chunk
//     (INITIAL_CREDIT to begin with; the server tab gives back CREDIT_BATCH at a time)
//     Each connection's messages are handled in order, each connection apart from the others
//     (a request that waits holds back its own connection only)
//   channel {conn, channel, client, identity}: a visitor's HTTP data channel itself, handed
//     over (transferred) to be read and written by the worker (runtime/http-channels.js there),
//     as connection `conn`; `client` names the visitor in the log, `identity` is its certificate's
//     (for its HttpOnly cookies). Sent at once, not after the site: the worker holds its
//     bytes until it has the site
//   gate {id, state}: the answer gate (lease.js's GateState) for the channels the worker holds;
//     sent whenever it changes, and answered by "result" once heard
//   drain {id, timeoutMs}: answered by "result" once no request on those channels is running
//     (the site is about to move), or after timeoutMs
//   held {what}: the requests held there while the site was moving go on to Python ("release")
//     or are refused unrun with 421 ("refuse")
//   grant {conn, bytes}: the visitor read `bytes` more of the responses on channel `conn`
//   call {id, method, args}: a workbench operation (server_py.worker.SiteServer.call)
//   stop {reason}: Python is about to be stopped: close the site's WebSockets (1012), answered
//     by "stopped" once their last bytes are sent
//   stats: ask for memory and connection counts
//   reply {id, value, error}: the answer to one of the worker's questions
// Worker -> server tab:
//   progress {label, fraction}; snapshot {key, blob}; python-ready {restored} (send the site)
//   ready {module, isNew, load, bootMs, timings, packages}; failed {message, traceback}
//   send {conn, bytes}; end {conn}: response bytes, and the end of a connection
//   closed {conn}: a channel the worker was handed closed
//   Any of these may carry `requests`: [{method, target, status, duration_ms, client, note}],
//     the lines of the request log since the worker's last message (python-worker/
//     request-log.js; note: a WebSocket's state as it opens and closes); "requests" is a
//     message for them alone, when the worker has said nothing else for a while
//   log {stream, text}; output {text} (a long console command's output, as it comes)
//   unsaved {message}: what the site's code changed could not be kept (storage full); the
//     site serves from memory meanwhile. message null: kept after all
//   result {id, value, error}: the answer to a call; stats {memoryBytes, connections}
//   busy {conn, request, call, method, loading, building, sockets, thread}; idle: the site's
//     code runs (`request`: the request line a channel the worker holds waits on)
//     (with `sockets`: only its WebSocket handlers, for a timer of theirs; with `thread`: a
//     thread the site started, by name), and stopped running, done or waiting (the server tab
//     holds what runs to the time limit; a wait does not count). Said in as few messages as
//     say it: python-worker/running-reports.js
//   threads {unavailable}: why the site's threads cannot run in this browser (Thread.start
//     raises with that reason)
//   stopped: the answer to "stop"
//   crashed {reason, conn, request, call}: Python itself died
//   ask {id, question}: a question to the server tab, answered by "reply":
//     {type: "save", changes} (keep the site's changed files: site-store.js), and
//     {type: "package-ticket"} (what the package service asks of a server tab)

// The messages' types. Server tab -> worker:
export const BOOT = "boot";
export const SITE = "site";
export const OPEN = "open";
export const DATA = "data";
export const CREDIT = "credit";
export const CLOSE = "close";
export const CHANNEL = "channel";
export const GATE = "gate";
export const DRAIN = "drain";
export const HELD = "held";
export const GRANT = "grant";
export const CALL = "call";
export const STOP = "stop";
export const REPLY = "reply";
// Within the worker: a timer of the site's WebSocket handlers is due (see its pollSockets).
export const TICK = "tick";
// Worker -> server tab (and STATS, both ways):
export const PROGRESS = "progress";
export const SNAPSHOT = "snapshot";
export const PYTHON_READY = "python-ready";
export const READY = "ready";
export const FAILED = "failed";
export const SEND = "send";
export const END = "end";
export const CLOSED = "closed";
export const REQUESTS = "requests";
export const LOG = "log";
export const OUTPUT = "output";
export const UNSAVED = "unsaved";
export const RESULT = "result";
export const STATS = "stats";
export const BUSY = "busy";
export const IDLE = "idle";
export const THREADS = "threads";
export const STOPPED = "stopped";
export const CRASHED = "crashed";
export const ASK = "ask";
// The worker's questions:
export const SAVE = "save";
export const PACKAGE_TICKET = "package-ticket";

/** Flow control: the chunks a connection's worker may send before the server tab has given any
 * credit back, and how many the tab gives back at once (one message, not one per chunk: a
 * small response is one chunk, so most connections never need a credit message). At most
 * INITIAL_CREDIT, or a connection whose worker used all its credit would wait for ever. */
export const INITIAL_CREDIT = 8;
export const CREDIT_BATCH = 4;

/** The messages of one HTTP connection: the worker handles each on its connection's lane. */
export const CONNECTION_MESSAGES = new Set([OPEN, DATA, CREDIT, CLOSE]);

/** What the server tab's PythonProcess passes on to its listeners, as events of these names
 * (the others it handles itself: busy, idle, result, ask, python-ready, crashed, stopped; and
 * the lines of the request log any message carries, as "requests" events). */
export const FORWARDED = new Set([
  READY,
  FAILED,
  SEND,
  END,
  CLOSED,
  LOG,
  OUTPUT,
  STATS,
  PROGRESS,
  UNSAVED,
  THREADS,
]);

/** The server tab's messages to the worker. */
export const toWorker = {
  /** @param {{bundleUrl: string, pyodidePackages?: string|null,
   *   snapshot?: {key: string, blob: Blob}|null, makeSnapshot?: boolean}} options */
  boot: (options) => ({ type: BOOT, ...options }),
  /** @param {{name: string, address: string, packagesUrl: string, files: object,
   *   template: string|null, loadApp: boolean, buildSources: boolean}} site */
  site: (site) => ({ type: SITE, ...site }),
  /** @param {{conn: number, scheme: string, client: string, identity: string}} connection */
  open: ({ conn, scheme, client, identity }) => ({ type: OPEN, conn, scheme, client, identity }),
  /** @param {number} conn @param {Uint8Array} bytes */
  data: (conn, bytes) => ({ type: DATA, conn, bytes }),
  /** @param {number} conn @param {number} chunks */
  credit: (conn, chunks) => ({ type: CREDIT, conn, chunks }),
  /** @param {number} conn */
  close: (conn) => ({ type: CLOSE, conn }),
  /** @param {{conn: number, channel: RTCDataChannel, client: string, identity: string}} c */
  channel: ({ conn, channel, client, identity }) => ({
    type: CHANNEL,
    conn,
    channel,
    client,
    identity,
  }),
  /** @param {number} id @param {import("../lease.js").GateState} state */
  gate: (id, state) => ({ type: GATE, id, state }),
  /** @param {number} id @param {number} timeoutMs */
  drain: (id, timeoutMs) => ({ type: DRAIN, id, timeoutMs }),
  /** @param {"release"|"refuse"} what */
  held: (what) => ({ type: HELD, what }),
  /** @param {number} conn @param {number} bytes */
  grant: (conn, bytes) => ({ type: GRANT, conn, bytes }),
  /** @param {number} id @param {string} method @param {unknown[]} args */
  call: (id, method, args) => ({ type: CALL, id, method, args }),
  /** @param {string} reason */
  stop: (reason) => ({ type: STOP, reason }),
  stats: () => ({ type: STATS }),
  /** @param {number} id @param {unknown} value @param {string|undefined} error */
  reply: (id, value, error) => ({ type: REPLY, id, value, error }),
};

/** The worker's messages to the server tab. */
export const fromWorker = {
  /** @param {string} label @param {number} fraction */
  progress: (label, fraction) => ({ type: PROGRESS, label, fraction }),
  /** @param {string} key @param {Blob} blob */
  snapshot: (key, blob) => ({ type: SNAPSHOT, key, blob }),
  /** @param {boolean} restored */
  pythonReady: (restored) => ({ type: PYTHON_READY, restored }),
  /** @param {{module: string|null, isNew: boolean, load: object, packages: object,
   *   bootMs: number, timings: object}} boot */
  ready: (boot) => ({ type: READY, ...boot }),
  /** @param {string} message @param {string|undefined} traceback */
  failed: (message, traceback) => ({ type: FAILED, message, traceback }),
  /** @param {number} conn @param {Uint8Array} bytes */
  send: (conn, bytes) => ({ type: SEND, conn, bytes }),
  /** @param {number} conn */
  end: (conn) => ({ type: END, conn }),
  /** @param {number} conn */
  closed: (conn) => ({ type: CLOSED, conn }),
  requests: () => ({ type: REQUESTS }),
  /** @param {"stdout"|"stderr"|"server"} stream @param {string} text */
  log: (stream, text) => ({ type: LOG, stream, text }),
  /** @param {string} text */
  output: (text) => ({ type: OUTPUT, text }),
  /** @param {string|null} message */
  unsaved: (message) => ({ type: UNSAVED, message }),
  /** @param {number} id @param {{value?: unknown, error?: string}} outcome */
  result: (id, outcome) => ({ type: RESULT, id, ...outcome }),
  /** @param {{memoryBytes: number, connections: number}} counts */
  stats: (counts) => ({ type: STATS, ...counts }),
  /** @param {{conn?: number, call?: number, method?: string, loading?: boolean,
   *   building?: string, sockets?: boolean, thread?: string}} cause */
  busy: (cause) => ({ type: BUSY, ...cause }),
  idle: () => ({ type: IDLE }),
  /** @param {string} unavailable */
  threads: (unavailable) => ({ type: THREADS, unavailable }),
  stopped: () => ({ type: STOPPED }),
  /** @param {{reason: string, conn?: number, call?: number}} crash (its `request` is added
   * where the worker holds the channel) */
  crashed: ({ reason, conn, call }) => ({ type: CRASHED, reason, conn, call }),
  /** @param {number} id @param {{type: string}} question */
  ask: (id, question) => ({ type: ASK, id, question }),
};

/** The worker's questions (in an "ask"). */
export const questions = {
  /** @param {{put: object[], remove: object[]}} changes */
  save: (changes) => ({ type: SAVE, changes }),
  packageTicket: () => ({ type: PACKAGE_TICKET }),
};

/**
 * Messages that expect an answer, by id, in either direction: the server tab's calls (answered
 * by "result") and the worker's questions (answered by "reply").
 */
export class Requests {
  constructor() {
    this.next = 1;
    this.pending = new Map(); // id -> {resolve, reject}
  }

  /** A new request: `send(id)` sends it; resolves to its answer's value. */
  ask(send) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      send(id);
    });
  }

  /** The answer to request `id`: {value} or {error: message}; an unknown id is ignored. */
  settle({ id, value, error }) {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (error === undefined) pending?.resolve(value);
    else pending?.reject(new Error(error));
  }

  /** Fail every request still waiting, each with the message `reason(id)` gives. */
  failAll(reason) {
    for (const [id, { reject }] of this.pending) reject(new Error(reason(id)));
    this.pending.clear();
  }
}
