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
// Only a worker that has not been given a site yet may leave a snapshot (site-host.js sees to
// that): the site's code, perhaps a stranger's, never runs before the snapshot is taken, so it
// cannot plant anything in the Python that the owner's other sites will start from.

import { openDatabase, requestDone, transactionDone } from "./idb.js";

const DATABASE = "peerserver-python";
const STORE = "snapshots";
const RECORD = "latest"; // one snapshot: the bundle it was made from is in its key

export class SnapshotStore {
  /** The snapshot kept, {key, bytes}, or null; never throws (a boot without one is slower). */
  async load() {
    try {
      const db = await this.database();
      const record = await requestDone(db.transaction(STORE, "readonly").objectStore(STORE).get(RECORD));
      return record?.bytes instanceof Uint8Array && typeof record.key === "string" ? record : null;
    } catch {
      return null;
    }
  }

  /** Keep `snapshot` ({key, bytes}) in place of the one before. */
  async save({ key, bytes }) {
    const db = await this.database();
    const transaction = db.transaction(STORE, "readwrite");
    transaction.objectStore(STORE).put({ key, bytes }, RECORD);
    await transactionDone(transaction);
  }

  database() {
    this.opening ??= openDatabase(DATABASE, 1, (db) => db.createObjectStore(STORE));
    return this.opening;
  }
}
