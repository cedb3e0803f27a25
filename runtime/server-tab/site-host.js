// A server tab's main thread, put together: it registers the site's name over signaling, runs
// the site's Python (python-process.js), takes visitors' peer connections (visitors.js) and
// moves bytes between their HTTP channels and Python (http-channels.js). The site's files are
// kept here (site-store.js) for a worker that has no storage of its own.
//
// A tab serves the site, or stands by for it (the owner's tab, or a standby's invited with a
// standby link: its credentials). Who serves is the service's to say (signaling/leases.py):
// "registered" makes this tab serve, with a lease it renews when asked; "standby" makes it keep a
// live copy (standing-by.js) while another serves. While it serves, its standbys' copies follow
// every change (standbys.js), and nothing it answers leaves unless it may answer (`mayAnswer`):
// it serves, holds this browser's lock on the site's copy, and, if a standby could take its
// place, holds its lease (lease.js). A serving tab that loses its lease, is replaced by a
// standby, or hands the site over on purpose (`moveTo`) stands by from then on.
//
// Events (CustomEvent detail in brackets): progress {label, fraction}, loaded {ok, module,
// noApp, warning, message, traceback, filename, lineno, package} (after the boot and each
// reload), serving, role {role, reason} ("serving", "standby", "fenced", "stopped"), failed
// {message, traceback} (the runtime itself could not start), name-error {code, message,
// suggestion}, replaced, removed, joined {member, memberToken} (a standby link was used: the
// credentials to keep), signaling-lost (until "serving" again), clients {count}, request
// {method, target, status, duration_ms, client, note}, log {stream, text}, output {text} (what
// a console command prints, as it prints it), stats {memoryBytes, connections}, restarting
// {reason}, packages {installed, builtIn, problems} (what requirements.txt got, after each
// boot), standbys {members, connected} (the members the service knows, and the connected
// standbys' replication: for the owner's list), copied {epoch, seq} (a standby's copy).
//
// A request that runs past `timeLimitMs` gets a 504 and Python restarts with the site as last
// saved; others waiting get a 503, and visitors keep their peer connections.

import { fetchBytes } from "../fetch-checked.js";
import { HttpChannels } from "../http-channels.js";
import { IceServers } from "../ice.js";
import * as service from "../protocol/signaling.js";
import { SignalingSocket, socketUrl } from "../signaling-socket.js";
import {
  CLOSED,
  END,
  FAILED,
  LOG,
  OUTPUT,
  PACKAGE_TICKET,
  PROGRESS,
  READY,
  REQUESTS,
  SAVE,
  SEND,
  STATS,
  THREADS,
  toWorker,
  UNSAVED,
} from "../protocol/worker.js";
import { answerGate, browserClock, Lease } from "../lease.js";
import { PackageTickets } from "./package-tickets.js";
import { SnapshotStore } from "./python-snapshot.js";
import { PythonProcess } from "./python-process.js";
import { checkChanges, SiteStore } from "./site-store.js";
import { browserName, StandingBy } from "./standing-by.js";
import { Standbys } from "./standbys.js";
import { TestRun } from "./test-run.js";
import { Visitors } from "./visitors.js";

export const DEFAULT_TIME_LIMIT_MS = 30000;
const ANSWER_WAIT_MS = 10000; // for the service's answer to a declaration, a grant, a move
const DRAIN_WAIT_MS = 10000; // for requests in flight to finish before a move
const LEAVE_WAIT_MS = 10000; // for visitors to leave a tab the site moved from
const LEASE_LOOK_MS = 500;

export class SiteHost extends EventTarget {
  /**
   * `credentials` say who this tab is: {token} (the owner's), {member, memberToken} (a
   * standby's), or {grant} (a standby link's, used once to join); `settings` reads and keeps
   * the owner's settings that travel with the site ({read(), keep(settings)}: {timeLimitMs,
   * created}). `siteUrl` is the template a new site starts from; `address` where visitors reach
   * the site (a string, or a promise of one); `pyodidePackages` where its Python loads Pyodide's
   * own packages from (a promise of the service's answer, null: the service serves them).
   */
  constructor({
    name,
    credentials,
    settings,
    bundleUrl,
    pyodidePackages = null,
    siteUrl,
    address = "",
    timeLimitMs = DEFAULT_TIME_LIMIT_MS,
    channelsInWorker = true,
  }) {
    super();
    this.name = name;
    this.credentials = credentials;
    this.settings = settings;
    this.store = new SiteStore(name);
    this.role = "starting";
    this.epoch = null;
    this.stopped = false;
    this.lockHeld = false;
    this.moving = false; // while the site is handed to a standby (requests are held)
    this.handingOver = false; // once the service is asked to: nothing more is answered
    this.lease = new Lease();
    this.members = []; // as the service described them
    this.answers = new Map(); // a request to the service -> its awaited answer
    this.servingGate = deferred(); // resolved while this tab serves with its copy's lock
    this.storeQueue = Promise.resolve(); // changes of the site are kept one at a time
    this.saidThreads = false; // why the site's threads cannot run here, once a tab
    this.pythonOptions = {
      // The worker has an opaque origin, for which a relative URL means nothing.
      bundleUrl: new URL(bundleUrl, location.href).href,
      pyodidePackages,
      snapshots: new SnapshotStore(),
      siteMessage: async () => {
        await this.servingGate.promise; // a standby's Python waits, booted, until it serves
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
      channelsInWorker,
    });
    this.channels = new HttpChannels(
      this.python,
      (visitor) => this.visitors.label(visitor.client),
      {
        admit: () => answerGate(this.gateState(), browserClock()).admit,
        mayAnswer: () => this.mayAnswer(),
      },
      this.python, // where channels are handed over, if the browser can
    );
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
    this.holdCopy();
    this.askToKeepStorage();
    this.signaling = new SignalingSocket(socketUrl("/ws/server"));
    const { signaling } = this;
    const ice = new IceServers(signaling);
    this.ice = ice;
    this.tickets = new PackageTickets(signaling, () => this.role === "serving");
    this.visitors = new Visitors({ name: this.name, signaling, ice, channels: this.channels });
    this.standbys = new Standbys({
      signaling,
      ice,
      exclusive: (run) => this.exclusive(run),
      loadSite: () => this.store.load(),
      settings: () => this.settings.read(),
      // The worker knows this tab now answers only within its lease before the service can
      // count on the standbys declared (a standby may serve once that lease has run out).
      declare: (inSync) =>
        this.syncGate()
          .then(() => this.ask(service.toService.sync(this.epoch, inSync), service.SYNCED))
          .then(({ inSync: kept }) => kept),
    });
    this.standingBy = null;
    for (const source of [this.visitors, this.standbys]) {
      source.addEventListener("log", ({ detail }) => this.emit("log", detail));
    }
    this.visitors.addEventListener("clients", ({ detail }) => this.emit("clients", detail));
    this.standbys.addEventListener("changed", () => {
      this.syncGate();
      this.emitStandbys();
    });
    // Visitors already connected keep being served while signaling is away; the name is
    // registered again (with this tab's credentials) as soon as it is back.
    signaling.addEventListener("close", () => {
      if (this.role === "serving" && !this.stopped) this.emit("signaling-lost");
      for (const { reject } of this.answers.values()) reject(new Error("signaling was lost"));
      this.answers.clear();
    });
    signaling.addEventListener("open", () => this.register());
    signaling.addEventListener("message", (event) => this.onSignal(event.detail));
    // A tab that closes gives its lease up: a standby serves in seconds, not a whole lease later.
    this.onPageHide = (event) => {
      if (event.persisted || this.role !== "serving") return;
      const { epoch } = this;
      this.setRole("stopped");
      this.visitors.dropAll();
      signaling.send(service.toService.resign(epoch));
    };
    window.addEventListener("pagehide", this.onPageHide);
    this.leaseLook = setInterval(() => this.lookAtLease(), LEASE_LOOK_MS);
  }

  listenToPython() {
    const python = this.python;
    python.addEventListener(SEND, ({ detail }) => this.channels.send(detail.conn, detail.bytes));
    python.addEventListener(END, ({ detail }) => this.channels.end(detail.conn));
    python.addEventListener(CLOSED, ({ detail }) => this.channels.forget(detail.conn));
    python.addEventListener(READY, ({ detail }) => {
      this.bootTimings = detail.timings; // Pyodide, wheels, site: for the benchmarks
      this.emit("log", {
        stream: "server",
        text: `Site started in ${Math.round(detail.bootMs)} ms`,
      });
      this.emit("packages", detail.packages);
      this.emit("loaded", detail.load);
      if (this.role === "serving") this.emit("serving");
    });
    python.addEventListener("restarting", ({ detail }) => {
      this.channels.abortAll(detail);
      if (this.role !== "serving") return; // a standby's Python, parked: nothing to say
      this.emit("log", { stream: detail.stream, text: detail.reason });
      this.emit("restarting", { reason: detail.reason });
    });
    for (const type of [FAILED, LOG, OUTPUT, STATS, UNSAVED]) {
      python.addEventListener(type, ({ detail }) => this.emit(type, detail));
    }
    // One "request" event per line of the request log (the worker sends them a few at a time).
    python.addEventListener(REQUESTS, ({ detail }) => {
      for (const record of detail.records) this.emit("request", record);
    });
    // Said once a tab, not at every start of its Python.
    python.addEventListener(THREADS, ({ detail }) => {
      if (this.saidThreads) return;
      this.saidThreads = true;
      const text = `The site's threads cannot run here: ${detail.unavailable}.`;
      this.emit("log", { stream: "stderr", text });
    });
    // A standby's Python boots to wait for its turn: that is no news to its page.
    python.addEventListener(PROGRESS, ({ detail }) => {
      if (this.role === "serving" || this.role === "starting") this.emit("progress", detail);
    });
  }

  /** A question of the worker's: keep its changed files (if they are this site's to keep), or
   * a package ticket. */
  async answer(question) {
    if (question?.type === PACKAGE_TICKET) return this.packageTicket();
    if (question?.type !== SAVE) throw new Error("an unknown question");
    try {
      await this.keep({ changes: checkChanges(question.changes) });
    } catch (problem) {
      const error = String(problem.message ?? problem);
      this.emit("log", { stream: "stderr", text: `The site's files could not be saved: ${error}` });
      throw problem;
    }
    return undefined;
  }

  /**
   * Keep a change of the site (`changes`, and, or, the owner's `settings`): in this tab's
   * storage and in every standby's, and, before it resolves, confirmed by each standby in sync
   * (standbys.js): only then may what follows it (a response) leave.
   */
  async keep({ changes = { put: [], remove: [] }, settings }) {
    // A tab that no longer serves keeps nothing: its copy is to be replaced by the serving
    // tab's, and nothing it would answer leaves it.
    if (this.role !== "serving") throw new Error("this tab no longer serves the site");
    let seq = null;
    let failure = null;
    await this.exclusive(async () => {
      seq = this.standbys.replicate({ changes, settings });
      try {
        if (changes.put.length || changes.remove.length) await this.store.save(changes);
      } catch (problem) {
        failure = problem;
      }
    });
    // Kept by the standbys in sync, even when not here (a full quota): the site then serves
    // on from memory, and what it answers exists in two places all the same.
    await this.standbys.confirmed(seq);
    if (failure) throw failure;
  }

  /** The owner changed a setting that travels with the site: its standbys get it too. */
  settingsChanged() {
    if (this.role !== "serving") return;
    this.keep({ settings: this.settings.read() }).catch(() => {});
  }

  /** Run `run` while no other change of the site is being kept (nor a snapshot taken). */
  exclusive(run) {
    const done = this.storeQueue.then(run);
    this.storeQueue = done.catch(() => {});
    return done;
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
   * Hold this browser's lock on the site's copy while this tab has it (serving or standing by):
   * two tabs of one browser share its storage, and only the one holding the lock serves or
   * keeps a copy; the other waits for it (the service tells the first one it was replaced). A
   * page that holds a Web Lock is also not frozen in the background (Chromium's Energy Saver),
   * and a frozen tab serves nobody. Released when the tab stops, or closes.
   */
  holdCopy() {
    if (!navigator.locks) {
      this.lockHeld = true;
      return;
    }
    const waiting = setTimeout(() => {
      if (!this.lockHeld && !this.stopped) {
        const text = `Another tab of this browser has "${this.name}" open: this one waits until it closes.`;
        this.emit("log", { stream: "server", text });
      }
    }, 1000);
    navigator.locks
      .request(`peerserver-copy-${this.name}`, () => {
        clearTimeout(waiting);
        if (this.stopped) return undefined;
        this.lockHeld = true;
        this.openGate();
        if (this.role === "standby") this.followServing(this.standbyNews);
        return new Promise((release) => {
          this.releaseCopy = release;
        });
      })
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
      this.python.addEventListener(STATS, ({ detail }) => resolve(detail), { once: true });
      this.python.post(toWorker.stats());
    });
  }

  stop() {
    this.stopped = true;
    this.setRole("stopped");
    clearInterval(this.leaseLook);
    window.removeEventListener("pagehide", this.onPageHide);
    this.signaling?.close();
    this.python.stop();
    this.testRun?.stop();
    this.standbys?.stop();
    this.standingBy?.stop();
    this.store.close();
    this.visitors?.dropAll();
    this.releaseCopy?.();
    this.emit("clients", { count: 0 });
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // -- serving, and standing by -----------------------------------------------------------

  /**
   * Whether what this tab is about to send a visitor may leave: it serves, holds its copy's
   * lock, and (if a standby could take its place) still holds its lease, by its own clocks.
   */
  mayAnswer() {
    return answerGate(this.gateState(), browserClock()).mayAnswer;
  }

  /** What this tab's answers depend on now (lease.js's GateState). */
  gateState() {
    return {
      open: this.role === "serving" && this.lockHeld && !this.handingOver,
      moving: this.moving,
      fencing: Boolean(this.standbys?.fencing),
      deadline: this.lease.deadline,
    };
  }

  /** Tell the Python worker (where the visitors' HTTP channels may live: http-channels.js)
   * the gate as it is now; resolves once it has heard (or is gone). */
  syncGate() {
    return this.python.setGate(this.gateState());
  }

  setRole(role, reason = null) {
    if (role === this.role) return;
    this.role = role;
    this.syncGate();
    if (role === "serving") this.openGate();
    else if (this.servingGate.settled) this.servingGate = deferred();
    this.emit("role", { role, reason });
  }

  openGate() {
    this.syncGate();
    if (this.role === "serving" && this.lockHeld) this.servingGate.resolve();
  }

  /** (Re)register with this tab's credentials; a link's grant is used first, once. */
  async register() {
    if (this.stopped || !this.signaling.isOpen) return;
    const { token, member, memberToken, grant } = this.credentials;
    if (grant && !member) {
      this.signaling.send(service.toService.join(this.name, grant, browserName()));
      return;
    }
    const position = await this.store.position().catch(() => null);
    const n = this.lease.ask(browserClock());
    const complete = position !== null;
    const tab = { name: this.name, token, member, memberToken, n, complete };
    this.signaling.send(service.toService.register(tab));
  }

  /** The service asks for a renewal: the lease counts from when this tab asks. */
  renew() {
    if (this.role !== "serving") return;
    this.signaling.send(service.toService.renew(this.epoch, this.lease.ask(browserClock())));
  }

  /** "registered": this tab serves the site in the epoch it names (registered, or promoted). */
  async onRegistered(message) {
    if (message.n !== null) this.lease.granted(message.n, message.leaseSeconds, message.epoch);
    this.epoch = message.epoch;
    this.visitors.maxVisitors = message.maxVisitors ?? Infinity;
    this.tickets.keep(message.packagesTicket);
    this.members = message.members ?? [];
    const promoted = this.role === "standby";
    if (promoted) {
      // What already came is kept first; a copy that is not whole cannot serve.
      this.standingBy?.stop();
      await this.standingBy?.settled();
      if ((await this.store.position()) === null) {
        const why =
          "This standby's copy is not whole (it stopped in the middle of a copy): it cannot serve.";
        this.signaling.send(service.toService.resign(message.epoch));
        this.emit("name-error", { code: "incomplete", message: why });
        this.stop();
        return;
      }
      this.emit("log", {
        stream: "server",
        text: "This tab serves the site now: the tab that served it went away.",
      });
    }
    this.standbys.serveIn(message.epoch);
    this.visitors.serving = true;
    this.setRole("serving");
    if (message.n === null) this.renew(); // a promotion: its lease counts from this tab's asking
    this.emitStandbys();
    if (this.python.ready) this.emit("serving");
  }

  /** "standby": another tab serves; this one keeps a live copy of the site. */
  standBy(message) {
    if (this.role === "serving" || this.role === "fenced")
      this.stopServing("Another tab serves the site now.");
    this.setRole("standby");
    this.standbyNews = message;
    if (this.lockHeld) this.followServing(message);
  }

  /** Follow the serving tab's changes (once this tab holds its copy's lock). */
  followServing({ epoch, online }) {
    if (!this.standingBy || this.standingBy.stopped) {
      this.standingBy = new StandingBy({
        signaling: this.signaling,
        ice: this.ice,
        store: this.store,
        keepSettings: (settings) => this.settings.keep(settings),
        where: browserName(),
      });
      this.standingBy.addEventListener("log", ({ detail }) => this.emit("log", detail));
      this.standingBy.addEventListener("copied", ({ detail }) => this.emit("copied", detail));
    }
    this.standingBy.announced(epoch, online);
  }

  /**
   * This tab stops serving: its lease ends, its standbys go, and its visitors (after a planned
   * move, they are told where the site is now, and are left the time to finish and go there:
   * what they send meanwhile is refused unrun); then its Python waits, booted, to serve again.
   */
  stopServing(reason, { moved = false } = {}) {
    this.lease.end();
    this.standbys.stop();
    this.visitors.serving = false;
    this.setRole(this.stopped ? "stopped" : "fenced", reason);
    if (!moved) {
      this.park(reason);
      return;
    }
    this.channels.refuseHeld();
    this.visitors.tellMoved();
    until(() => this.visitors.byClient.size === 0, LEAVE_WAIT_MS).then(() => this.park(reason));
  }

  /** No visitor is served here any more, and Python waits for this tab's turn to serve. */
  park(reason) {
    if (this.role === "serving") return; // it serves again meanwhile
    this.visitors.dropAll();
    this.python.restart({ reason, stream: "server" });
  }

  /** A look at the lease, now and then: one that ran out stops this tab answering at once
   * (every answer is checked too, this only makes its visitors leave sooner). */
  lookAtLease() {
    this.syncGate();
    if (this.role !== "serving" || !this.standbys.fencing || this.lease.valid(browserClock()))
      return;
    this.stopServing(
      "This tab could not renew its lease with PeerServer in time, so it stopped answering: a standby may serve the site now.",
    );
    this.register();
  }

  /** A standby link (a grant from the service, for this site, usable once for minutes). */
  async standbyGrant() {
    const { grant, expires } = await this.ask(
      service.toService.standbyGrant(this.epoch),
      service.STANDBY_GRANT,
    );
    return { grant, expires: expires * 1000 };
  }

  /** Whether this is the owner's browser (which may ask for the site back: `takeOver`). */
  get isOwner() {
    return Boolean(this.credentials.token);
  }

  /** The owner's tab, standing by, asks the serving tab to move the site here (a planned
   * move: it happens once this tab's copy is in sync). */
  takeOver() {
    if (this.role === "standby" && this.isOwner) this.signaling.send(service.toService.takeOver());
  }

  /** Remove the standby `member` (its tab stops, and its link can no longer be used). */
  removeStandby(member) {
    this.standbys.dropMember(member);
    this.signaling.send(service.toService.standbyRemove(this.epoch, member));
  }

  /**
   * Hand the site to the in-sync standby `member` on purpose: requests that come meanwhile are
   * held, those in flight finish, the site's WebSockets close (1012), and the service makes
   * the standby serve; the held requests are then refused unrun (421), and their visitors'
   * shells send them to the tab that serves now. Resolves once moved; rejects (and serves on)
   * if the service refuses.
   */
  async moveTo(member) {
    if (this.role !== "serving" || this.moving)
      throw new Error("This tab does not serve the site.");
    this.moving = true;
    this.syncGate();
    try {
      await Promise.all([
        until(() => this.channels.running === 0, DRAIN_WAIT_MS),
        this.python.drained(DRAIN_WAIT_MS), // the requests on channels the worker holds
      ]);
      if (this.python.ready) await this.python.closeSockets("The site moves to another tab.");
      this.handingOver = true;
      await this.syncGate(); // nothing more leaves the worker either
      await this.ask(service.toService.handover(this.epoch, member), service.HANDED_OVER);
    } catch (error) {
      this.moving = false;
      this.handingOver = false;
      this.syncGate();
      this.channels.releaseHeld();
      throw error;
    }
    this.moving = false;
    this.handingOver = false;
    this.stopServing("The site moved to a standby; this tab stands by.", { moved: true });
    this.register();
  }

  /** Send the service `message`, and resolve to its answer of type `answer` (one request of a
   * type at a time; an error message rejects it). */
  ask(message, answer) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.answers.delete(answer);
        reject(new Error("PeerServer did not answer"));
      }, ANSWER_WAIT_MS);
      this.answers.get(answer)?.reject(new Error("asked again"));
      this.answers.set(answer, {
        resolve: (value) => {
          clearTimeout(timer);
          resolve(value);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      this.signaling.send(message);
    });
  }

  /** The answer of type `type` to the request waiting for one, if any. */
  answered(type, message) {
    const waiting = this.answers.get(type);
    this.answers.delete(type);
    waiting?.resolve(message);
    return waiting !== undefined;
  }

  emitStandbys() {
    this.emit("standbys", { members: this.members, connected: this.standbys.describe() });
  }

  // -- signaling ------------------------------------------------------------------------

  onSignal(message) {
    this.handleSignal(message);
    this.syncGate(); // a lease granted or renewed, a role given
  }

  handleSignal(message) {
    switch (message.type) {
      case service.REGISTERED:
        this.onRegistered(message);
        break;
      case service.STANDBY:
        this.standBy(message);
        break;
      case service.SERVER_STATUS: // to a standby: who serves, in which epoch
        this.standbyNews = message;
        if (this.role === "standby" && this.lockHeld) this.followServing(message);
        break;
      case service.LEASE:
        this.lease.granted(message.n, message.seconds, message.epoch);
        break;
      case service.RENEW_LEASE:
        this.renew();
        break;
      case service.SYNCED:
      case service.STANDBY_GRANT:
      case service.HANDED_OVER:
        this.answered(message.type, message);
        break;
      case service.DEMOTED:
        if (this.role === "serving" || this.role === "fenced") {
          this.stopServing("Another tab serves the site now: this one stands by.");
          this.register();
        }
        break;
      case service.MEMBERS:
        this.members = message.members ?? [];
        this.emitStandbys();
        break;
      case service.MOVE_TO: // the owner's own tab, standing by, asks for the site
        this.moveTo(message.member).then(
          () => this.emit("log", { stream: "server", text: "The site moved to its owner's tab." }),
          (error) =>
            this.emit("log", { stream: "stderr", text: `The site did not move: ${error.message}` }),
        );
        break;
      case service.JOINED:
        this.credentials = { member: message.member, memberToken: message.memberToken };
        this.emit("joined", this.credentials);
        this.register();
        break;
      case service.PACKAGE_TICKET:
        this.tickets.keep(message.ticket);
        break;
      case service.ERROR:
        if (service.MOVE_REFUSED.has(message.code)) {
          const waiting = this.answers.get(service.HANDED_OVER);
          this.answers.delete(service.HANDED_OVER);
          waiting?.reject(new Error(message.message));
        }
        // The name cannot be (or no longer is) this tab's: say why, and stop.
        if (service.NAME_LOST.has(message.code)) {
          this.emit("name-error", message);
          this.stop();
        } else {
          this.emit("log", { stream: "signaling", text: `${message.code}: ${message.message}` });
        }
        break;
      case service.REPLACED:
        this.emit("replaced");
        this.stop();
        break;
      case service.REMOVED:
        this.emit("removed");
        this.stop();
        break;
      case service.SIGNAL:
        if (message.standby) {
          this.standbys.signal(message.from, message.standby, message.data).catch((error) => {
            this.emit("log", { stream: "signaling", text: `A standby: ${error}` });
          });
        } else if (this.role === "standby" && !message.from) {
          this.standingBy?.signal(message.data);
        } else {
          this.visitors.signal(message.from, message.data).catch((error) => {
            const text = `${this.visitors.label(message.from)}: ${error}`;
            this.emit("log", { stream: "signaling", text });
          });
        }
        break;
      case service.CLIENT_LEFT:
        this.visitors.drop(message.client);
        break;
    }
  }
}

/** A promise with its resolve at hand, and whether it was called. */
function deferred() {
  const gate = { settled: false };
  gate.promise = new Promise((resolve) => {
    gate.resolve = () => {
      gate.settled = true;
      resolve();
    };
  });
  return gate;
}

/** Resolve once `condition()` holds (looked at every 50 ms), or after `ms` anyway. */
function until(condition, ms) {
  return new Promise((resolve) => {
    const started = performance.now();
    const look = () => {
      if (condition() || performance.now() - started > ms) resolve();
      else setTimeout(look, 50);
    };
    look();
  });
}
