// The protocol between a server tab (its main thread) and its Python worker, over postMessage.
// runtime/server-tab/python-process.js speaks it on one side, runtime/python-worker/ on the
// other; this module is the one place its messages are written down.
//
// Server tab -> worker:
//   boot {bundleUrl, pyodidePackages, snapshot: {key, blob}|null, makeSnapshot}: start Python
//     (with makeSnapshot, only make a snapshot and send it; such a worker is never given a
//     site); pyodidePackages: where Pyodide's own packages are loaded from (the service's
//     /api/config), or null
//   site {name, address, packagesUrl, files, template, loadApp, buildSources}: the site's
//     files (site-files.js), the template of a new site, its public address, whether to import
//     its app and build its source packages (not after they ran past the time limit)
//   open {conn, scheme, client, identity}, data {conn, bytes}, credit {conn, chunks},
//     close {conn}: an HTTP connection and its bytes; a credit lets the worker send a chunk.
//     Each connection's messages are handled in order, each connection apart from the others
//     (a request that waits holds back its own connection only)
//   call {id, method, args}: a workbench operation (server_py.worker.SiteServer.call)
//   stop {reason}: Python is about to be stopped: close the site's WebSockets (1012), answered
//     by "stopped" once their last bytes are sent
//   stats: ask for memory and connection counts
//   reply {id, value, error}: the answer to one of the worker's questions
// Worker -> server tab:
//   progress {label, fraction}; snapshot {key, blob}; python-ready {restored} (send the site)
//   ready {module, isNew, load, bootMs, timings, packages}; failed {message, traceback}
//   send {conn, bytes}; end {conn}: response bytes, and the end of a connection
//   request {method, target, status, duration_ms, client, note}: one line of the request log
//     (note: a WebSocket's state as it opens and closes)
//   log {stream, text}; output {text} (a long console command's output, as it comes)
//   unsaved {message}: what the site's code changed could not be kept (storage full); the
//     site serves from memory meanwhile. message null: kept after all
//   result {id, value, error}: the answer to a call; stats {memoryBytes, connections}
//   busy {conn, call, method, loading, building, sockets, thread}; idle: the site's code runs
//     (with `sockets`: only its WebSocket handlers, for a timer of theirs; with `thread`: a
//     thread the site started, by name), and stopped running, done or waiting (the server tab
//     holds what runs to the time limit; a wait does not count)
//   threads {unavailable}: why the site's threads cannot run in this browser (Thread.start
//     raises with that reason)
//   stopped: the answer to "stop"
//   crashed {reason, conn, call}: Python itself died
//   ask {id, question}: a question to the server tab, answered by "reply":
//     {type: "save", changes} (keep the site's changed files: site-store.js), and
//     {type: "package-ticket"} (what the package service asks of a server tab)

/**
 * Messages that expect an answer, by id, in either direction: the server tab's calls (answered
 * by "result") and the worker's questions (answered by "reply").
 */
export class Requests {
  constructor() {
    this.next = 1;
    this.pending = new Map(); // id -> {resolve, reject}
  }

  /** A new request: `send(id)` sends it; resolves to its answer's value. */
  ask(send) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      send(id);
    });
  }

  /** The answer to request `id`: {value} or {error: message}; an unknown id is ignored. */
  settle({ id, value, error }) {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (error === undefined) pending?.resolve(value);
    else pending?.reject(new Error(error));
  }

  /** Fail every request still waiting, each with the message `reason(id)` gives. */
  failAll(reason) {
    for (const [id, { reject }] of this.pending) reject(new Error(reason(id)));
    this.pending.clear();
  }
}
