// Where a site's files are kept between runs: the server tab's IndexedDB, on behalf of a Python
// worker that has no storage of its own.
//
// A site's Python runs in a worker with an opaque origin (see python-process.js), so that an imported
// zip from a stranger cannot open the IndexedDB of the owner's other sites or read the
// workbench's storage. That worker sends its changed files here and gets them back at boot.
//
// The databases keep Emscripten's IDBFS layout (one database per mount point, store FILE_DATA,
// keys the absolute paths, values {timestamp, mode, contents}), the layout of the worker that
// used to mount IDBFS itself: sites saved before keep their files.
//
// What the worker sends is not trusted: `checkChanges` accepts changes to this site's two trees
// only, as plain paths inside them, or throws.
//
// A standby's copy (standing-by.js) also keeps, in each database's META store and in the same
// transaction as the files, the change of the serving tab it holds ({epoch, seq}). Each tree is
// one transaction, so a standby that dies between the two has trees of two different changes:
// `position()` then says its copy is not whole, and it is never promoted with it.

import { openDatabase, requestDone, transactionDone } from "../idb.js";
import { DIRECTORY, FILE, ROOTS, TYPE } from "../site-files.js";

const DB_VERSION = 22;
const STORE = "FILE_DATA";
const META = "META";
const POSITION = "position";
const MAX_PATH_LENGTH = 4096;

export class ChangeError extends Error {}

/**
 * Check the changes a worker asks to save: {put: [{root, path, mode, timestamp, contents?}],
 * remove: [{root, path}]} with `root` one of ROOTS' keys and `path` relative to it. Returns
 * them as plain objects with only those fields; throws ChangeError at anything else.
 */
export function checkChanges(changes) {
  if (!isObject(changes) || !Array.isArray(changes.put) || !Array.isArray(changes.remove)) {
    throw new ChangeError("expected {put: [...], remove: [...]}");
  }
  const put = changes.put.map((entry) => {
    const place = checkPlace(entry);
    const { mode, timestamp, contents } = entry;
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o177777) throw new ChangeError("bad mode");
    if (!Number.isFinite(timestamp)) throw new ChangeError("bad timestamp");
    const type = mode & TYPE;
    if (type === DIRECTORY) {
      if (contents !== undefined) throw new ChangeError("a directory has no contents");
      return { ...place, mode, timestamp };
    }
    if (type !== FILE || !(contents instanceof Uint8Array)) {
      throw new ChangeError("only files with contents and directories are kept");
    }
    return { ...place, mode, timestamp, contents };
  });
  const remove = changes.remove.map(checkPlace);
  return { put, remove };
}

function checkPlace(entry) {
  // A string first: any other key would be converted, which an object can make throw.
  if (!isObject(entry) || typeof entry.root !== "string" || !Object.hasOwn(ROOTS, entry.root)) {
    throw new ChangeError("bad root");
  }
  const { path } = entry;
  if (typeof path !== "string") throw new ChangeError("bad path: not a string");
  if (
    path.length === 0 ||
    path.length > MAX_PATH_LENGTH ||
    path.split("/").some((part) => part === "" || part === "." || part === "..") ||
    path.includes("\0")
  ) {
    throw new ChangeError(`bad path: ${JSON.stringify(path).slice(0, 80)}`);
  }
  return { root: entry.root, path };
}

/** A file as IDBFS stored it. */
function stored({ mode, timestamp, contents }) {
  const value = { timestamp: new Date(timestamp), mode };
  if (contents !== undefined) value.contents = contents;
  return value;
}

function isObject(value) {
  return typeof value === "object" && value !== null;
}

/** The IndexedDB key of a file: its absolute path, as IDBFS names it. */
export function storageKey(name, root, path) {
  return `${ROOTS[root]}/${name}/${path}`;
}

/** One site's files in this tab's IndexedDB. */
export class SiteStore {
  constructor(name) {
    this.name = name;
    this.databases = {}; // root -> Promise<IDBDatabase>
  }

  /**
   * Every file and directory of the site: {site: [...], state: [...]}, each entry {path, mode,
   * timestamp, contents?} with `path` relative to its tree.
   */
  async load() {
    const trees = {};
    for (const root of Object.keys(ROOTS)) {
      const prefix = `${ROOTS[root]}/${this.name}/`;
      const store = (await this.database(root)).transaction(STORE, "readonly").objectStore(STORE);
      // Both in one transaction, so in the same (key) order.
      const [keys, values] = await Promise.all([
        requestDone(store.getAllKeys()),
        requestDone(store.getAll()),
      ]);
      const records = keys.map((key, index) => ({ key, value: values[index] }));
      trees[root] = records
        .filter(({ key }) => typeof key === "string" && key.startsWith(prefix))
        .map(({ key, value }) => ({
          path: key.slice(prefix.length),
          mode: value.mode,
          timestamp: +value.timestamp,
          contents: value.contents,
        }));
    }
    return trees;
  }

  /**
   * Save checked changes (see checkChanges), each tree in one transaction; with `position`
   * (a standby's: the serving tab's change they are), that too, in both trees.
   */
  async save({ put, remove }, position = null) {
    for (const root of Object.keys(ROOTS)) {
      const puts = put.filter((entry) => entry.root === root);
      const removes = remove.filter((entry) => entry.root === root);
      if (!puts.length && !removes.length && position === null) continue;
      await this.write(root, position, (store) => {
        for (const { path } of removes) store.delete(storageKey(this.name, root, path));
        for (const entry of puts) store.put(stored(entry), storageKey(this.name, root, entry.path));
      });
    }
  }

  /** Replace the whole site with `files` (checked, each with its root) at `position`. */
  async replaceAll(files, position) {
    for (const root of Object.keys(ROOTS)) {
      await this.write(root, position, (store) => {
        store.clear();
        for (const entry of files.filter((file) => file.root === root)) {
          store.put(stored(entry), storageKey(this.name, root, entry.path));
        }
      });
    }
  }

  /** One tree's transaction: `change(store)`, and `position` in its META store, if given. */
  async write(root, position, change) {
    const stores = position === null ? [STORE] : [STORE, META];
    const transaction = (await this.database(root)).transaction(stores, "readwrite");
    change(transaction.objectStore(STORE));
    if (position !== null) transaction.objectStore(META).put(position, POSITION);
    await transactionDone(transaction);
  }

  /**
   * The serving tab's change this copy holds ({epoch, seq}); {epoch: 0, seq: 0} for a copy
   * that never was a standby's (its owner's own); null when its two trees hold different ones
   * (a copy that stopped half-way: not whole).
   */
  async position() {
    const positions = [];
    for (const root of Object.keys(ROOTS)) {
      const meta = (await this.database(root)).transaction(META, "readonly").objectStore(META);
      positions.push((await requestDone(meta.get(POSITION))) ?? { epoch: 0, seq: 0 });
    }
    const [first, ...others] = positions;
    const same = others.every((other) => other.epoch === first.epoch && other.seq === first.seq);
    return same ? first : null;
  }

  database(root) {
    this.databases[root] ??= openDatabase(
      `${ROOTS[root]}/${this.name}`,
      DB_VERSION,
      (db, upgrade) => {
        const store = db.objectStoreNames.contains(STORE)
          ? upgrade.objectStore(STORE)
          : db.createObjectStore(STORE);
        if (!store.indexNames.contains("timestamp")) {
          store.createIndex("timestamp", "timestamp", { unique: false });
        }
        if (!db.objectStoreNames.contains(META)) db.createObjectStore(META);
      },
    );
    return this.databases[root];
  }

  close() {
    for (const database of Object.values(this.databases))
      database.then(
        (db) => db.close(),
        () => {},
      );
    this.databases = {};
  }
}
