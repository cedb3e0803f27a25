// The server tab's dedicated worker: Pyodide, the site, and server_py's HTTP connections.
//
// It runs with an opaque origin (site-host.js starts it from a data: URL): the site's code may
// be a stranger's, and must not reach the owner's other sites or the workbench's storage. So it
// has no storage of its own, and loads everything (the bundle, packages) by absolute URL.
//
// The main thread owns the data channels and moves bytes; this worker owns Python. Messages:
//   in:  boot {bundleUrl, snapshot: {key, blob}, makeSnapshot}, then site {name, address,
//        packagesUrl, files, template, loadApp, buildSources},
//        open {conn, scheme, client, identity}, data {conn, bytes}, credit {conn, chunks},
//        close {conn}, call {id, method, args}, stats, reply {id, value, error}
//   out: progress {label, fraction}, snapshot {key, blob} (only with makeSnapshot),
//        python-ready {restored} (send the site), ready {module, isNew, load, bootMs, timings,
//        packages},
//        failed {message, traceback},
//        send {conn, bytes}, end {conn}, request {method, target, status, duration_ms, client},
//        output {text} (a long console command's output, as it comes),
//        log {stream, text}, result {id, value, error}, stats {memoryBytes, connections},
//        busy {conn, call, loading, building}, idle, crashed {reason, conn, call} (Python
//        itself died),
//        ask {id, question} (answered by "reply"): save {changes} (files changed: the main
//        thread keeps them, see site-store.js), package-ticket (for the package service)
// Output to a connection is pulled from Python only while the main thread has granted credit
// (one chunk per credit), so a large response flows at the pace of the channel.
//
// busy/idle bracket everything that runs the site's code: a script cannot be interrupted, so
// the main thread times it and, past the limit, terminates this worker and starts a new one.
//
// The packages of the site's requirements.txt are installed at boot (worker-packages.js).
// Python cannot unload them, so when requirements.txt changes, "reload" answers
// {restart: true} and the main thread starts a fresh worker.
//
// The site's files, and apart from them what the server keeps for its visitors (their HttpOnly
// cookies, the wheels built from its source packages), arrive with "site" and live in memory
// here. Whenever a request or a workbench call may have changed them, the changes go to the
// main thread, which keeps them in its IndexedDB, before the response leaves: nothing a
// visitor committed is lost by a reload of the tab.

import { fetchBytes, fetchJson } from "./fetch-checked.js";
import { changesSince, describeTree, restoreTree } from "./site-files.js";
import { installRequirements } from "./worker-packages.js";

// Python's sockets, which Emscripten would carry over WebSockets to whatever host and port they
// name, fail here as on a machine without a network: the site's code (a package's setup.py
// among it) opens no connection on the owner's behalf that the owner cannot see. fetch stays,
// for the bundle and the packages, and for a site's own calls to APIs that allow it (CORS).
delete globalThis.WebSocket;

const CHUNK = 64 * 1024;
const INITIAL_CREDIT = 8;

let python = null; // the Pyodide instance
let bundle = null; // {url, manifest}: where the runtime bundle is, and what it holds
let sitePackages = null;
let bootStarted = 0;
let bootTimings = null; // how long Python and the Flask stack took, for "ready"
let server = null; // server_py.worker.SiteServer, once booted
let trees = null; // {site, state}: where the two trees are in the file system
let saved = null; // {site, state}: what they looked like when last saved (describeTree)
let nextQuestion = 1;
const asking = new Map(); // question id -> {resolve, reject}, until the main thread answers
let requestsSeen = 0;
let bootRequirements = null; // requirements.txt as it was when its packages were installed
const credit = new Map();
let queue = Promise.resolve(); // messages are handled one after another, in order

self.addEventListener("message", (event) => {
  const message = event.data;
  if (message.type === "reply") settleQuestion(message); // awaited by the message being handled
  else queue = queue.then(() => handle(message));
});

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

const RUNS_SITE_CODE = new Set(["data", "credit", "call"]);

async function handle(message) {
  const watched = server !== null && RUNS_SITE_CODE.has(message.type);
  if (watched) post({ type: "busy", conn: message.conn, call: message.id, method: message.method });
  try {
    if (message.type === "boot") await boot(message);
    else if (message.type === "site") await openSite(message);
    else if (server !== null) await dispatch(message);
  } catch (error) {
    if (message.type === "boot" || message.type === "site") {
      post({ type: "failed", message: String(error), traceback: error.stack });
      return;
    }
    if (crashed(error)) {
      // Not the site's exception (those are 500s): Python itself is gone. Nothing more can run
      // here; the main thread starts a new worker.
      post({ type: "crashed", reason: String(error), conn: message.conn, call: message.id });
      queue = new Promise(() => {});
      return;
    }
    // A failure of the runtime itself, not of the site (the site's errors become 500s):
    // report it and drop that one connection, the others carry on.
    post({ type: "log", stream: "stderr", text: String(error) });
    if (message.type === "call") post({ type: "result", id: message.id, error: String(error) });
    if (message.conn !== undefined) {
      credit.delete(message.conn);
      post({ type: "end", conn: message.conn });
    }
  } finally {
    if (watched) post({ type: "idle" });
  }
}

// What a snapshot holds besides Python itself: the modules every site needs, imported.
const PRELOAD = "import flask, sqlite3, server_py.worker";
// What a snapshot would otherwise give every boot in this browser the same of.
const RESEED = "import random; random.seed()";

/**
 * Start Python with the Flask stack, but no site yet: from the snapshot this browser keeps if
 * it was made from this bundle, else from scratch. With `makeSnapshot`, only make a snapshot
 * and send it: such a worker is never given a site (see python-snapshot.js).
 */
async function boot({ bundleUrl, snapshot, makeSnapshot = false }) {
  bootStarted = performance.now();
  if (!makeSnapshot) post({ type: "progress", label: "Loading Python", fraction: 0.05 });
  const reading = snapshot?.blob.arrayBuffer(); // meanwhile
  const [{ loadPyodide }, manifest] = await Promise.all([
    import(`${bundleUrl}pyodide/pyodide.mjs`), fetchJson(`${bundleUrl}manifest.json`)]);
  // The wheels and server_py as byte-compiled by the build (signaling/bundle/precompile.mjs).
  const archives = Promise.all([...manifest.wheels, "server_py.zip"].map(
    (archive) => fetchBytes(`${bundleUrl}python/${archive}`)));
  const zipped = Promise.all(manifest.zipped.map((wheel) => fetchBytes(`${bundleUrl}wheels/${wheel}`)));
  const key = JSON.stringify([manifest.pyodide, manifest.hashes, navigator.userAgent]);
  bundle = { url: bundleUrl, manifest };
  const options = {
    indexURL: `${bundleUrl}pyodide/`,
    stdLibURL: `${bundleUrl}python/python_stdlib.zip`, // byte-compiled
    stdout: (text) => post({ type: "log", stream: "stdout", text }),
    stderr: (text) => post({ type: "log", stream: "stderr", text }),
  };

  if (makeSnapshot) {
    // The Python that makes a snapshot sees JavaScript's globals through a wrapper (getters such
    // as `js.self.origin` fail there): it serves nothing, only leaves the snapshot.
    python = await loadPyodide({ ...options, _makeSnapshot: true });
    await installFiles(manifest, archives, zipped, true);
    python.runPython(PRELOAD);
    // As a Blob: its 30-odd MB go to the browser's blob storage, not the server tab's heap.
    post({ type: "snapshot", key, blob: new Blob([python.makeMemorySnapshot()]) });
    return;
  }
  const hashes = import(`${bundleUrl}hashes.js`);
  let restored = false;
  if (snapshot?.key === key) {
    try {
      python = await restore(loadPyodide, options, new Uint8Array(await reading));
      restored = true;
    } catch (error) {
      post({ type: "log", stream: "stderr", text: `The Python snapshot did not load (${error}); starting afresh.` });
    }
  }
  if (!restored) python = await loadPyodide(options);
  const pyodideLoaded = performance.now();
  post({ type: "progress", label: "Installing Flask", fraction: 0.6 });
  await installFiles(manifest, archives, zipped, !restored); // a snapshot has sys.path as it was
  if (restored) python.runPython(RESEED);
  self.peerserverHashes = (await hashes).peerserverHashes;
  python.pyimport("server_py.shims").install_from_javascript();
  bootTimings = { pyodide_ms: pyodideLoaded - bootStarted,
    wheels_ms: performance.now() - pyodideLoaded, snapshot: restored };
  post({ type: "python-ready", restored });
}

/**
 * Put the wheels' files in place (a snapshot holds the modules imported, not the files later
 * imports and templates read); the zipped ones go on sys.path, for zipimport, if `addToPath`.
 */
async function installFiles(manifest, archives, zipped, addToPath) {
  sitePackages = python.runPython("import site; site.getsitepackages()[0]");
  unpackWheels(await archives);
  const paths = (await zipped).map((archive, index) => {
    const path = `${sitePackages}/${manifest.zipped[index]}`;
    python.FS.writeFile(path, archive);
    return path;
  });
  if (addToPath) python.runPython(`import sys; sys.path.extend(${JSON.stringify(paths)})`);
}

/** Install wheels (as bytes): a wheel is a zip whose top level belongs on sys.path. */
function unpackWheels(wheels) {
  for (const wheel of wheels) python.unpackArchive(wheel, "zip", { extractDir: sitePackages });
}

/** A Pyodide restored from `bytes`, a memory snapshot. */
function restore(loadPyodide, options, bytes) {
  const headerBytes = new Uint32Array(bytes.buffer, bytes.byteOffset, 2)[1];
  return loadPyodide({ ...options, _loadSnapshot: bytes,
    fsInit: (FS) => growHeap(FS, bytes.byteLength - headerBytes) });
}

/**
 * Grow the WebAssembly heap to `bytes` before a snapshot is copied into it: Pyodide 314 copies
 * it into a heap of the module's initial size (30 MiB), which a snapshot with Flask imported
 * outgrows (pyodide/pyodide#6254, open). Mapping a file privately makes Emscripten allocate,
 * and so grow the heap; the snapshot then replaces all of it, allocator included.
 */
function growHeap(FS, bytes) {
  const path = "/tmp/grow-heap";
  FS.writeFile(path, new Uint8Array(1));
  const stream = FS.open(path, "r");
  try {
    const PROT_READ = 1;
    const MAP_PRIVATE = 2;
    const probe = FS.mmap(stream, 65536, 0, PROT_READ, MAP_PRIVATE);
    const missing = bytes - (probe.ptr + 65536);
    if (missing > 0) FS.mmap(stream, missing, 0, PROT_READ, MAP_PRIVATE);
  } finally {
    FS.close(stream);
    FS.unlink(path);
  }
}

/** Lay out the site's files and load its app: the second half of a boot. */
async function openSite({ name, address, packagesUrl, files, template, loadApp = true,
  buildSources = true }) {
  const siteStarted = performance.now();
  post({ type: "progress", label: "Loading the site", fraction: 0.8 });
  const { FS } = python;
  // The state tree is what the server keeps that is not the site's.
  trees = { site: `/peerserver/${name}`, state: `/peerserver-state/${name}` };
  saved = {};
  for (const root of Object.keys(trees)) {
    restoreTree(FS, trees[root], files[root]);
    saved[root] = describeTree(FS, trees[root]);
  }
  const isNew = files.site.length === 0;
  const { SiteServer } = python.pyimport("server_py.worker");
  server = SiteServer(trees.site, (record) => {
    post({ type: "request", ...record.toJs({ dict_converter: Object.fromEntries }) });
  }, trees.state, (text) => post({ type: "output", text }), address);
  if (isNew) server.unpack(template);
  bootRequirements = readRequirements();
  const packages = bootRequirements === null ? { installed: [], builtIn: [], problems: [] }
    : await installPackages(bootRequirements, packagesUrl, buildSources);
  let load = { ok: false, module: null, traceback: "",
    message: "Its import ran past the time limit and was stopped. Fix it and save to try again." };
  if (loadApp) {
    post({ type: "busy", loading: true });
    load = toPlain(server.load());
    post({ type: "idle" });
  }
  await persist();
  const now = performance.now();
  post({ type: "ready", module: load.module ?? null, isNew, load, packages, bootMs: now - bootStarted,
    timings: { ...bootTimings, site_ms: now - siteStarted } });
}

async function dispatch(message) {
  const { conn } = message;
  switch (message.type) {
    case "open":
      server.open(conn, message.scheme, message.client, message.identity || "");
      credit.set(conn, INITIAL_CREDIT);
      break;
    case "data":
      server.receive(conn, message.bytes);
      if (server.requests_started !== requestsSeen) {
        requestsSeen = server.requests_started;
        await persist(); // before the response leaves
      }
      pump(conn);
      break;
    case "credit":
      if (!credit.has(conn)) return;
      credit.set(conn, credit.get(conn) + message.chunks);
      pump(conn);
      break;
    case "close":
      credit.delete(conn);
      server.close(conn);
      break;
    case "call": {
      if (message.method === "console") await installTools(toPlain(server.workbench.tools_needed(message.args[0])));
      if (message.method === "reload" && readRequirements() !== bootRequirements) {
        post({ type: "result", id: message.id, value: { ok: false, restart: true,
          reason: "requirements.txt changed: restarting Python to install its packages." } });
        break;
      }
      const result = toPlain(server.call(message.method, ...(message.args || [])));
      await persist();
      post({ type: "result", id: message.id, ...result });
      break;
    }
    case "stats":
      // The WebAssembly memory holds Python's heap; MEMFS files live in JavaScript arrays.
      post({ type: "stats", memoryBytes: python._module.HEAPU8.buffer.byteLength,
        connections: credit.size });
      break;
  }
}

function pump(conn) {
  while (credit.get(conn) > 0) {
    const proxy = server.data_to_send(conn, CHUNK);
    const bytes = proxy.toJs();
    proxy.destroy();
    if (!bytes.length) break;
    credit.set(conn, credit.get(conn) - 1);
    post({ type: "send", conn, bytes }, [bytes.buffer]);
  }
  if (server.should_close(conn)) {
    credit.delete(conn);
    server.close(conn);
    post({ type: "end", conn });
  }
}

/** Install tools of the bundle (manifest.tools: pytest, with what it needs) on first use. */
async function installTools(names) {
  for (const name of names) {
    const archives = await Promise.all(bundle.manifest.tools[name].map(
      (wheel) => fetchBytes(`${bundle.url}python/${wheel}`))); // byte-compiled, as the others
    unpackWheels(archives);
  }
  if (names.length) python.runPython("import importlib; importlib.invalidate_caches()");
}

function readRequirements() {
  const path = `${trees.site}/requirements.txt`;
  return python.FS.analyzePath(path).exists ? python.FS.readFile(path, { encoding: "utf8" }) : null;
}

/** Install requirements.txt's packages, saying in the log what it got and what it could not. */
async function installPackages(text, packagesUrl, buildSources) {
  post({ type: "progress", label: "Installing requirements.txt", fraction: 0.7 });
  const say = (stream, line) => post({ type: "log", stream, text: line });
  const packages = await installRequirements(text, {
    python, server, sitePackages, packagesUrl, buildSources, ask, say,
    progress: (label) => post({ type: "progress", label, fraction: 0.7 }),
    watched: (building, run) => {
      post({ type: "busy", building });
      try {
        return run();
      } finally {
        post({ type: "idle" });
      }
    },
  });
  if (packages.installed.length) say("server", `requirements.txt: installed ${packages.installed.join(", ")}`);
  if (packages.builtIn.length) say("server", `requirements.txt: built in: ${packages.builtIn.join(", ")}`);
  for (const { requirement, reason } of packages.problems) say("stderr", `requirements.txt: ${requirement}: ${reason}`);
  return packages;
}

/** Send the main thread what changed in the site's files since the last time, and wait until
 * it has kept them. */
async function persist() {
  const { FS } = python;
  const changes = { put: [], remove: [] };
  const transfer = [];
  const now = {};
  for (const root of Object.keys(trees)) {
    now[root] = describeTree(FS, trees[root]);
    const tree = changesSince(FS, root, trees[root], saved[root], now[root]);
    changes.put.push(...tree.put);
    changes.remove.push(...tree.remove);
    transfer.push(...tree.transfer);
  }
  if (!changes.put.length && !changes.remove.length) return;
  try {
    await ask({ type: "save", changes }, transfer);
  } catch (error) {
    throw new Error(`The site's files could not be saved: ${error.message}`);
  }
  saved = now;
}

/** Ask the main thread `question` ({type, ...}); resolves to its answer. */
function ask(question, transfer = []) {
  const id = nextQuestion++;
  return new Promise((resolve, reject) => {
    asking.set(id, { resolve, reject });
    post({ type: "ask", id, question }, transfer);
  });
}

function settleQuestion({ id, value, error }) {
  const pending = asking.get(id);
  asking.delete(id);
  if (error === undefined) pending?.resolve(value);
  else pending?.reject(new Error(error));
}

/** Whether `error` means the Python runtime itself failed (Pyodide's "fatal error"). */
function crashed(error) {
  return Boolean(error?.pyodide_fatal_error) || /already fatally failed/.test(String(error));
}

function toPlain(proxy) {
  const value = proxy.toJs({ dict_converter: Object.fromEntries });
  proxy.destroy();
  return value;
}
