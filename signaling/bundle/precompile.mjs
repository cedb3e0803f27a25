// Byte-compile the Python of the runtime bundle ahead of time, with Pyodide's own Python (run
// under Node by signaling/bundle/__init__.py at build time).
//
// Pyodide ships its standard library as source, and wheels are source too: without this, a
// server tab compiles every module it imports, every boot (about 1.5 s of a cold start here).
// The bytecode is "unchecked hash" .pyc: valid whatever the files' times after unpacking.
//
//   node precompile.mjs PYODIDE_DIR OUT_DIR MODE:ARCHIVE...
//
// MODE "zipimport" (read in place, by zipimport: name.pyc beside name.py) or "unpacked"
// (extracted to site-packages: __pycache__/name.cpython-3XX.pyc). Each ARCHIVE is written to
// OUT_DIR under its own name, its entries kept, the bytecode added. An unpacked archive's
// entries are stored, not deflated: the server tab writes them out as they are, every boot
// (runtime/python-worker/wheel-files.js), where inflating them would cost more than the rest.

import { readFileSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

const [pyodideDir, outDir, ...jobs] = process.argv.slice(2);
const { loadPyodide } = await import(join(pyodideDir, "pyodide.mjs"));
const python = await loadPyodide({ indexURL: `${pyodideDir}/` });

const compile = python.runPython(`
import compileall, os, py_compile, shutil, zipfile

def compile_archive(source, target, mode):
    """Write the zip \`source\` to \`target\` with the bytecode of its modules added."""
    work = "/tmp/precompile"
    shutil.rmtree(work, ignore_errors=True)
    with zipfile.ZipFile(source) as archive:
        names = archive.namelist()
        archive.extractall(work)
    compileall.compile_dir(
        work, quiet=2, legacy=mode == "zipimport", workers=1,
        invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    method = zipfile.ZIP_DEFLATED if mode == "zipimport" else zipfile.ZIP_STORED
    with zipfile.ZipFile(target, "w", method) as archive:
        for root, dirs, files in os.walk(work):
            dirs.sort()
            for name in sorted(files):
                path = os.path.join(root, name)
                member = os.path.relpath(path, work)
                info = zipfile.ZipInfo(member, date_time=(2020, 1, 1, 0, 0, 0))
                info.compress_type = method
                info.external_attr = 0o644 << 16
                with open(path, "rb") as data:
                    archive.writestr(info, data.read())
    shutil.rmtree(work)
    return len(names)

compile_archive
`);

for (const job of jobs) {
  const split = job.indexOf(":");
  const [mode, archive] = [job.slice(0, split), job.slice(split + 1)];
  if (!["zipimport", "unpacked"].includes(mode)) throw new Error(`unknown mode: ${mode}`);
  python.FS.writeFile("/tmp/source.zip", readFileSync(archive));
  compile("/tmp/source.zip", "/tmp/target.zip", mode);
  writeFileSync(join(outDir, basename(archive)), python.FS.readFile("/tmp/target.zip"));
}
compile.destroy();
