// A server tab's main thread, put together: it registers the site's name over signaling, runs
// the site's Python (python-process.js), takes visitors' peer connections (visitors.js) and
// moves bytes between their HTTP channels and Python (http-channels.js). The site's files are
// kept here (site-store.js) for a worker that has no storage of its own.
//
// Events (CustomEvent detail in brackets): progress {label, fraction}, loaded {ok, module,
// noApp, warning, message, traceback, filename, lineno, package} (after the boot and each
// reload), serving, failed {message, traceback} (the runtime itself could not start),
// name-error {code, message, suggestion}, replaced, signaling-lost (until "serving" again),
// clients {count}, request {method, target, status, duration_ms, client, note}, log {stream, text},
// output {text} (what a console command prints, as it prints it), stats {memoryBytes,
// connections}, restarting {reason}, packages {installed, builtIn, problems} (what
// requirements.txt got, after each boot).
//
// A request that runs past `timeLimitMs` gets a 504 and Python restarts with the site as last
// saved; others waiting get a 503, and visitors keep their peer connections.

import { fetchBytes } from "../fetch-checked.js";
import { SignalingSocket, socketUrl } from "../signaling-socket.js";
import { HttpChannels } from "./http-channels.js";
import { PackageTickets } from "./package-tickets.js";
import { SnapshotStore } from "./python-snapshot.js";
import { PythonProcess } from "./python-process.js";
import { checkChanges, SiteStore } from "./site-store.js";
import { TestRun } from "./test-run.js";
import { Visitors } from "./visitors.js";

export const DEFAULT_TIME_LIMIT_MS = 30000;

export class SiteHost extends EventTarget {
  /**
   * `siteUrl` is the template a new site starts from; `address` where visitors reach the site
   * (a string, or a promise of one).
   */
  constructor({
    name,
    token,
    bundleUrl,
    siteUrl,
    address = "",
    timeLimitMs = DEFAULT_TIME_LIMIT_MS,
  }) {
    super();
    this.name = name;
    this.token = token;
    this.store = new SiteStore(name);
    this.registered = false;
    this.stopped = false;
    this.pythonOptions = {
      // The worker has an opaque origin, for which a relative URL means nothing.
      bundleUrl: new URL(bundleUrl, location.href).href,
      snapshots: new SnapshotStore(),
      siteMessage: async () => {
        const [files, siteAddress] = await Promise.all([this.store.load(), address]);
        const template = files.site.length ? null : await fetchBytes(siteUrl);
        return {
          name,
          address: siteAddress,
          files,
          template,
          packagesUrl: new URL("/api/packages", location.href).href,
        };
      },
    };
    this.python = new PythonProcess({
      ...this.pythonOptions,
      timeLimitMs,
      answer: (question) => this.answer(question),
      describeConn: (conn) => this.channels.waitingOn(conn),
    });
    this.channels = new HttpChannels(this.python, (visitor) => this.visitors.label(visitor.client));
    this.listenToPython();
  }

  get timeLimitMs() {
    return this.python.timeLimitMs;
  }

  set timeLimitMs(value) {
    this.python.timeLimitMs = value;
  }

  start() {
    this.python.start();
    this.keepAwake();
    this.askToKeepStorage();
    this.signaling = new SignalingSocket(socketUrl("/ws/server"));
    this.tickets = new PackageTickets(this.signaling, () => this.registered);
    this.visitors = new Visitors({
      name: this.name,
      signaling: this.signaling,
      channels: this.channels,
    });
    for (const type of ["clients", "log"]) {
      this.visitors.addEventListener(type, ({ detail }) => this.emit(type, detail));
    }
    // Visitors already connected keep being served while signaling is away; the name is
    // registered again (with the owner's token) as soon as it is back.
    this.signaling.addEventListener("close", () => {
      if (this.registered && !this.stopped) this.emit("signaling-lost");
      this.registered = false;
    });
    this.signaling.addEventListener("open", () => {
      this.registered = false;
      this.signaling.send({ type: "register", name: this.name, token: this.token });
    });
    this.signaling.addEventListener("message", (event) => this.onSignal(event.detail));
  }

  listenToPython() {
    const python = this.python;
    python.addEventListener("send", ({ detail }) => this.channels.send(detail.conn, detail.bytes));
    python.addEventListener("end", ({ detail }) => this.channels.end(detail.conn));
    python.addEventListener("ready", ({ detail }) => {
      this.bootTimings = detail.timings; // Pyodide, wheels, site: for the benchmarks
      this.emit("log", {
        stream: "server",
        text: `Site started in ${Math.round(detail.bootMs)} ms`,
      });
      this.emit("packages", detail.packages);
      this.emit("loaded", detail.load);
      if (this.registered) this.emit("serving");
    });
    python.addEventListener("restarting", ({ detail }) => {
      this.channels.abortAll(detail.stuckConn, detail.stuckAnswer);
      this.emit("log", { stream: detail.stream, text: detail.reason });
      this.emit("restarting", { reason: detail.reason });
    });
    for (const type of ["failed", "progress", "request", "log", "output", "stats", "unsaved"]) {
      python.addEventListener(type, ({ detail }) => this.emit(type, detail));
    }
  }

  /** A question of the worker's: keep its changed files (if they are this site's to keep), or
   * a package ticket. */
  async answer(question) {
    if (question?.type === "package-ticket") return this.packageTicket();
    if (question?.type !== "save") throw new Error("an unknown question");
    try {
      await this.store.save(checkChanges(question.changes));
    } catch (problem) {
      const error = String(problem.message ?? problem);
      this.emit("log", { stream: "stderr", text: `The site's files could not be saved: ${error}` });
      throw problem;
    }
    return undefined;
  }

  packageTicket() {
    return this.tickets.get();
  }

  /** Run a workbench operation in the worker; see PythonProcess.call. */
  call(method, ...args) {
    return this.python.call(method, ...args);
  }

  /**
   * Run a line typed into the Console (server_py.workbench.Workbench.console): a test run in a
   * Python of its own (test-run.js), anything else in the one that serves.
   */
  async console(source, answers) {
    if (!(await this.call("runs_apart", source))) return this.call("console", source, answers);
    this.testRun = new TestRun({
      python: this.pythonOptions,
      timeLimitMs: this.timeLimitMs,
      packageTicket: () => this.packageTicket(),
      onOutput: (detail) => this.emit("output", detail),
    });
    return this.testRun.run(source, answers);
  }

  /**
   * Hold a Web Lock while serving: a page that holds one is not frozen in the background
   * (Chromium's Energy Saver), and a frozen tab serves nobody. Released when the tab closes.
   */
  keepAwake() {
    navigator.locks
      ?.request(`peerserver-serving-${this.name}`, () => new Promise(() => {}))
      .catch(() => {});
  }

  /** Ask the browser to keep this origin's storage (the site's files) even when short of
   * space; emits storage {persisted}. */
  async askToKeepStorage() {
    let persisted = false;
    try {
      persisted = (await navigator.storage?.persisted()) || (await navigator.storage?.persist());
    } catch {
      persisted = false;
    }
    this.emit("storage", { persisted: Boolean(persisted) });
  }

  /** Start a fresh Python with the site as saved; resolves to its load result. */
  restart(reason) {
    const loaded = new Promise((resolve) => {
      const settle = ({ type, detail }) => {
        this.removeEventListener("loaded", settle);
        this.removeEventListener("failed", settle);
        resolve(type === "loaded" ? detail : { ok: false, message: detail.message });
      };
      this.addEventListener("loaded", settle);
      this.addEventListener("failed", settle);
    });
    this.python.restart({ reason, stream: "server", planned: true });
    return loaded;
  }

  /** Save a file and reload the app: resolves to the load result ({ok, ...} or the error). */
  async publish(path, bytes) {
    await this.call("write_file", path, bytes);
    return this.reload();
  }

  /**
   * Import the site's code afresh after its files changed; a changed requirements.txt (or a
   * Django project) needs a new Python. Resolves to the load result and emits "loaded".
   */
  async reload() {
    const load = await this.call("reload");
    if (load.restart) return this.restart(load.reason);
    this.emit("loaded", load);
    return load;
  }

  /** Memory and connections of the Python worker: resolves to {memoryBytes, connections}. */
  workerStats() {
    return new Promise((resolve) => {
      this.python.addEventListener("stats", ({ detail }) => resolve(detail), { once: true });
      this.python.post({ type: "stats" });
    });
  }

  stop() {
    this.stopped = true;
    this.signaling?.close();
    this.python.stop();
    this.testRun?.stop();
    this.store.close();
    this.visitors?.dropAll();
    this.emit("clients", { count: 0 });
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // -- signaling ------------------------------------------------------------------------

  onSignal(message) {
    switch (message.type) {
      case "registered":
        this.registered = true;
        this.visitors.maxVisitors = message.maxVisitors ?? Infinity;
        this.tickets.keep(message.packagesTicket);
        if (this.python.ready) this.emit("serving");
        break;
      case "package-ticket":
        this.tickets.keep(message.ticket);
        break;
      case "error":
        // The name cannot be (or no longer is) this tab's: say why, and stop.
        if (["taken", "invalid", "quota", "released"].includes(message.code)) {
          this.emit("name-error", message);
          this.stop();
        } else {
          this.emit("log", { stream: "signaling", text: `${message.code}: ${message.message}` });
        }
        break;
      case "replaced":
        this.emit("replaced");
        this.stop();
        break;
      case "signal":
        this.visitors.signal(message.from, message.data).catch((error) => {
          const text = `${this.visitors.label(message.from)}: ${error}`;
          this.emit("log", { stream: "signaling", text });
        });
        break;
      case "client-left":
        this.visitors.drop(message.client);
        break;
    }
  }
}
