// The site's two trees in the worker's memory (its files, and what the server keeps for its
// visitors), and keeping them: whatever a request or a workbench call changed goes to the
// server tab, which keeps it in its IndexedDB (server-tab/site-store.js), before the response
// leaves: nothing a visitor committed is lost by a reload of the tab.

import { changesSince, describeTree, restoreTree, ROOTS } from "../site-files.js";
import { questions } from "../protocol/worker.js";

export class SiteTrees {
  /** Lay out the site `name`'s `files` ({site, state}, as the server tab keeps them). */
  constructor(FS, name, files) {
    this.FS = FS;
    this.paths = { site: `${ROOTS.site}/${name}`, state: `${ROOTS.state}/${name}` };
    this.saved = {}; // root -> what the tree looked like when last kept (describeTree)
    for (const root of Object.keys(this.paths)) {
      restoreTree(FS, this.paths[root], files[root]);
      this.saved[root] = describeTree(FS, this.paths[root]);
    }
  }

  /** The site's requirements.txt, or null. */
  requirements() {
    const path = `${this.paths.site}/requirements.txt`;
    return this.FS.analyzePath(path).exists ? this.FS.readFile(path, { encoding: "utf8" }) : null;
  }

  /**
   * Send the server tab what changed since the last time, and wait until it has kept it:
   * `ask(question, transfer)` resolves once it has.
   */
  async persist(ask) {
    const changes = { put: [], remove: [] };
    const transfer = [];
    const now = {};
    for (const root of Object.keys(this.paths)) {
      now[root] = describeTree(this.FS, this.paths[root]);
      const tree = changesSince(this.FS, root, this.paths[root], this.saved[root], now[root]);
      changes.put.push(...tree.put);
      changes.remove.push(...tree.remove);
      transfer.push(...tree.transfer);
    }
    if (!changes.put.length && !changes.remove.length) return;
    try {
      await ask(questions.save(changes), transfer);
    } catch (error) {
      throw new Error(`The site's files could not be saved: ${error.message}`);
    }
    this.saved = now;
  }
}
