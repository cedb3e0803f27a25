// The server tab: boots the site in a Python worker, registers its name, and is the owner's
// workbench: files, editor (saving publishes), database, console, request log, export/import.

import { DEFAULT_TIME_LIMIT_MS, SiteHost } from "/runtime/site-host.js";
import { ownerToken } from "/web/owner-token.js";
import { offerNewerRelease } from "/web/workbench/old-pins.js";
import { hasTraceback, renderTraceback } from "/web/workbench/traceback.js";

const name = decodeURIComponent(location.pathname.replace(/^\/server\/?/, "").replace(/\/$/, ""));
const template = new URLSearchParams(location.search).get("template") || "empty";
const $ = (id) => document.getElementById(id);
const encoder = new TextEncoder();

const SITE_ROOT = `/peerserver/${name}/`; // where the site's files are, in its Python
$("server-name").textContent = name;
document.title = `${name} · PeerServer`;

// -- what the owner sees happen ------------------------------------------------------------

// The log keeps the latest lines only: a busy site would otherwise grow the page without end
// and slow down the main thread that carries every visitor's bytes. For the same reason lines
// are shown a few at a time: one change to the page and one scroll for all the lines of a
// moment, instead of a layout for each request (measured: 2 ms of this thread per request).
const LOG_LINES = 500;
const LOG_DELAY_MS = 50;
const logLines = [];
let logTimer = null;

function addLog(kind, text) {
  logLines.push([kind, text]);
  if (logLines.length > LOG_LINES) logLines.shift();
  logTimer ??= setTimeout(showLogLines, LOG_DELAY_MS);
}

function showLogLines() {
  logTimer = null;
  const panel = $("log-panel");
  const log = $("log");
  // Follow the newest line, unless the owner has scrolled up to read older ones.
  const following = panel.scrollHeight - panel.scrollTop - panel.clientHeight < 8;
  log.append(...logLines.map(([kind, text]) => {
    const item = document.createElement("li");
    item.className = `log-${kind}`;
    if (hasTraceback(text)) item.append(renderTraceback(text, SITE_ROOT));
    else item.textContent = text;
    return item;
  }));
  logLines.length = 0;
  while (log.childElementCount > LOG_LINES) log.firstElementChild.remove();
  if (following) panel.scrollTop = panel.scrollHeight;
}

function showProblem(title, lines = [], suggestion = null) {
  $("boot").hidden = true;
  const problem = $("problem");
  problem.hidden = false;
  problem.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = title;
  problem.append(heading);
  for (const line of lines.filter(Boolean)) {
    if (line.includes("\n")) {
      problem.append(renderTraceback(line, SITE_ROOT));
      continue;
    }
    const block = document.createElement("p");
    block.textContent = line;
    problem.append(block);
  }
  if (suggestion) {
    const offer = document.createElement("p");
    const link = document.createElement("a");
    link.href = `/server/${encodeURIComponent(suggestion)}?template=${encodeURIComponent(template)}`;
    link.textContent = suggestion;
    offer.append("Would you like to try ", link, " instead?");
    problem.append(offer);
  }
}

function showLoadResult(load) {
  const box = $("load-error");
  state.load = load;
  showStatus();
  // Only what really serves the site: after a failed load, the app loaded before, if any.
  let app = load.module ?? null;
  if (load.ok) app ??= "none (static files)";
  else app = app ? `${app}, as loaded before (the new code failed)` : "none (the code failed to load)";
  $("app-module").textContent = `App: ${app}`;
  if (load.ok && !load.noApp && !load.warning) {
    box.hidden = true;
    return;
  }
  box.hidden = false;
  box.replaceChildren();
  const summary = document.createElement("p");
  if (load.ok) {
    summary.textContent = load.noApp ? `${load.noApp} Only the site's files are served.` : load.warning;
    box.append(summary);
    return;
  }
  const line = load.lineno ? `, line ${load.lineno}` : "";
  const where = load.filename ? `${load.filename}${line}: ` : "";
  summary.textContent = `The site's code failed to load. ${where}${load.message}`;
  box.append(summary);
  if (load.traceback) box.append(renderTraceback(load.traceback, SITE_ROOT));
}

// What the top bar's status says: whether the name is served, and whether what serves it is
// the site's current code (a site whose code failed to load is not simply "Serving").
const state = { serving: false, reconnecting: false, load: null, label: "Starting…" };

function showStatus(label = null) {
  if (label !== null) state.label = label;
  let text = state.label;
  if (state.serving) {
    text = state.reconnecting ? "Serving · reconnecting to PeerServer…" : "Serving";
    if (state.load && !state.load.ok) {
      text = state.load.module ? "Serving the previous version: the new code failed to load"
        : "Not serving the app: its code failed to load";
    }
  }
  $("status").textContent = text;
  $("status").classList.toggle("status-bad", Boolean(state.serving && state.load && !state.load.ok));
}

/** What requirements.txt asked for and the server tab could not install, by name. */
function showPackageProblems({ problems }) {
  const box = $("packages-problem");
  box.hidden = problems.length === 0;
  box.replaceChildren();
  if (!problems.length) return;
  const summary = document.createElement("p");
  summary.textContent = "Not installed from requirements.txt:";
  const list = document.createElement("ul");
  for (const { requirement, reason } of problems) {
    const item = document.createElement("li");
    const what = document.createElement("strong");
    what.textContent = requirement;
    item.append(what, `: ${reason}`);
    list.append(item);
  }
  box.append(summary, list);
}

/** "1 week, 2 days, 3 hours, 4 minutes", as the original counted a server's age. */
function formatAge(ms) {
  let minutes = Math.floor(ms / 60000);
  const parts = [];
  for (const [unit, size] of [["week", 10080], ["day", 1440], ["hour", 60], ["minute", 1]]) {
    const count = Math.floor(minutes / size);
    minutes -= count * size;
    if (count) parts.push(`${count} ${unit}${count > 1 ? "s" : ""}`);
  }
  return parts.join(", ") || "0 minutes";
}

function startAgeClock() {
  if ($("age").dataset.running) return;
  $("age").dataset.running = "yes";
  const key = `peerserver.created.${name}`;
  const created = Number(localStorage.getItem(key)) || Date.now();
  localStorage.setItem(key, String(created));
  const show = () => { $("age").textContent = `Age: ${formatAge(Date.now() - created)}`; };
  show();
  setInterval(show, 30000);
}

// -- the workbench ---------------------------------------------------------------------------

/**
 * The workbench, once its modules are in: they (the editor's CodeMirror above all) load while
 * Python starts, not before.
 */
async function loadWorkbench(host) {
  const [{ Console }, { DatabaseView }, { Editor }, { FileTree }] = await Promise.all([
    import("/web/workbench/console.js"), import("/web/workbench/database.js"),
    import("/web/workbench/editor.js"), import("/web/workbench/files.js"),
  ]);
  return setUpWorkbench(host, { Console, DatabaseView, Editor, FileTree });
}

function setUpWorkbench(host, { Console, DatabaseView, Editor, FileTree }) {
  let current = null; // the file open in the editor
  let dirty = false;
  const editor = new Editor($("editor"), {
    onSave: () => save(),
    onChange: () => {
      dirty = true;
      $("save-state").textContent = "Unsaved changes";
    },
  });
  const files = new FileTree({
    list: $("file-tree"),
    host,
    onOpen: (file) => open(file),
    onChanged: async () => {
      await host.reload();
      await database.refresh();
    },
    onError: (text) => showProblem("That did not work", [text]),
  });
  const database = new DatabaseView({
    host, select: $("database-file"), tables: $("tables"), tableView: $("table-view"),
    form: $("sql-form"), sql: $("sql"), result: $("sql-result"),
  });
  new Console({
    host, form: $("console-form"), input: $("console-input"), output: $("console-output"),
    siteRoot: SITE_ROOT,
    onRan: async () => {
      await files.refresh();
      await database.refresh();
    },
  });

  async function open(file) {
    if (dirty && !confirm(`Discard your unsaved changes to ${current.path}?`)) return;
    const bytes = await host.call("read_file", file.path);
    current = file;
    dirty = false;
    $("open-file").textContent = file.path;
    $("save-state").textContent = "";
    for (const item of document.querySelectorAll("#file-tree li.file")) {
      item.classList.toggle("selected", item.dataset.path === file.path);
    }
    const text = file.kind === "image" ? null : decodeText(bytes);
    $("editor").hidden = text === null;
    $("preview").hidden = text !== null;
    $("save").disabled = text === null;
    if (text !== null) {
      editor.open(text, file.kind);
      return;
    }
    $("preview").replaceChildren();
    if (file.kind === "image") {
      const image = document.createElement("img");
      image.alt = file.path;
      image.src = URL.createObjectURL(new Blob([bytes], { type: imageType(file.path) }));
      $("preview").append(image);
    } else {
      $("preview").append(`${file.path} is a binary file of ${bytes.length} bytes.`);
    }
  }

  async function save() {
    if (!current || $("save").disabled) return;
    $("save-state").textContent = "Saving…";
    try {
      const load = await host.publish(current.path, encoder.encode(editor.text));
      dirty = false;
      $("save-state").textContent = load.ok
        ? "Saved: the site is live with this version."
        : "Saved, but the site's code has an error: the previous version stays live.";
    } catch (error) {
      $("save-state").textContent = error.message;
    }
    await files.refresh();
  }

  // FLASK_APP picks the app, as it does for `flask run`. It is changed where it is set (.env
  // wins over .flaskenv), else written to .flaskenv.
  $("choose-app").addEventListener("click", async () => {
    const choice = prompt("The app to serve, as FLASK_APP takes it (e.g. app.py, flaskr, " +
      "flaskr:create_app()). Empty: find it by itself.");
    if (choice === null) return;
    const setting = /^\s*(export\s+)?FLASK_APP\s*=/;
    const readLines = async (path) => {
      try {
        return new TextDecoder().decode(await host.call("read_file", path)).split("\n");
      } catch {
        return []; // no such file yet
      }
    };
    const env = await readLines(".env");
    const [path, lines] = env.some((line) => setting.test(line))
      ? [".env", env] : [".flaskenv", await readLines(".flaskenv")];
    const kept = lines.filter((line) => line.trim() && !setting.test(line));
    if (choice.trim()) kept.push(`FLASK_APP=${choice.trim()}`);
    await host.publish(path, encoder.encode(kept.join("\n") + "\n"));
    await files.refresh();
  });

  $("save").addEventListener("click", save);
  $("new-file").addEventListener("click", () => files.create());
  $("upload-files").addEventListener("change", async (event) => {
    await files.upload([...event.target.files].map((file) => [file.name, file]));
    event.target.value = "";
  });
  $("upload-folder").addEventListener("change", async (event) => {
    await files.upload([...event.target.files].map((file) => [file.webkitRelativePath, file]));
    event.target.value = "";
  });
  files.acceptDrops(document.querySelector(".sidebar"));
  window.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && event.key === "s") {
      event.preventDefault();
      save();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (dirty) event.preventDefault();
  });

  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", async () => {
      for (const other of document.querySelectorAll("[role=tab]")) {
        other.setAttribute("aria-selected", String(other === tab));
        $(other.getAttribute("aria-controls")).hidden = other !== tab;
      }
      if (tab.id === "tab-database") await database.refresh();
    });
  }

  $("export-site").addEventListener("click", async () => {
    const bytes = await host.call("export_zip");
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([bytes], { type: "application/zip" }));
    link.download = `${name}.zip`;
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  });
  $("import-site").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (!file || !confirm(`Replace the whole site "${name}" with ${file.name}?`)) return;
    try {
      await host.call("import_zip", new Uint8Array(await file.arrayBuffer()), file.name);
    } catch (error) {
      showProblem("The import did not work", [error.message, "The site was not changed."]);
      return;
    }
    $("problem").hidden = true;
    current = null;
    dirty = false;
    $("open-file").textContent = "No file open";
    editor.open("", "other");
    await host.reload();
    addLog("server", `Imported ${file.name}.`);
    await files.refresh();
    await database.refresh();
  });

  return { files, database };
}

function decodeText(bytes) {
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    return text.includes("\0") ? null : text;
  } catch {
    return null;
  }
}

function imageType(path) {
  const suffix = path.split(".").pop().toLowerCase();
  return { svg: "image/svg+xml", jpg: "image/jpeg", ico: "image/x-icon" }[suffix] || `image/${suffix}`;
}

/** The request time limit, in seconds, kept per site in this browser. */
function setUpTimeLimit(host) {
  const key = `peerserver.timeLimit.${name}`;
  const input = $("time-limit");
  const seconds = Number(localStorage.getItem(key)) || DEFAULT_TIME_LIMIT_MS / 1000;
  input.value = String(seconds);
  host.timeLimitMs = seconds * 1000;
  input.addEventListener("change", () => {
    const chosen = Math.round(Number(input.value));
    if (!(chosen >= 1 && chosen <= 3600)) {
      input.value = String(host.timeLimitMs / 1000);
      return;
    }
    host.timeLimitMs = chosen * 1000;
    localStorage.setItem(key, String(chosen));
  });
}

/** The package service's nearest release of `name` after `version` for this Python. */
async function askUpgrade(host, name, version) {
  const ticket = await host.packageTicket();
  const query = new URLSearchParams({ name, version });
  const response = await fetch(`/api/packages/upgrade?${query}`, {
    headers: { Authorization: `Bearer ${ticket}` } });
  if (!response.ok) throw new Error(`the package service answered ${response.status}`);
  return response.json();
}

// -- start -----------------------------------------------------------------------------------

async function main() {
  const config = fetch("/api/config").then((response) => response.json());
  const address = config.then(({ siteUrl }) => siteUrl.replace("{name}", name));
  const host = new SiteHost({
    name,
    token: ownerToken(name),
    bundleUrl: "/bundle/",
    siteUrl: `/templates/${encodeURIComponent(template)}.zip`,
    address,
  });
  const workbench = loadWorkbench(host);
  setUpTimeLimit(host);
  host.addEventListener("progress", ({ detail }) => {
    $("boot-label").textContent = `${detail.label}…`;
    $("boot-progress").value = detail.fraction;
    state.serving = false;
    showStatus(`${detail.label}…`);
  });
  host.addEventListener("loaded", ({ detail }) => {
    showLoadResult(detail);
    offerNewerRelease({ host, box: $("pin-offer"), load: detail,
      askUpgrade: (package_, version) => askUpgrade(host, package_, version) }).catch((error) => {
      addLog("stderr", `Could not look for a newer release of ${detail.package?.name}: ${error.message}`);
    });
  });
  host.addEventListener("packages", ({ detail }) => showPackageProblems(detail));
  host.addEventListener("serving", async () => {
    performance.mark("peerserver:serving");
    $("boot").hidden = true;
    Object.assign(state, { serving: true, reconnecting: false });
    showStatus();
    $("open-browser").href = await address;
    $("open-browser").hidden = false;
    $("site-address").textContent = await address;
    $("site-address").hidden = false;
    $("export-site").disabled = false;
    $("import-site").disabled = false;
    startAgeClock();
    await (await workbench).files.refresh();
  });
  host.addEventListener("clients", ({ detail }) => {
    $("connected").textContent = `Connected: ${detail.count}`;
  });
  host.addEventListener("name-error", ({ detail }) => {
    state.serving = false;
    showStatus("Not serving");
    showProblem(":(", [detail.message], detail.suggestion);
  });
  host.addEventListener("replaced", () => {
    state.serving = false;
    showStatus("Not serving");
    showProblem("This site is now served by another tab", [
      `Another tab of this browser registered "${name}"; this one stopped serving it.`]);
  });
  host.addEventListener("failed", ({ detail }) => {
    state.serving = false;
    showStatus("Not serving");
    showProblem("The server failed to start", [detail.message, detail.traceback]);
  });
  host.addEventListener("request", ({ detail: r }) => {
    addLog("request", `${r.method} ${r.target} ${r.status} ${r.duration_ms.toFixed(1)} ms · ${r.client}`);
  });
  host.addEventListener("log", ({ detail }) => addLog(detail.stream, detail.text));
  host.addEventListener("signaling-lost", () => {
    state.reconnecting = true;
    showStatus();
  });
  host.addEventListener("restarting", () => {
    state.serving = false;
    showStatus("Restarting…");
  });
  host.start();
  window.peerServerHost = host; // for the console, and for tests and benchmarks to measure
  await workbench;
}

main().catch((error) => showProblem("The server tab failed to start", [String(error)]));
