// A standby's copy of the site, as rules with no I/O (standing-by.js carries them out): which
// of the serving tab's messages it keeps, and where its copy stands.
//
// The service announces each epoch of the site's lease (signaling/leases.py): a new one means
// another tab serves now, or the same one again after it lost its lease, and the copy starts
// over from a snapshot of that tab. Messages of an earlier epoch are refused: they come from a
// tab that no longer serves (fencing, as a replica refuses a deposed primary). A change must
// follow the one before it; one that does not (a change lost, say) asks for a snapshot.

import { SNAPSHOT } from "../protocol/replication.js";

export class Replica {
  constructor() {
    this.epoch = null; // the latest epoch this standby knows of
    this.seq = null; // the last change its copy holds, in that epoch (null: none yet)
  }

  /** The service says the site is served in `epoch`: true if that is news, and the copy
   * must start over from the serving tab of that epoch. */
  announced(epoch) {
    if (epoch === this.epoch) return false;
    if (this.epoch !== null && epoch < this.epoch) return false; // an old announcement, late
    this.epoch = epoch;
    this.seq = null;
    return true;
  }

  /**
   * What to do with a message from the serving tab (replication.js's parseFromServing):
   * {keep: true} (keep it, then `kept`), {refuse: reason} (it is not this epoch's: drop the
   * connection), or {resync: reason} (ask for a snapshot).
   */
  check(message) {
    if (this.epoch !== null && message.epoch < this.epoch) {
      return { refuse: `a change of epoch ${message.epoch}, which has ended` };
    }
    if (message.type === SNAPSHOT) return { keep: true };
    if (this.seq === null || message.epoch !== this.epoch) {
      return { resync: "a change before its snapshot" };
    }
    if (message.seq !== this.seq + 1) {
      return { resync: `change ${message.seq} came after ${this.seq}` };
    }
    return { keep: true };
  }

  /** The copy holds `message` now: what to confirm ({epoch, seq}). */
  kept(message) {
    this.epoch = Math.max(this.epoch ?? 0, message.epoch);
    this.seq = message.seq;
    return { epoch: this.epoch, seq: this.seq };
  }
}
