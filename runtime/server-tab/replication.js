// The serving tab's replication log: its standbys, what each has confirmed, and which of them
// a write must wait for. No I/O (standbys.js carries it out; the time comes in as `now`, ms).
//
// Replication is synchronous, as PostgreSQL's synchronous_commit: a change the site made is
// sent to every standby, and the response that follows it leaves only once every standby *in
// sync* has confirmed it (kept it in its IndexedDB). A standby is in sync once the service
// knows it is (signaling/leases.py): it has caught up, and this tab declared it. A standby that
// does not confirm within `waitMs` is declared out of sync, and once the service has said so,
// the write is answered without it: the site serves on alone, and that standby can no longer
// be promoted (its copy lacks what was answered since). A standby that catches up again is
// declared in sync again. Until the service has acknowledged a declaration, both the old set
// and the new one must confirm (`mustConfirm`): the service may promote any of them meanwhile.

export const DEFAULT_WAIT_MS = 3000;

/**
 * @typedef {object} StandbyState
 * @property {string} member its member id (signaling/leases.py)
 * @property {string} where what browser it is, as it says
 * @property {number} since when it connected (ms)
 * @property {number} snapshotSeq the change its snapshot holds
 * @property {number} acked the last change it confirmed (-1: not even its snapshot)
 * @property {number} ackedAt when it last confirmed one
 * @property {boolean} lagging declared out of sync: it kept a write waiting too long
 */

export class ReplicationLog {
  constructor({ waitMs = DEFAULT_WAIT_MS } = {}) {
    this.waitMs = waitMs;
    this.seq = 0; // the last change made
    /** @type {Map<string, StandbyState>} */
    this.standbys = new Map();
    this.declared = []; // the in-sync standbys, as the service last acknowledged
    this.pending = null; // a declaration the service has not acknowledged yet
  }

  /** A standby connected at `now`: it gets a snapshot of the site as of change `seq` first. */
  attach(member, where, now) {
    /** @type {StandbyState} */
    const standby = {
      member,
      where,
      since: now,
      snapshotSeq: this.seq,
      acked: -1,
      ackedAt: now,
      lagging: false,
    };
    this.standbys.set(member, standby);
    return standby;
  }

  detach(member) {
    this.standbys.delete(member);
  }

  /** A new change of the site: its number. */
  append() {
    return ++this.seq;
  }

  /** `member` confirmed every change up to `seq` at `now`. */
  acked(member, seq, now) {
    const standby = this.standbys.get(member);
    if (!standby || !Number.isInteger(seq) || seq <= standby.acked || seq > this.seq) return;
    standby.acked = seq;
    standby.ackedAt = now;
    if (seq === this.seq) standby.lagging = false; // caught up
  }

  /** The standbys every write must be confirmed by (or declared out first). */
  get mustConfirm() {
    return new Set([...this.declared, ...(this.pending ?? [])]);
  }

  /** Whether a standby could be promoted in this tab's place: then it serves only while its
   * lease lasts. */
  get fencing() {
    return this.mustConfirm.size > 0;
  }

  /** Who has not confirmed change `seq`, among those who must. */
  unconfirmed(seq) {
    return [...this.mustConfirm].filter((member) => (this.standbys.get(member)?.acked ?? -1) < seq);
  }

  /** Change `seq`, waiting since `since`: at `now`, who kept it waiting too long is out of
   * sync. Returns those who are out from now (to say so once). */
  overdue(seq, since, now) {
    if (now - since < this.waitMs) return [];
    const late = [];
    for (const member of this.unconfirmed(seq)) {
      const standby = this.standbys.get(member);
      if (standby && !standby.lagging) {
        standby.lagging = true;
        late.push(member);
      }
    }
    return late;
  }

  /**
   * The in-sync set as it should be: those in it stay while connected and not lagging (a write
   * in flight waits for them); one joins only when it holds every change made, so that from
   * then on every write waits for it too. The most up-to-date first (then the longest
   * connected).
   */
  desired() {
    const counted = this.mustConfirm;
    return [...this.standbys.values()]
      .filter(
        ({ member, acked, lagging }) => !lagging && (counted.has(member) || acked === this.seq),
      )
      .sort((a, b) => b.acked - a.acked || a.since - b.since)
      .map((standby) => standby.member);
  }

  /** The declaration to send the service now, if the set changed and none is on its way
   * (it is then pending until `synced`). */
  nextDeclaration() {
    if (this.pending !== null) return null;
    const desired = this.desired();
    if (sameMembers(desired, this.declared)) return null;
    this.pending = desired;
    return desired;
  }

  /** The service acknowledged a declaration: these are in sync now. */
  synced(inSync) {
    this.declared = [...inSync];
    this.pending = null;
  }

  /** A declaration got no answer: the service knows the old set or the new one, so both are
   * in sync for this tab until the next declaration is answered. */
  unanswered() {
    this.declared = [...this.mustConfirm];
    this.pending = null;
  }

  /** A new lease (a new epoch), or none: the service knows no standby in sync with this tab,
   * and those connected start over with a snapshot. */
  restart() {
    this.standbys.clear();
    this.declared = [];
    this.pending = null;
  }

  /** The standbys as the owner sees them: state ("copying", "in sync", "catching up",
   * "lagging") and how many changes each has not confirmed. */
  describe() {
    return [...this.standbys.values()].map((standby) => {
      let state = "catching up";
      if (standby.acked < standby.snapshotSeq) state = "copying";
      else if (standby.lagging) state = "lagging";
      else if (this.declared.includes(standby.member)) state = "in sync";
      return {
        member: standby.member,
        where: standby.where,
        since: standby.since,
        state,
        behind: standby.acked < 0 ? null : this.seq - standby.acked,
      };
    });
  }
}

function sameMembers(a, b) {
  return a.length === b.length && a.every((member) => b.includes(member));
}
