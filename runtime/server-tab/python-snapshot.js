// The server tab's copy of a Python memory snapshot: Pyodide with the Flask stack imported, as
// a worker made it in this browser, so that later boots (another site, a reload, a restart
// after the time limit) restore it in a fraction of a second instead of starting Python and
// importing Flask again.
//
// Why one per browser rather than one made once and served with the bundle: a snapshot holds
// Python's hash secret, fixed when Python starts. Served to everyone, it would be public, and
// anyone could send a site request data whose keys all collide in its dicts. Made here, it
// stays in this browser.
//
// A snapshot is made by a worker of its own, started after the first boot without one and
// never given a site (makeSnapshot, which python-process.js calls): no site's code, perhaps a
// stranger's, has run in it, so none can plant anything in the Python the owner's sites will
// start from.

import { openDatabase, requestDone, transactionDone } from "../idb.js";
import { SNAPSHOT, toWorker } from "../protocol/worker.js";

const DATABASE = "peerserver-python";
const STORE = "snapshots";
const RECORD = "latest"; // one snapshot: the bundle it was made from is in its key
const GIVE_UP_MS = 120000;

export class SnapshotStore {
  /**
   * The snapshot kept, {key, blob}, or null; never throws (a boot without one is slower). A
   * Blob, so that its 30-odd MB are read by the worker, while it fetches the rest, rather than
   * here before it may start.
   */
  async load() {
    try {
      const db = await this.database();
      const record = await requestDone(
        db.transaction(STORE, "readonly").objectStore(STORE).get(RECORD),
      );
      return record?.blob instanceof Blob && typeof record.key === "string" ? record : null;
    } catch {
      return null;
    }
  }

  /** Keep the snapshot `blob`, made from the bundle `key`, in place of the one before. */
  async save({ key, blob }) {
    const db = await this.database();
    const transaction = db.transaction(STORE, "readwrite");
    transaction.objectStore(STORE).put({ key, blob }, RECORD);
    await transactionDone(transaction);
  }

  database() {
    this.opening ??= openDatabase(DATABASE, 1, (db) => db.createObjectStore(STORE));
    return this.opening;
  }
}

/**
 * Have `worker`, a Python worker started for this alone and never given a site, boot from
 * `bundleUrl` and make a snapshot, kept in `store`; `onError(text)` hears why one was not kept.
 * The worker ends when it is done, or after GIVE_UP_MS.
 */
export function makeSnapshot(worker, bundleUrl, store, onError) {
  const done = () => {
    worker.terminate();
    clearTimeout(giveUp);
  };
  const giveUp = setTimeout(done, GIVE_UP_MS);
  worker.addEventListener("error", done);
  worker.addEventListener("message", ({ data }) => {
    if (data.type !== SNAPSHOT) return;
    done();
    if (typeof data.key === "string" && data.blob instanceof Blob) {
      store
        .save(data)
        .catch((error) =>
          onError(`The Python snapshot could not be kept (${error}): the next start is slower.`),
        );
    }
  });
  worker.postMessage(toWorker.boot({ bundleUrl, makeSnapshot: true }));
}
