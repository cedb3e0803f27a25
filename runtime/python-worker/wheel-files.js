// The bundle's wheels (the Flask stack, server_py, the Console's tools), written into Pyodide's
// file system by JavaScript, as they are in the zip.
//
// Pyodide's unpackArchive does this in Python (zipfile and shutil, in WebAssembly): 165-226 ms
// of every boot here, a snapshot's too, which has the modules imported but not the files later
// imports and templates read. The build stores these wheels uncompressed
// (signaling/bundle/precompile.mjs), so that reading one is slicing it: a boot's ~420 files take
// about 25 ms to write (fflate's unzipSync reads deflated entries too, more slowly).

import { unzipSync } from "fflate";

/**
 * The files of the zip `bytes`, as [path, contents]: directories are left out (they are made as
 * the files in them need them). A path that would leave the folder it is unpacked into, or
 * that names no file, is refused with an Error that says which.
 */
export function zipFiles(bytes) {
  const files = [];
  for (const [path, contents] of Object.entries(unzipSync(bytes))) {
    if (path.endsWith("/")) continue;
    const parts = path.split("/");
    if (parts.some((part) => part === "" || part === "." || part === ".." || part.includes("\\")))
      throw new Error(`${JSON.stringify(path)} in a wheel is not a path inside its folder`);
    files.push([path, contents]);
  }
  return files;
}

/** Unpack each of `wheels` (zip bytes) into `folder`, in Pyodide's file system `FS`. */
export function unpackWheels(FS, folder, wheels) {
  const made = new Set();
  for (const wheel of wheels) {
    for (const [path, contents] of zipFiles(wheel)) {
      const target = `${folder}/${path}`;
      const parent = target.slice(0, target.lastIndexOf("/"));
      if (!made.has(parent)) {
        FS.mkdirTree(parent);
        made.add(parent);
      }
      FS.writeFile(target, contents);
    }
  }
}
