// When each request passed each layer, for the benchmarks' waterfall (bench/run.py reads them
// through `peerserverRequestTimings`): the last few hundred marks, in a ring, by request target.
// The clock is the machine's, the same in every page and worker: timeOrigin + now().

const SIZE = 1024;

export function now() {
  return performance.timeOrigin + performance.now();
}

export class RequestTimings {
  constructor(size = SIZE) {
    this.ring = new Array(size);
    this.next = 0;
  }

  /** Note that the request for `target` reached `stage` at `at` (by default, now). */
  mark(target, stage, at = now()) {
    this.ring[this.next++ % this.ring.length] = [target, stage, at];
  }

  /** The marks kept, oldest first: [target, stage, at]. */
  entries() {
    const start = Math.max(0, this.next - this.ring.length);
    const marks = [];
    for (let i = start; i < this.next; i++) marks.push(this.ring[i % this.ring.length]);
    return marks;
  }
}

globalThis.peerserverRequestTimings ??= new RequestTimings();
export const requestTimings = globalThis.peerserverRequestTimings;
