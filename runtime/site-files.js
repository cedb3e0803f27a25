// A site's files as both ends keep them: the Python worker lays out in Emscripten's in-memory
// file system what the server tab kept (server-tab/site-store.js), and finds what changed
// since, to send back. The worker has an opaque origin and so no IndexedDB of its own.

// The two trees of a site: its own files, and what the server keeps for its visitors.
export const ROOTS = { site: "/peerserver", state: "/peerserver-state" };
// A file's type, in its mode (as stat says it).
export const TYPE = 0o170000;
export const DIRECTORY = 0o040000;
export const FILE = 0o100000;

/** Write `entries` ({path, mode, timestamp, contents?}, in any order) under `dir`. */
export function restoreTree(FS, dir, entries) {
  FS.mkdirTree(dir);
  for (const { path, mode, timestamp, contents } of entries) {
    const full = `${dir}/${path}`;
    if ((mode & TYPE) === DIRECTORY) {
      FS.mkdirTree(full);
    } else if ((mode & TYPE) === FILE) {
      FS.mkdirTree(full.slice(0, full.lastIndexOf("/")));
      FS.writeFile(full, contents, { canOwn: true });
    } else {
      continue; // a symbolic link (IDBFS kept those): not part of a site
    }
    FS.chmod(full, mode);
    FS.utime(full, timestamp, timestamp);
  }
}

/** What each file and directory under `dir` looks like now: path -> signature. */
export function describeTree(FS, dir) {
  const signatures = new Map();
  const walk = (relative) => {
    for (const name of FS.readdir(relative ? `${dir}/${relative}` : dir)) {
      if (name === "." || name === "..") continue;
      const path = relative ? `${relative}/${name}` : name;
      const stat = FS.stat(`${dir}/${path}`);
      if (FS.isDir(stat.mode)) {
        signatures.set(path, `d ${stat.mode}`);
        walk(path);
      } else if (FS.isFile(stat.mode)) {
        signatures.set(path, `f ${stat.mode} ${+stat.mtime} ${stat.size}`);
      }
    }
  };
  walk("");
  return signatures;
}

/**
 * The changes under `dir` (the tree called `root`) since `saved` (a describeTree result), as
 * site-store.js's checkChanges expects them, with the buffers to transfer.
 */
export function changesSince(FS, root, dir, saved, now = describeTree(FS, dir)) {
  const put = [];
  const transfer = [];
  for (const [path, signature] of now) {
    if (saved.get(path) === signature) continue;
    const stat = FS.stat(`${dir}/${path}`);
    const entry = { root, path, mode: stat.mode, timestamp: +stat.mtime };
    if (!FS.isDir(stat.mode)) {
      entry.contents = FS.readFile(`${dir}/${path}`);
      transfer.push(entry.contents.buffer);
    }
    put.push(entry);
  }
  const remove = [...saved.keys()].filter((path) => !now.has(path)).map((path) => ({ root, path }));
  return { put, remove, transfer };
}
