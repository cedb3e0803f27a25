// The server tab's main-thread half: registers the name, accepts visitors' peer connections and
// moves bytes between their HTTP data channels and the Python worker. The worker has an opaque
// origin and no storage: this tab keeps the site's files for it (site-store.js) and a Python
// snapshot for its boots (python-snapshot.js).
//
// Events (CustomEvent detail in brackets): progress {label, fraction}, loaded {ok, module,
// noApp, message, traceback, filename, lineno} (after the boot and each reload), serving, failed
// {message, traceback} (the runtime itself could not start), name-error {code, message,
// suggestion}, replaced, signaling-lost (until "serving" again), clients {count}, request
// {method, target, status, duration_ms, client}, log {stream, text}, output {text} (what a
// console command such as pytest prints, as it prints it), stats {memoryBytes,
// connections}, restarting {reason}, packages {installed, builtIn, problems} (what
// requirements.txt got, after each boot).
//
// The site's code cannot be interrupted, so the worker says when it starts and ends running it
// (busy/idle). Past `timeLimitMs` the worker is terminated and a new one boots the site as it
// was last saved: the request that ran too long gets a 504, others waiting for an answer a 503,
// and visitors keep their peer connections (their browsers open new HTTP channels).

import { whenWritable } from "./channel-io.js";
import { fetchBytes } from "./fetch-checked.js";
import { concat } from "./http1.js";
import { IceServers, RemoteCandidates, trickle } from "./ice.js";
import { SendWindow } from "./receive-window.js";
import { requestTimings } from "./request-timings.js";
import { SignalingSocket, socketUrl } from "./signaling-socket.js";
import { SnapshotStore } from "./python-snapshot.js";
import { checkChanges, SiteStore } from "./site-store.js";
import { sdpIdentity } from "./visitor-identity.js";

export const DEFAULT_TIME_LIMIT_MS = 30000;
const TICKET_FRESH_MS = 30 * 60 * 1000; // tickets last an hour: ask anew after half of it
const TICKET_WAIT_MS = 60000;

export class SiteHost extends EventTarget {
  constructor({ name, token, bundleUrl, siteUrl, address = "", timeLimitMs = DEFAULT_TIME_LIMIT_MS }) {
    super();
    this.timeLimitMs = timeLimitMs;
    this.watchdog = null; // timer while the worker runs the site's code
    this.waiting = new Map(); // conn id -> request line, while a request awaits its answer
    this.name = name;
    this.token = token;
    // The worker has an opaque origin, for which a relative URL means nothing.
    this.bundleUrl = new URL(bundleUrl, location.href).href;
    this.packagesUrl = new URL("/api/packages", location.href).href;
    this.siteUrl = siteUrl; // the template a new site starts from
    this.address = address; // where visitors reach the site (a string, or a promise of one)
    this.store = new SiteStore(name);
    this.snapshots = new SnapshotStore();
    this.visitors = new Map(); // client id -> {pc, channels: Set}
    this.visitorNumbers = new Map(); // client id -> its number in the log, while connected
    this.visitorsMet = 0;
    this.channels = new Map(); // conn id -> RTCDataChannel
    this.windows = new Map(); // conn id -> SendWindow, for visitors that grant one
    this.stalled = new Set(); // conn ids held back until their visitor reads more
    this.nextConn = 1;
    this.nextCall = 1;
    this.calls = new Map(); // call id -> {resolve, reject}
    this.registered = false;
    this.ready = false;
    this.stopped = false;
  }

  start() {
    this.startWorker(true);

    this.signaling = new SignalingSocket(socketUrl("/ws/server"));
    this.ice = new IceServers(this.signaling);
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

  /**
   * Start a Python worker and boot the site in it, from the files this tab keeps for it.
   * `loadApp` false: without importing the app; `buildSources` false: without building its
   * source packages (either ran past the time limit the time before).
   */
  startWorker(loadApp, buildSources = true) {
    const worker = pythonWorker();
    this.worker = worker;
    worker.addEventListener("message", (event) => {
      if (this.worker === worker) this.onWorkerMessage(event.data);
    });
    worker.addEventListener("error", (event) => {
      const message = `The Python worker failed: ${event.message}`;
      if (this.worker !== worker) return;
      if (this.ready) this.onCrash({ reason: message });
      else this.emit("failed", { message });
    });
    this.siteSent = false;
    this.beforeSite = []; // messages for the worker, held until it has the site
    this.snapshots.load().then((snapshot) => {
      worker.postMessage({ type: "boot", bundleUrl: this.bundleUrl, snapshot });
    });
    // Read while Python starts; sent once it has (see onWorkerMessage's "python-ready").
    this.siteFiles = this.readSite().then((site) => ({ ...site, loadApp, buildSources }));
  }

  /** The site's files as this tab keeps them, and the template if it has none yet. */
  async readSite() {
    const files = await this.store.load();
    const template = files.site.length ? null : await fetchBytes(this.siteUrl);
    return { files, template };
  }

  async sendSite(worker) {
    let site;
    let address;
    try {
      [site, address] = await Promise.all([this.siteFiles, this.address]);
    } catch (error) {
      if (this.worker === worker) this.emit("failed", { message: `The site could not be read: ${error}` });
      return;
    }
    if (this.worker !== worker) return;
    const { files, template, loadApp, buildSources } = site;
    const transfer = [...files.site, ...files.state].flatMap(({ contents }) => contents?.buffer ?? []);
    if (template) transfer.push(template.buffer);
    this.siteSent = true;
    worker.postMessage({ type: "site", name: this.name, address, packagesUrl: this.packagesUrl,
      files, template, loadApp, buildSources }, transfer);
    for (const [message, moved] of this.beforeSite) worker.postMessage(message, moved);
    this.beforeSite = [];
  }

  /** Send the worker `message`, after the site if that has not gone yet. */
  toWorker(message, transfer = []) {
    if (this.siteSent) this.worker.postMessage(message, transfer);
    else this.beforeSite.push([message, transfer]);
  }

  /**
   * Have a worker of its own make a Python snapshot for the boots to come, this once: a worker
   * that is given no site, so that no site's code can have run in the Python it snapshots (see
   * python-snapshot.js). It starts a while after this site is served, not to slow its start.
   */
  makeSnapshotLater(delayMs = 3000) {
    if (this.snapshotMaker !== undefined) return;
    this.snapshotMaker = null;
    setTimeout(() => {
      if (this.stopped) return;
      const maker = pythonWorker();
      this.snapshotMaker = maker;
      const done = () => {
        maker.terminate();
        clearTimeout(giveUp);
      };
      const giveUp = setTimeout(done, 120000);
      maker.addEventListener("error", done);
      maker.addEventListener("message", ({ data }) => {
        if (data.type !== "snapshot") return;
        done();
        if (typeof data.key === "string" && data.blob instanceof Blob) {
          this.snapshots.save(data).catch((error) => this.emit("log", { stream: "stderr",
            text: `The Python snapshot could not be kept (${error}): the next start is slower.` }));
        }
      });
      maker.postMessage({ type: "boot", bundleUrl: this.bundleUrl, makeSnapshot: true });
    }, delayMs);
  }

  /**
   * Answer the worker's question: "save" (keep its changed files, if they are this site's to
   * save) or "package-ticket" (what the package service asks of a server tab).
   */
  async answer(worker, { id, question }) {
    let value;
    let error;
    try {
      if (question?.type === "save") await this.store.save(checkChanges(question.changes));
      else if (question?.type === "package-ticket") value = await this.packageTicket();
      else throw new Error("an unknown question");
    } catch (problem) {
      error = String(problem.message ?? problem);
      if (question?.type === "save") {
        this.emit("log", { stream: "stderr", text: `The site's files could not be saved: ${error}` });
      }
    }
    worker.postMessage({ type: "reply", id, value, error });
  }

  /**
   * A package ticket for this tab's name, fresh enough: the hub gives one at registration and
   * on request (signaling/tickets.py). Waits for the name to be registered.
   */
  packageTicket() {
    if (this.ticket && Date.now() - this.ticket.received < TICKET_FRESH_MS) {
      return Promise.resolve(this.ticket.value);
    }
    this.ticketWanted ??= new Promise((resolve, reject) => {
      const giveUp = setTimeout(() => {
        this.ticketWanted = null;
        reject(new Error("the signaling service did not answer, so the package service cannot be asked"));
      }, TICKET_WAIT_MS);
      this.ticketArrived = (value) => {
        clearTimeout(giveUp);
        this.ticketWanted = null;
        resolve(value);
      };
      if (this.registered) this.signaling.send({ type: "package-ticket" });
    });
    return this.ticketWanted;
  }

  keepTicket(value) {
    if (typeof value !== "string") return;
    this.ticket = { value, received: Date.now() };
    this.ticketArrived?.(value);
    this.ticketArrived = null;
  }

  /** The worker ran the site's code past the time limit: answer for it and start afresh. */
  onTimeLimit(busy) {
    const seconds = this.timeLimitMs / 1000;
    const importing = busy.loading || busy.method === "reload";
    let what;
    if (importing) what = "Importing the site's app";
    else if (busy.building) what = `Building ${busy.building} from source`;
    else if (busy.call !== undefined) what = `The workbench's ${busy.method}`;
    else what = this.waiting.get(busy.conn) ?? "Sending a response";
    this.restartWorker({
      reason: `${what} ran longer than ${seconds} s: stopped, restarting Python with the site as last saved.`,
      stuckConn: busy.conn,
      stuckAnswer: (requestLine) => errorResponse(504, "Gateway Timeout",
        `${requestLine} ran longer than ${seconds} s and was stopped.`),
      stuckCall: busy.call,
      stuckError: `Stopped: it ran longer than ${seconds} s. Python restarted with the site as last saved.`,
      // An import (or a build) that never finishes would stop the next start too: boot
      // without the app (or without building) then.
      loadApp: !importing,
      buildSources: !busy.building,
    });
  }

  /** Python itself died (not the site's exception): start afresh with the site as saved. */
  onCrash({ reason, conn, call }) {
    this.restartWorker({
      reason: `Python crashed (${reason}): restarting it with the site as last saved.`,
      stuckConn: conn,
      stuckAnswer: (requestLine) => errorResponse(502, "Bad Gateway",
        `${requestLine} crashed the site's Python, which is restarting. Try again in a few seconds.`),
      stuckCall: call,
      stuckError: "Python crashed while doing this; it restarted with the site as last saved.",
    });
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
    this.restartWorker({ reason, stream: "server" });
    return loaded;
  }

  /**
   * Terminate the worker and boot a new one. Requests waiting for an answer get a 503 (the
   * stuck one, if any, `stuckAnswer`), pending calls fail, and visitors keep their peer
   * connections (their browsers open new HTTP channels).
   */
  restartWorker({ reason, stream = "stderr", stuckConn, stuckAnswer, stuckCall, stuckError,
    loadApp = true, buildSources = true }) {
    if (this.stopped) return;
    this.worker.terminate();
    this.ready = false;
    clearTimeout(this.watchdog);
    this.watchdog = null;
    for (const [conn, channel] of this.channels) {
      const requestLine = this.waiting.get(conn);
      if (requestLine !== undefined && channel.readyState === "open") {
        channel.send(conn === stuckConn ? stuckAnswer(requestLine)
          : errorResponse(503, "Service Unavailable", "The server is restarting. Try again in a few seconds.",
            "Retry-After: 5\r\n"));
      }
      channel.close();
    }
    this.channels.clear();
    this.waiting.clear();
    this.windows.clear();
    this.stalled.clear();
    for (const [id, pending] of this.calls) {
      pending.reject(new Error(id === stuckCall ? stuckError : "Python restarted; try again."));
    }
    this.calls.clear();
    this.emit("log", { stream, text: reason });
    this.emit("restarting", { reason });
    this.startWorker(loadApp, buildSources);
  }

  /**
   * Run a workbench operation in the worker (see server_py.worker.SiteServer.call). Resolves
   * to its value; rejects with an Error whose message is meant for the site's owner.
   */
  call(method, ...args) {
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, { resolve, reject });
      this.toWorker({ type: "call", id, method, args });
    });
  }

  /** Save a file and reload the app: resolves to the load result ({ok, ...} or the error). */
  async publish(path, bytes) {
    await this.call("write_file", path, bytes);
    return this.reload();
  }

  /**
   * Import the site's code afresh after its files changed; a changed requirements.txt needs a
   * new Python. Resolves to the load result and emits "loaded".
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
      this.addEventListener("stats", ({ detail }) => resolve(detail), { once: true });
      this.toWorker({ type: "stats" });
    });
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.watchdog);
    this.signaling?.close();
    this.worker?.terminate();
    this.snapshotMaker?.terminate();
    this.store.close();
    for (const visitor of this.visitors.values()) visitor.pc?.close();
    this.visitors.clear();
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
        this.maxVisitors = message.maxVisitors ?? Infinity;
        this.keepTicket(message.packagesTicket);
        if (this.ready) this.emit("serving");
        break;
      case "error":
        if (message.code === "taken" || message.code === "invalid") {
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
      case "package-ticket":
        this.keepTicket(message.ticket);
        break;
      case "signal":
        this.onVisitorSignal(message.from, message.data).catch((error) => {
          const text = `${this.visitorLabel(message.from)}: ${error}`;
          this.emit("log", { stream: "signaling", text });
        });
        break;
      case "client-left":
        this.dropVisitor(message.client);
        break;
    }
  }

  async onVisitorSignal(client, data) {
    if (!data || typeof data !== "object") return;
    if (!data.sdp) {
      const visitor = this.visitors.get(client);
      if (!visitor || !("candidate" in data)) return;
      if (visitor.candidates) visitor.candidates.add(data.candidate);
      else visitor.pending.push(data.candidate); // the peer connection is being made
      return;
    }
    if (data.sdp.type !== "offer") return;
    this.dropVisitor(client); // a visitor that reconnects starts over
    if (this.visitors.size >= this.maxVisitors) {
      const many = `${this.maxVisitors} visitor${this.maxVisitors === 1 ? "" : "s"}`;
      const busy = `The site is busy: it serves ${many} at once. Try again in a while.`;
      this.signaling.send({ type: "signal", to: client, data: { busy } });
      this.emit("log", { stream: "signaling", text: `A visitor was turned away: ${busy}` });
      return;
    }
    // The visitor's DTLS certificate, which the peer connection will prove it holds.
    const identity = sdpIdentity(data.sdp.sdp);
    // Set before the first await, so that the candidates that follow the offer find it.
    const visitor = { pc: null, channels: new Set(), candidates: null, pending: [], identity,
      connsByChannel: new Map() };
    this.visitors.set(client, visitor);
    const configuration = await this.ice.configuration();
    if (this.visitors.get(client) !== visitor) return; // it left, or started over, meanwhile
    const pc = new RTCPeerConnection(configuration);
    visitor.pc = pc;
    const candidates = new RemoteCandidates(pc, (error) => this.emit("log", {
      stream: "signaling", text: `${this.visitorLabel(client)}: ${error.message ?? error}` }));
    for (const candidate of visitor.pending) candidates.add(candidate);
    visitor.candidates = candidates;
    const errors = trickle(pc, (candidate) => {
      if (this.visitors.get(client) !== visitor) return;
      this.signaling.send({ type: "signal", to: client, data: candidate });
    });
    pc.addEventListener("connectionstatechange", () => {
      if (pc.connectionState === "failed" && errors.length) {
        this.emit("log", { stream: "signaling",
          text: `${this.visitorLabel(client)}: no connection: ${errors.join("; ")}` });
      }
      if (["failed", "closed"].includes(pc.connectionState)) this.dropVisitor(client);
      this.countClients();
    });
    pc.addEventListener("datachannel", ({ channel }) => this.acceptChannel(client, visitor, channel));
    await pc.setRemoteDescription(data.sdp);
    candidates.flush();
    await pc.setLocalDescription(await pc.createAnswer());
    this.signaling.send({ type: "signal", to: client, data: { sdp: pc.localDescription.toJSON() } });
  }

  /** "visitor 3": visitors numbered in the order this tab met them, for the log. */
  visitorLabel(client) {
    if (!this.visitorNumbers.has(client)) this.visitorNumbers.set(client, ++this.visitorsMet);
    return `visitor ${this.visitorNumbers.get(client)}`;
  }

  dropVisitor(client) {
    const visitor = this.visitors.get(client);
    if (!visitor) return;
    this.visitors.delete(client);
    this.visitorNumbers.delete(client);
    for (const channel of visitor.channels) channel.close();
    visitor.pc?.close();
    this.countClients();
  }

  countClients() {
    let count = 0;
    for (const { pc } of this.visitors.values()) if (pc?.connectionState === "connected") count++;
    if (count !== this.clientCount) {
      this.clientCount = count;
      this.emit("clients", { count });
    }
  }

  // -- data channels ----------------------------------------------------------------------

  acceptChannel(client, visitor, channel) {
    channel.binaryType = "arraybuffer";
    visitor.channels.add(channel);
    if (channel.label === "control") {
      const hello = () => channel.send(JSON.stringify({ type: "hello", name: this.name }));
      if (channel.readyState === "open") hello();
      else channel.addEventListener("open", hello, { once: true });
      channel.addEventListener("message", (event) => this.onControl(visitor, event.data));
      return;
    }
    if (channel.label !== "http") {
      channel.close();
      return;
    }
    const conn = this.nextConn++;
    this.channels.set(conn, channel);
    // "https; httponly=server": the visitor's scheme, and that it leaves its HttpOnly cookies
    // to this tab (a browser visitor does; a tunnel's clients keep their own).
    const [scheme, ...parameters] = channel.protocol.split(";").map((part) => part.trim());
    const identity = parameters.includes("httponly=server") ? visitor.identity : "";
    if (parameters.includes("window")) {
      this.windows.set(conn, new SendWindow());
      visitor.connsByChannel.set(channel.id, conn);
    }
    this.toWorker({ type: "open", conn, scheme: scheme === "https" ? "https" : "http",
      client: this.visitorLabel(client), identity });
    channel.addEventListener("message", (event) => {
      if (!(event.data instanceof ArrayBuffer)) return; // HTTP is bytes; text has no place here
      if (!this.waiting.has(conn)) {
        const line = requestLine(event.data);
        this.waiting.set(conn, line);
        requestTimings.mark(line.split(" ")[1], "server-tab");
      }
      this.toWorker({ type: "data", conn, bytes: new Uint8Array(event.data) }, [event.data]);
    });
    channel.addEventListener("close", () => {
      visitor.channels.delete(channel);
      visitor.connsByChannel.delete(channel.id);
      this.waiting.delete(conn);
      this.windows.delete(conn);
      this.stalled.delete(conn);
      if (this.channels.delete(conn)) this.toWorker({ type: "close", conn });
    });
  }

  /** A message on a visitor's control channel: so far, a wider window ({type: "window"}). */
  onControl(visitor, text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch {
      return; // not ours to understand
    }
    if (message?.type !== "window") return;
    const conn = visitor.connsByChannel.get(message.channel);
    const window = this.windows.get(conn);
    if (window?.grant(message.bytes) && window.open && this.stalled.delete(conn)) this.credit(conn);
  }

  /** Let the worker produce the next chunk for `conn`, unless the visitor's window is shut. */
  credit(conn) {
    if (!this.channels.has(conn)) return;
    const window = this.windows.get(conn);
    if (window && !window.open) {
      this.stalled.add(conn); // until the visitor has read more
      return;
    }
    this.toWorker({ type: "credit", conn, chunks: 1 });
  }

  // -- the worker -------------------------------------------------------------------------

  onWorkerMessage(message) {
    switch (message.type) {
      case "busy":
        this.watchdog = setTimeout(() => this.onTimeLimit(message), this.timeLimitMs);
        break;
      case "idle":
        clearTimeout(this.watchdog);
        this.watchdog = null;
        break;
      case "send": {
        const line = this.waiting.get(message.conn);
        if (line !== undefined) requestTimings.mark(line.split(" ")[1], "server-tab-head");
        this.waiting.delete(message.conn);
        const channel = this.channels.get(message.conn);
        if (!channel || channel.readyState !== "open") return;
        channel.send(message.bytes);
        this.windows.get(message.conn)?.spend(message.bytes.length);
        whenWritable(channel).then(() => this.credit(message.conn));
        break;
      }
      case "end": {
        const channel = this.channels.get(message.conn);
        this.channels.delete(message.conn);
        this.waiting.delete(message.conn);
        channel?.close();
        break;
      }
      case "ready":
        this.ready = true;
        this.isNew = message.isNew;
        this.bootTimings = message.timings; // Pyodide, wheels, site: for the benchmarks
        this.emit("log", { stream: "server", text: `Site started in ${Math.round(message.bootMs)} ms` });
        this.emit("packages", message.packages);
        this.emit("loaded", message.load);
        if (this.registered) this.emit("serving");
        break;
      case "result": {
        const pending = this.calls.get(message.id);
        this.calls.delete(message.id);
        if (message.error !== undefined) pending?.reject(new Error(message.error));
        else pending?.resolve(message.value);
        break;
      }
      case "failed":
        this.emit("failed", message);
        break;
      case "crashed":
        this.onCrash(message);
        break;
      case "ask":
        this.answer(this.worker, message);
        break;
      case "python-ready":
        this.sendSite(this.worker);
        if (!message.restored) this.makeSnapshotLater();
        break;
      case "progress":
      case "request":
      case "log":
      case "output":
      case "stats":
        this.emit(message.type, message);
        break;
    }
  }
}

/**
 * A Python worker (python-worker.js) started from a data: URL, which gives it an opaque origin
 * of its own: the site's code (perhaps an imported stranger's zip) cannot open this origin's
 * IndexedDB, where the owner's other sites live, nor reach the owner tokens in its localStorage.
 * It only has its messages to this tab, and what it asks of it is checked (see site-store.js).
 */
function pythonWorker() {
  const script = new URL("./python-worker.js", import.meta.url).href;
  return new Worker(`data:text/javascript,${encodeURIComponent(`import ${JSON.stringify(script)};`)}`,
    { type: "module" });
}

/** "GET /path", from the first bytes of a request, for the log and error pages. */
function requestLine(buffer) {
  const head = new TextDecoder().decode(new Uint8Array(buffer, 0, Math.min(buffer.byteLength, 512)));
  return head.split("\r\n", 1)[0].split(" ").slice(0, 2).join(" ");
}

/** A complete HTTP/1.1 error response that closes the connection. */
function errorResponse(status, reason, text, extraHeaders = "") {
  const body = new TextEncoder().encode(`<!doctype html><title>${status} ${reason}</title>` +
    `<h1>${reason}</h1><p>${escapeHtml(text)}</p>`);
  const head = new TextEncoder().encode(`HTTP/1.1 ${status} ${reason}\r\n` +
    `Content-Type: text/html; charset=utf-8\r\nContent-Length: ${body.length}\r\n` +
    `Connection: close\r\n${extraHeaders}\r\n`);
  return concat(head, body);
}

function escapeHtml(text) {
  return text.replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
