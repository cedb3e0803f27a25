// A serving tab's own view of its lease (signaling/leases.py): until when it may answer; and
// its answer gate, the one rule for whether anything it answers may leave (`answerGate`), which
// its main thread and its Python worker (where the visitors' HTTP channels may live) both apply.
//
// The service counts a lease from when its request *arrived*; the tab counts it from when it
// *sent* it, and ends it a margin sooner: whatever the network's delay, the tab's deadline
// comes before the service's, so the tab stops answering before a standby may be promoted.
// Both of the tab's clocks must agree that the deadline has not passed: the monotonic one
// (performance.now(), which a changed wall clock does not move) and the wall clock (Date.now(),
// which goes on while the machine sleeps, when the monotonic one may not). A laptop that wakes
// up after an hour does not believe it still holds the lease it had when its lid closed.
//
// No I/O: the times come in as {mono, wall} in ms, and the caller checks `valid(now)` at the
// moment it is about to answer, not with a timer (a hidden tab's timers run late).

export const MIN_MARGIN_MS = 1000;
export const MARGIN_SHARE = 0.2; // of the lease

export class Lease {
  constructor() {
    this.asked = new Map(); // request number -> {mono, wall} when it was sent
    this.deadline = null; // {mono, wall}, while the tab holds a lease
    this.epoch = null;
    this.next = 1;
  }

  /** A request that can be answered with a lease (register, renew) goes out now: its number. */
  ask(now) {
    const n = this.next++;
    this.asked.set(n, now);
    for (const old of this.asked.keys()) if (old < n - 16) this.asked.delete(old);
    return n;
  }

  /**
   * The service granted request `n` a lease of `seconds` in `epoch`. Returns whether that
   * made a deadline (an answer to a request this tab did not send, or sent before it lost its
   * lease, does not).
   */
  granted(n, seconds, epoch) {
    const sent = this.asked.get(n);
    this.asked.delete(n);
    if (!sent || !(seconds > 0)) return false;
    const lasts = seconds * 1000 - Math.max(MIN_MARGIN_MS, seconds * 1000 * MARGIN_SHARE);
    const deadline = { mono: sent.mono + lasts, wall: sent.wall + lasts };
    // A late answer to an earlier request never shortens a later one's lease.
    if (this.epoch === epoch && this.deadline && this.deadline.mono > deadline.mono) return true;
    this.deadline = deadline;
    this.epoch = epoch;
    return true;
  }

  /** Whether the tab holds its lease at `now` (by both clocks). */
  valid(now) {
    return before(this.deadline, now);
  }

  /** How long it still holds it at `now`, in ms (0 once it does not). */
  remaining(now) {
    if (!this.valid(now)) return 0;
    return Math.min(this.deadline.mono - now.mono, this.deadline.wall - now.wall);
  }

  /** The lease is gone (given up, or another tab serves): nothing answered before it counts. */
  end() {
    this.deadline = null;
    this.epoch = null;
    this.asked.clear();
  }
}

/** Whether `now` comes before `deadline` ({mono, wall}, or null: none) by both clocks. */
function before(deadline, now) {
  return deadline !== null && now.mono < deadline.mono && now.wall < deadline.wall;
}

/**
 * The browser's two clocks, as Lease takes them, read alike by a page and its workers: the
 * monotonic one counted from the machine's clock at the context's start (timeOrigin), so that
 * a deadline the page computed means the same in its worker. Should the two origins disagree
 * (the wall clock was set between the page's start and the worker's), the wall clock is
 * checked too, and the lease's margin is a second or more.
 */
export function browserClock() {
  return { mono: performance.timeOrigin + performance.now(), wall: Date.now() };
}

/**
 * @typedef {object} GateState what a serving tab's answers depend on, as its main thread knows it
 * @property {boolean} open it serves, holds its copy's lock, and is not handing the site over
 * @property {boolean} moving the site is being handed to a standby: new requests are held
 * @property {boolean} fencing a standby could take its place: it answers only within its lease
 * @property {{mono: number, wall: number}|null} deadline its lease's (Lease.deadline)
 */

/** The answer gate at `now`: whether what the tab is about to send may leave (`mayAnswer`),
 * and whether a new request is let in (`admit`: "yes", "hold" while the site moves, or "no":
 * refused unrun with 421). @param {GateState} state */
export function answerGate(state, now) {
  const mayAnswer = state.open && (!state.fencing || before(state.deadline, now));
  return { mayAnswer, admit: state.moving ? "hold" : mayAnswer ? "yes" : "no" };
}
