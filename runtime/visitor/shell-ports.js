// The service worker's side of the shells' own ports (runtime/protocol/service-worker.js's
// "shell" messages): which shells it may send a request to, and which it picks. A request goes
// to the shell the visitor last saw (the latest shown; a hidden page's timers and tasks may be
// slowed, or frozen), and no shell that said it is gone; on a lane of that shell's port
// (runtime/protocol/port-lanes.js).

import { PortLanes } from "../protocol/port-lanes.js";

export class ShellPorts {
  constructor() {
    this.shells = new Map(); // client id -> {lanes, visible, seen}
    this.clock = 0; // orders the shells by when they were last shown or heard from
  }

  /** A shell's "shell" message (`ports` as the message event had them). */
  heard(id, { visible = false, gone = false } = {}, ports = []) {
    if (gone) {
      this.shells.delete(id);
      return;
    }
    const known = this.shells.get(id);
    const lanes = ports[0] ? new PortLanes(ports[0]) : known?.lanes;
    if (!lanes) return; // news of a shell whose port this worker never had (it started afresh)
    const seen = visible || !known ? ++this.clock : known.seen;
    this.shells.set(id, { lanes, visible, seen });
  }

  /** The lanes of the port of the shell to send a request to (PortLanes), or null (then a shell
   * is found the old way). */
  pick() {
    let best = null;
    for (const shell of this.shells.values()) {
      const better =
        best === null ||
        (shell.visible && !best.visible) ||
        (shell.visible === best.visible && shell.seen > best.seen);
      if (better) best = shell;
    }
    return best?.lanes ?? null;
  }
}
