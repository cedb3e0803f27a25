// The server tab's dedicated worker: Pyodide, the site, and server_py's HTTP connections.
//
// The main thread owns the data channels and moves bytes; this worker owns Python. Messages:
//   in:  boot {bundleUrl, siteUrl}, open {conn, scheme, client}, data {conn, bytes},
//        credit {conn, chunks}, close {conn}, stats
//   out: progress {label, fraction}, ready {module}, failed {message, traceback, filename,
//        lineno}, send {conn, bytes}, end {conn}, request {method, target, status,
//        duration_ms, client}, log {stream, text}, stats {memoryBytes, connections}
// Output to a connection is pulled from Python only while the main thread has granted credit
// (one chunk per credit), so a large response flows at the pace of the channel.

const CHUNK = 64 * 1024;
const INITIAL_CREDIT = 8;

let server = null; // server_py.worker.SiteServer, once booted
let python = null; // the Pyodide instance
const waiting = []; // messages that arrived before the site was ready
const credit = new Map();

self.addEventListener("message", (event) => {
  const message = event.data;
  if (message.type === "boot") {
    boot(message).catch((error) => post({ type: "failed", message: String(error), traceback: error.stack }));
  } else if (server === null) {
    waiting.push(message);
  } else {
    handle(message);
  }
});

function post(message, transfer = []) {
  self.postMessage(message, transfer);
}

async function boot({ bundleUrl, siteUrl }) {
  const started = performance.now();
  post({ type: "progress", label: "Loading Python", fraction: 0.05 });
  const { loadPyodide } = await import(`${bundleUrl}pyodide/pyodide.mjs`);
  const manifest = await fetchJson(`${bundleUrl}manifest.json`);
  const archives = Promise.all([
    ...manifest.wheels.map((wheel) => fetchBytes(`${bundleUrl}wheels/${wheel}`)),
    fetchBytes(`${bundleUrl}server_py.zip`),
  ]);
  const site = fetchBytes(siteUrl);
  const pyodide = await loadPyodide({
    indexURL: `${bundleUrl}pyodide/`,
    stdout: (text) => post({ type: "log", stream: "stdout", text }),
    stderr: (text) => post({ type: "log", stream: "stderr", text }),
  });
  post({ type: "progress", label: "Installing Flask", fraction: 0.6 });
  const sitePackages = pyodide.runPython("import site; site.getsitepackages()[0]");
  for (const archive of await archives) {
    // A wheel is a zip whose top level belongs on sys.path.
    pyodide.unpackArchive(archive, "zip", { extractDir: sitePackages });
  }
  post({ type: "progress", label: "Loading the site", fraction: 0.8 });
  const { SiteServer } = pyodide.pyimport("server_py.worker");
  const siteServer = SiteServer("/home/pyodide/site", (record) => {
    post({ type: "request", ...record.toJs({ dict_converter: Object.fromEntries }) });
  });
  siteServer.unpack(await site);
  const result = toPlain(siteServer.load());
  if (!result.ok) {
    post({ type: "failed", ...result });
    return;
  }
  server = siteServer;
  python = pyodide;
  post({ type: "ready", module: result.module, bootMs: performance.now() - started });
  for (const message of waiting.splice(0)) handle(message);
}

function handle(message) {
  try {
    dispatch(message);
  } catch (error) {
    // A failure of the runtime itself, not of the site (the site's errors become 500s):
    // report it and drop that one connection, the others carry on.
    post({ type: "log", stream: "stderr", text: String(error) });
    if (message.conn !== undefined) {
      credit.delete(message.conn);
      post({ type: "end", conn: message.conn });
    }
  }
}

function dispatch(message) {
  const { conn } = message;
  switch (message.type) {
    case "open":
      server.open(conn, message.scheme, message.client);
      credit.set(conn, INITIAL_CREDIT);
      break;
    case "data":
      server.receive(conn, message.bytes);
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
    case "stats":
      // The WebAssembly memory holds Python's heap and its in-memory file system.
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

function toPlain(proxy) {
  const value = proxy.toJs({ dict_converter: Object.fromEntries });
  proxy.destroy();
  return value;
}

async function fetchBytes(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}

async function fetchJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
  return response.json();
}
