// The time limit on the site's code. A script in a worker cannot be interrupted: the worker
// says when the site's code starts running and when it is done (busy/idle), and past the limit
// the server tab gives up on it (python-process.js terminates the worker and starts another).

export class Watchdog {
  /**
   * `onExpired(info)` is called when what started with `busy(info)` runs past `limitMs`.
   * The timer functions are the page's unless given (tests drive them by hand).
   */
  constructor({
    limitMs,
    onExpired,
    setTimer = (run, ms) => setTimeout(run, ms),
    clearTimer = (timer) => clearTimeout(timer),
  }) {
    Object.assign(this, { limitMs, onExpired, setTimer, clearTimer });
    this.timer = null;
  }

  /** The site's code started running (`info` says what: a request, a call, an import). */
  busy(info) {
    this.idle();
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.onExpired(info);
    }, this.limitMs);
  }

  /** It is done. */
  idle() {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
  }
}
