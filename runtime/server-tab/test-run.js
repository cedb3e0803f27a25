// A test run typed into the server tab's Console (`pytest ...`), in a Python of its own: as at
// a terminal, where pytest is a process of its own, the tests import the site's code afresh (a
// conftest may set the environment before it imports the app), and nothing they do reaches
// the Python that serves visitors, which goes on serving meanwhile. The worker starts with the
// site as saved, from the same snapshot and packages, and ends with the run; at the time limit
// it ends instead of restarting (a hanging test stops the run, not the site).

import { FAILED, OUTPUT, PACKAGE_TICKET, READY } from "../protocol/worker.js";
import { PythonProcess } from "./python-process.js";

export class TestRun {
  /**
   * `python` holds PythonProcess's options shared with the serving Python ({bundleUrl,
   * snapshots, siteMessage}); `packageTicket()` resolves to a ticket for the package service;
   * `onOutput(detail)` hears what the run prints, as it prints it.
   */
  constructor({ python, timeLimitMs, packageTicket, onOutput }) {
    this.python = new PythonProcess({
      ...python,
      timeLimitMs,
      restarts: false,
      // A run's changes to the site's files are not kept (pytest leaves them as found, too).
      answer: (question) =>
        question?.type === PACKAGE_TICKET ? packageTicket() : Promise.resolve(),
    });
    this.python.addEventListener(OUTPUT, ({ detail }) => onOutput(detail));
  }

  /** Run the console line `source` (see SiteHost.console); resolves to its result. */
  async run(source, answers) {
    const booted = new Promise((resolve, reject) => {
      this.python.addEventListener(READY, resolve, { once: true });
      this.python.addEventListener(FAILED, ({ detail }) => reject(new Error(detail.message)), {
        once: true,
      });
    });
    this.python.start(false); // without the app: the tests import it themselves
    try {
      await booted;
      return await this.python.call("console", source, answers);
    } finally {
      this.stop();
    }
  }

  stop() {
    this.python.stop();
  }
}
