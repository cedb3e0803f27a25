// Starting Python in the worker: Pyodide from the runtime bundle (its byte-compiled standard
// library), the site's stack (Flask and the rest, byte-compiled by the build:
// signaling/bundle/precompile.mjs), from the memory snapshot this browser keeps when it was made
// from this bundle, else from scratch (see server-tab/python-snapshot.js).

import { fetchBytes, fetchJson } from "../fetch-checked.js";
import { fromWorker } from "../protocol/worker.js";
import { unpackWheels } from "./wheel-files.js";

// What a snapshot holds besides Python itself: the modules every site needs, imported.
const PRELOAD = "import flask, sqlite3, server_py.worker";
// What a snapshot would otherwise give every boot in this browser the same of.
const RESEED = "import random; random.seed()";

/**
 * @typedef {object} Runtime
 * @property {object} python the Pyodide instance
 * @property {string} bundleUrl where the runtime bundle is
 * @property {object} manifest what it holds (its manifest.json)
 * @property {string} sitePackages where installed packages go
 * @property {object} timings how long Python and the stack took: {pyodide_ms, wheels_ms, snapshot}
 * @property {boolean} restored whether it came from the snapshot
 * @property {number} started when the boot began (performance.now())
 */

/**
 * Start Python with the Flask stack, but no site yet. With `makeSnapshot`, only make a snapshot
 * and hand it to `post` (a "snapshot" message): such a worker is never given a site.
 * `post` also gets the boot's progress and log. Resolves to the Runtime (null with
 * makeSnapshot).
 */
export async function startPython(
  { bundleUrl, pyodidePackages = null, snapshot, makeSnapshot = false },
  post,
) {
  const started = performance.now();
  if (!makeSnapshot) post(fromWorker.progress("Loading Python", 0.05));
  const reading = snapshot?.blob.arrayBuffer(); // meanwhile
  const [{ loadPyodide }, manifest] = await Promise.all([
    import(`${bundleUrl}pyodide/pyodide.mjs`),
    fetchJson(`${bundleUrl}manifest.json`),
  ]);
  const archives = Promise.all(
    [...manifest.wheels, "server_py.zip"].map((archive) =>
      fetchBytes(`${bundleUrl}python/${archive}`),
    ),
  );
  const zipped = Promise.all(
    manifest.zipped.map((wheel) => fetchBytes(`${bundleUrl}wheels/${wheel}`)),
  );
  const key = JSON.stringify([manifest.pyodide, manifest.hashes, navigator.userAgent]);
  const options = {
    indexURL: `${bundleUrl}pyodide/`,
    stdLibURL: `${bundleUrl}python/python_stdlib.zip`, // byte-compiled
    // Pyodide's own packages, by name, checked against the bundle's lock (packages.js).
    ...(pyodidePackages ? { packageBaseUrl: pyodidePackages } : {}),
    stdout: (text) => post(fromWorker.log("stdout", text)),
    stderr: (text) => post(fromWorker.log("stderr", text)),
  };

  if (makeSnapshot) {
    // The Python that makes a snapshot sees JavaScript's globals through a wrapper (getters such
    // as `js.self.origin` fail there): it serves nothing, only leaves the snapshot.
    const python = await loadPyodide({ ...options, _makeSnapshot: true });
    await installFiles(python, manifest, archives, zipped, true);
    python.runPython(PRELOAD);
    // As a Blob: its 30-odd MB go to the browser's blob storage, not the server tab's heap.
    post(fromWorker.snapshot(key, new Blob([python.makeMemorySnapshot()])));
    return null;
  }
  const hashes = import(`${bundleUrl}hashes.js`);
  let python = null;
  if (snapshot?.key === key) {
    try {
      python = await restore(loadPyodide, options, new Uint8Array(await reading));
    } catch (error) {
      post(
        fromWorker.log("stderr", `The Python snapshot did not load (${error}); starting afresh.`),
      );
    }
  }
  const restored = python !== null;
  python ??= await loadPyodide(options);
  const pyodideLoaded = performance.now();
  post(fromWorker.progress("Installing Flask", 0.6));
  // A snapshot has sys.path as it was.
  const sitePackages = await installFiles(python, manifest, archives, zipped, !restored);
  if (restored) python.runPython(RESEED);
  self.peerserverHashes = (await hashes).peerserverHashes;
  python.pyimport("server_py.shims").install_from_javascript();
  const timings = {
    pyodide_ms: pyodideLoaded - started,
    wheels_ms: performance.now() - pyodideLoaded,
    snapshot: restored,
  };
  return { python, bundleUrl, manifest, sitePackages, timings, restored, started };
}

/**
 * Put the wheels' files in place (a snapshot holds the modules imported, not the files later
 * imports and templates read); the zipped ones go on sys.path, for zipimport, if `addToPath`.
 * Resolves to the site-packages folder.
 */
async function installFiles(python, manifest, archives, zipped, addToPath) {
  const sitePackages = python.runPython("import site; site.getsitepackages()[0]");
  unpackWheels(python.FS, sitePackages, await archives);
  const paths = (await zipped).map((archive, index) => {
    const path = `${sitePackages}/${manifest.zipped[index]}`;
    python.FS.writeFile(path, archive);
    return path;
  });
  if (addToPath) python.runPython(`import sys; sys.path.extend(${JSON.stringify(paths)})`);
  return sitePackages;
}

/** A Pyodide restored from `bytes`, a memory snapshot. */
function restore(loadPyodide, options, bytes) {
  const headerBytes = new Uint32Array(bytes.buffer, bytes.byteOffset, 2)[1];
  return loadPyodide({
    ...options,
    _loadSnapshot: bytes,
    fsInit: (FS) => growHeap(FS, bytes.byteLength - headerBytes),
  });
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
