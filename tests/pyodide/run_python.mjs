// Runs Python code in real Pyodide under Node, set up as the server tab's worker sets it up:
// the runtime bundle's byte-compiled standard library, wheels and server_py, and
// server_py.shims on @noble/hashes.
// Usage: node run_python.mjs BUNDLE_DIR [HOST_DIR:PYODIDE_DIR ...] < code.py
// prints what the code prints; each HOST_DIR is mounted (NODEFS) at PYODIDE_DIR.

import { readFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { unpackWheels } from "../../runtime/python-worker/wheel-files.js";

const bundle = process.argv[2].replace(/\/?$/, "/");
const { loadPyodide } = await import(pathToFileURL(`${bundle}pyodide/pyodide.mjs`).href);
const python = await loadPyodide({
  indexURL: `${bundle}pyodide/`,
  stdLibURL: `${bundle}python/python_stdlib.zip`,
});
const manifest = JSON.parse(readFileSync(`${bundle}manifest.json`, "utf8"));
const sitePackages = python.runPython("import site; site.getsitepackages()[0]");
unpackWheels(
  python.FS,
  sitePackages,
  [...manifest.wheels, "server_py.zip"].map((archive) =>
    readFileSync(`${bundle}python/${archive}`),
  ),
);
for (const wheel of manifest.zipped) {
  python.FS.writeFile(
    `${sitePackages}/${wheel}`,
    new Uint8Array(readFileSync(`${bundle}wheels/${wheel}`)),
  );
  python.pyimport("sys").path.append(`${sitePackages}/${wheel}`);
}
globalThis.peerserverHashes = (
  await import(pathToFileURL(`${bundle}hashes.js`).href)
).peerserverHashes;
python.pyimport("server_py.shims").install_from_javascript();
for (const mount of process.argv.slice(3)) {
  const [hostDir, guestDir] = mount.split(":");
  python.FS.mkdirTree(guestDir);
  python.FS.mount(python.FS.filesystems.NODEFS, { root: hostDir }, guestDir);
}
python.runPython(readFileSync(0, "utf8"));
