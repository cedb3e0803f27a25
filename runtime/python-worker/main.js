// The server tab's dedicated worker: Pyodide, the site, and server_py's HTTP connections. Its
// messages with the server tab are those of runtime/protocol/worker.js, handled in order: one
// after another, but for each HTTP connection's, which go on a lane of their own
// (connections.js), so that a request that waits holds back no other connection.
//
// It runs with an opaque origin (server-tab/python-process.js starts it from a data: URL): the
// site's code may be a stranger's, and must not reach the owner's other sites or the
// workbench's storage. So it has no storage of its own, and loads everything (the bundle,
// packages) by absolute URL. It owns Python (boot.js), the site's files (persistence.js), its
// connections (connections.js) and its packages (packages.js); and the visitors' HTTP channels
// the main thread hands it (runtime/http-channels.js, here: their bytes go to and from the
// connections without crossing the main thread). The main thread keeps the peer connections,
// and relays the bytes of a channel it could not hand over.
//
// busy/idle bracket everything that runs the site's code (threads.js says when it runs and when
// it waits): a script cannot be interrupted, so the main thread times it and, past the limit,
// terminates this worker and starts a new one.
// Python cannot unload packages either, so when requirements.txt changes, "reload" answers
// {restart: true} and the main thread starts a fresh worker.

import { HttpChannels } from "../http-channels.js";
import { answerGate, browserClock } from "../lease.js";
import {
  BOOT,
  BUSY,
  CALL,
  CHANNEL,
  CLOSE,
  CONNECTION_MESSAGES,
  CRASHED,
  CREDIT,
  DATA,
  DRAIN,
  END,
  fromWorker,
  GATE,
  GRANT,
  HELD,
  OPEN,
  REPLY,
  Requests,
  SEND,
  SITE,
  STATS,
  STOP,
  TICK,
} from "../protocol/worker.js";
import { startPython } from "./boot.js";
import { Connections } from "./connections.js";
import { installRequirements, installTools } from "./packages.js";
import { SiteTrees } from "./persistence.js";
import { toPlain } from "./plain.js";
import { RequestLog } from "./request-log.js";
import { SiteThreads } from "./threads.js";

// Python's sockets, which Emscripten would carry over WebSockets to whatever host and port they
// name, fail here as on a machine without a network: the site's code (a package's setup.py
// among it) opens no connection on the owner's behalf that the owner cannot see. fetch stays,
// for the bundle and the packages, and for a site's own calls to APIs that allow it (CORS).
delete globalThis.WebSocket;

let runtime = null; // what boot.js started: {python, bundleUrl, manifest, sitePackages, ...}
let server = null; // server_py.worker.SiteServer, once the site is open
let trees = null; // SiteTrees
let connections = null; // Connections
let threads = null; // SiteThreads
let requestsSeen = 0;
let bootRequirements = null; // requirements.txt as it was when its packages were installed
const questions = new Requests(); // this worker's questions to the main thread
const requestLog = new RequestLog(post);
let queue = Promise.resolve();
let tickTimer = null; // when the site's WebSocket handlers have a timer due
let unsaved = null; // why the site's last changes could not be kept, while they are not
let keeping = Promise.resolve(); // the site's changes are kept one save at a time
let polling = Promise.resolve(); // and its WebSocket handlers polled one poll at a time
let keepTimer = null; // what the site's threads changed is kept soon
const THREAD_KEEP_MS = 200;
const DRAIN_LOOK_MS = 20;

// The visitors' channels handed to this worker, held to the answer gate the main thread says.
let gate = { open: false, moving: false, fencing: false, deadline: null }; // lease.js's GateState
const channels = new HttpChannels(
  { post: (message) => fromChannel(message) },
  (visitor) => visitor.client,
  {
    admit: () => answerGate(gate, browserClock()).admit,
    mayAnswer: () => answerGate(gate, browserClock()).mayAnswer,
  },
);
let beforeSite = []; // their connections' messages, until the site has come (then null)
globalThis.peerServerChannels = channels; // for tests and benchmarks to look at

self.addEventListener("message", (event) => {
  const message = event.data;
  switch (message.type) {
    case REPLY:
      questions.settle(message); // awaited by the message being handled
      break;
    // What concerns the channels here is handled as it comes, not after what runs: a channel's
    // events must have listeners from the start, and the gate applies at once.
    case CHANNEL:
      adoptChannel(message);
      break;
    case GATE:
      gate = message.state;
      post(fromWorker.result(message.id, { value: true }));
      break;
    case HELD:
      if (message.what === "release") channels.releaseHeld();
      else channels.refuseHeld();
      break;
    case GRANT:
      channels.grantConn(message.conn, message.bytes);
      break;
    case DRAIN:
      drain(message);
      break;
    default:
      queue = queue.then(() => handle(message));
      if (message.type === SITE) {
        for (const held of beforeSite) queue = queue.then(() => handle(held));
        beforeSite = null;
      }
  }
});

/** A connection's message from a channel held here: handled as the main thread's would be. */
function fromChannel(message) {
  if (beforeSite) beforeSite.push(message);
  else queue = queue.then(() => handle(message));
}

/** The visitor's channel `channel`, handed over: served here as connection `conn`. */
function adoptChannel({ conn, channel, client, identity }) {
  channels.accept({ client, identity }, channel, conn);
  channel.addEventListener("close", () => post(fromWorker.closed(conn)));
}

/** Answer "drain" once no request on the channels held here runs (or its time is up). */
function drain({ id, timeoutMs }) {
  const until = performance.now() + timeoutMs;
  const look = () => {
    if (channels.running === 0 || performance.now() >= until) {
      post(fromWorker.result(id, { value: true }));
    } else setTimeout(look, DRAIN_LOOK_MS);
  };
  look();
}

/** Send the main thread `message`; but a response's bytes (and end) for a channel held here go
 * out on it, and what runs for one is said with the request it runs (for the time limit). */
function post(message, transfer = []) {
  const { type, conn } = message;
  if ((type === SEND || type === END) && channels.connections.has(conn)) {
    if (type === SEND) channels.send(conn, message.bytes);
    else channels.end(conn);
    return;
  }
  if ((type === BUSY || type === CRASHED) && conn !== undefined) {
    const request = channels.waitingOn(conn);
    if (request) message.request = request;
  }
  self.postMessage(requestLog.attach(message), transfer);
}

/** Ask the main thread `question`; resolves to its answer. */
function ask(question, transfer = []) {
  return questions.ask((id) => post(fromWorker.ask(id, question), transfer));
}

async function handle(message) {
  if (server !== null && CONNECTION_MESSAGES.has(message.type)) {
    const onLane = !connections.socketTaken(message.conn);
    const work = onLane ? () => onConnection(message) : () => onTakenSocket(message);
    const done = onLane ? connections.lane(message.conn, work) : work();
    done.catch((error) => failed(error, message));
    return;
  }
  try {
    if (message.type === BOOT) await boot(message);
    else if (message.type === SITE) await openSite(message);
    else if (server !== null) await dispatch(message);
  } catch (error) {
    if (message.type === BOOT || message.type === SITE) {
      post(fromWorker.failed(String(error), error.stack));
      return;
    }
    failed(error, message);
  }
}

/** `message`'s handling failed with `error`. */
function failed(error, message) {
  if (crashed(error)) {
    // Not the site's exception (those are 500s): Python itself is gone. Nothing more can run
    // here; the main thread starts a new worker.
    post(fromWorker.crashed({ reason: String(error), conn: message.conn, call: message.id }));
    queue = new Promise(() => {});
    return;
  }
  // A failure of the runtime itself, not of the site (the site's errors become 500s): report
  // it and drop that one connection, the others carry on.
  post(fromWorker.log("stderr", String(error)));
  if (message.type === CALL) post(fromWorker.result(message.id, { error: String(error) }));
  if (message.conn !== undefined) connections?.drop(message.conn);
}

/** Start Python (or only make a snapshot of it: then `runtime` stays null). */
async function boot(message) {
  runtime = await startPython(message, post);
  if (runtime) post(fromWorker.pythonReady(runtime.restored));
}

/** Lay out the site's files, install its packages and load its app: the second half of a boot. */
async function openSite({
  name,
  address,
  packagesUrl,
  files,
  template,
  loadApp = true,
  buildSources = true,
}) {
  const siteStarted = performance.now();
  post(fromWorker.progress("Loading the site", 0.8));
  const { python } = runtime;
  trees = new SiteTrees(python.FS, name, files);
  const isNew = files.site.length === 0;
  const { SiteServer } = python.pyimport("server_py.worker");
  server = SiteServer(
    trees.paths.site,
    (record) => requestLog.add(record.toJs({ dict_converter: Object.fromEntries })),
    trees.paths.state,
    (text) => post(fromWorker.output(text)),
    address,
  );
  threads = new SiteThreads({ python, post, afterThread });
  if (threads.reason !== null) post(fromWorker.threads(threads.reason));
  connections = new Connections(server, post, threads);
  if (isNew) server.unpack(template);
  bootRequirements = trees.requirements();
  const packages =
    bootRequirements === null
      ? { installed: [], builtIn: [], problems: [] }
      : await installPackages(bootRequirements, packagesUrl, buildSources);
  let load = {
    ok: false,
    module: null,
    traceback: "",
    message: "Its import ran past the time limit and was stopped. Fix it and save to try again.",
  };
  if (loadApp) {
    load = toPlain(await threads.call(threads.mainIdent, { loading: true }, server.load));
  }
  await keepFiles();
  const now = performance.now();
  post(
    fromWorker.ready({
      module: load.module ?? null,
      isNew,
      load,
      packages,
      bootMs: now - runtime.started,
      timings: { ...runtime.timings, site_ms: now - siteStarted },
    }),
  );
}

/** Install requirements.txt's packages, saying in the log what it got and what it could not. */
async function installPackages(text, packagesUrl, buildSources) {
  post(fromWorker.progress("Installing requirements.txt", 0.7));
  const say = (stream, line) => post(fromWorker.log(stream, line));
  const packages = await installRequirements(text, {
    python: runtime.python,
    server,
    sitePackages: runtime.sitePackages,
    packagesUrl,
    buildSources,
    ask,
    say,
    progress: (label) => post(fromWorker.progress(label, 0.7)),
    watched: (building, run) => threads.reports.around({ building }, run),
  });
  if (packages.installed.length)
    say("server", `requirements.txt: installed ${packages.installed.join(", ")}`);
  if (packages.builtIn.length)
    say("server", `requirements.txt: built in: ${packages.builtIn.join(", ")}`);
  for (const { requirement, reason } of packages.problems)
    say("stderr", `requirements.txt: ${requirement}: ${reason}`);
  return packages;
}

async function dispatch(message) {
  switch (message.type) {
    case TICK: // see pollSockets
      break;
    case STOP:
      await connections.stop(message.reason);
      post(fromWorker.stopped());
      return;
    case CALL:
      await call(message);
      break;
    case STATS:
      // The WebAssembly memory holds Python's heap; MEMFS files live in JavaScript arrays.
      post(
        fromWorker.stats({
          memoryBytes: runtime.python._module.HEAPU8.buffer.byteLength,
          connections: connections.count,
        }),
      );
      return;
  }
  await pollSockets();
}

/** One message of an HTTP connection, on its lane. */
async function onConnection(message) {
  const { conn } = message;
  switch (message.type) {
    case OPEN:
      connections.open(message);
      break;
    case DATA:
      await connections.receive(conn, message.bytes);
      if (server.requests_started !== requestsSeen) {
        requestsSeen = server.requests_started;
        await keepFiles(); // before the response leaves
      }
      await connections.pump(conn);
      break;
    case CREDIT:
      await connections.grant(conn, message.chunks);
      break;
    case CLOSE:
      await connections.close(conn);
      break;
  }
  await pollSockets({ conn }); // a handler stuck on what came here is this connection's
}

/**
 * One message of a connection whose socket a WSGI app took for a WebSocket (server_py/
 * wsgi_socket.py): the app's own call waits on the connection's lane as long as the socket
 * lives, so what comes goes to the socket at once, and what the app writes goes out when its
 * threads stop running (afterThread).
 */
async function onTakenSocket(message) {
  const { conn } = message;
  if (message.type === DATA) connections.feedSocket(conn, message.bytes);
  else if (message.type === CREDIT) await connections.grant(conn, message.chunks);
  else if (message.type === CLOSE) await connections.close(conn);
}

/** The site's threads stopped running (for now, or for good): what they wrote to WebSockets
 * goes out, the handlers they woke run, and what they changed in the site's files is kept
 * (at most every THREAD_KEEP_MS). */
function afterThread() {
  pollSockets();
  if (keepTimer !== null) return;
  keepTimer = setTimeout(() => {
    keepTimer = null;
    keepFiles();
  }, THREAD_KEEP_MS);
}

/**
 * Keep what the site's code changed in the server tab's storage, one save at a time (each
 * holds everything changed until then). When that fails (the browser's storage is full), the
 * site goes on serving from memory and the owner is told ("unsaved"); the changes are tried
 * again with the next ones, and "unsaved" with no message says they were kept after all.
 */
function keepFiles() {
  const kept = keeping.then(keepNow);
  keeping = kept;
  return kept;
}

async function keepNow() {
  try {
    await trees.persist(ask);
  } catch (error) {
    unsaved = error.message;
    post(fromWorker.unsaved(unsaved));
    return;
  }
  if (unsaved !== null) {
    unsaved = null;
    post(fromWorker.unsaved(null));
  }
}

/** Let the site's WebSocket handlers do what they now can, and come back for their timers;
 * one poll at a time. The time limit knows the handlers by `cause`: the connection whose
 * message woke them, if one did. */
function pollSockets(cause = { sockets: true }) {
  const polled = polling.then(() => pollNow(cause));
  polling = polled.catch(() => {});
  return polled;
}

async function pollNow(cause) {
  const wakeMs = await connections.poll(keepFiles, cause);
  clearTimeout(tickTimer);
  tickTimer = null;
  if (wakeMs !== null) {
    tickTimer = setTimeout(() => {
      queue = queue.then(() => handle({ type: TICK }));
    }, wakeMs);
  }
}

async function call({ id, method, args = [] }) {
  if (method === "console")
    await installTools(runtime, toPlain(server.console.tools_needed(args[0])));
  if (method === "reload" && trees.requirements() !== bootRequirements) {
    post(
      fromWorker.result(id, {
        value: {
          ok: false,
          restart: true,
          reason: "requirements.txt changed: restarting Python to install its packages.",
        },
      }),
    );
    return;
  }
  const result = toPlain(
    await threads.call(threads.mainIdent, { call: id, method }, server.call, method, ...args),
  );
  await keepFiles();
  post(fromWorker.result(id, result));
}

/** Whether `error` means the Python runtime itself failed (Pyodide's "fatal error"). */
function crashed(error) {
  return Boolean(error?.pyodide_fatal_error) || /already fatally failed/.test(String(error));
}
