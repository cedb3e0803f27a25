// The time limit on the site's code. A script in a worker cannot be interrupted: the worker
// says when the site's code starts running and when it is done (busy/idle), and past the limit
// the server tab gives up on it (python-process.js terminates the worker and starts another).
//
// Only time the page runs counts: a frozen page (the browser froze a background tab; its
// worker stops with it) is not running the site's code, so the time it spent frozen is added
// to the deadline when it resumes, instead of a runaway request being found on waking up.

export class Watchdog {
  /**
   * `onExpired(info)` is called when what started with `busy(info)` runs past `limitMs`.
   * The clock and timer functions are the page's unless given (tests drive them by hand).
   */
  constructor({
    limitMs,
    onExpired,
    setTimer = (run, ms) => setTimeout(run, ms),
    clearTimer = (timer) => clearTimeout(timer),
    now = () => performance.now(),
  }) {
    Object.assign(this, { limitMs, onExpired, setTimer, clearTimer, now });
    this.timer = null;
    this.running = null; // {info, deadline} while the site's code runs
    this.frozenAt = null;
  }

  /** The site's code started running (`info` says what: a request, a call, an import). */
  busy(info) {
    this.idle();
    this.running = { info, deadline: this.now() + this.limitMs };
    if (this.frozenAt === null) this.arm(this.limitMs);
  }

  /** It is done. */
  idle() {
    this.disarm();
    this.running = null;
  }

  /** The page is frozen: nothing runs, and no time counts, until it resumes. */
  frozen() {
    if (this.frozenAt !== null) return;
    this.frozenAt = this.now();
    this.disarm();
  }

  resumed() {
    if (this.frozenAt === null) return;
    if (this.running) this.running.deadline += this.now() - this.frozenAt;
    this.frozenAt = null;
    if (this.running) this.arm(Math.max(0, this.running.deadline - this.now()));
  }

  arm(ms) {
    const { info } = this.running;
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.running = null;
      this.onExpired(info);
    }, ms);
  }

  disarm() {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }
}
