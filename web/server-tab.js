// The server tab's page: the site's server (runtime/server-tab/site-host.js), and the owner's
// workbench around it: files, editor (saving publishes), database, console, request log,
// export and import, standbys. Each part is a module of web/workbench/; this one puts them
// together. The same page is a standby of a site (opened from a standby link, at
// /standby/NAME#GRANT, then at /server/NAME), which shows the workbench once it serves.

import { DEFAULT_TIME_LIMIT_MS, SiteHost } from "../runtime/server-tab/site-host.js";
import {
  forgetMemberCredentials,
  keepMemberCredentials,
  OwnBrowserError,
  siteCredentials,
} from "./site-credentials.js";
import { chooseApp } from "./workbench/app-chooser.js";
import { EditorPane } from "./workbench/editor-pane.js";
import { LogView } from "./workbench/log-view.js";
import { offerNewerRelease } from "./workbench/old-pins.js";
import { showLoadResult, showPackageProblems, showProblem } from "./workbench/reports.js";
import { keepTimeLimit, siteSettings, startAgeClock } from "./workbench/settings.js";
import { Share } from "./workbench/share.js";
import { exportSite, importSite } from "./workbench/site-archive.js";
import { StandbysView } from "./workbench/standbys.js";
import { StatusLine } from "./workbench/status-line.js";

const standbyLink = location.pathname.startsWith("/standby/");
const name = decodeURIComponent(
  location.pathname.replace(/^\/(server|standby)\/?/, "").replace(/\/$/, ""),
);
const pageQuery = new URLSearchParams(location.search);
const template = pageQuery.get("template") || "empty";
// "?channels=tab": the visitors' data channels stay on this page's main thread, which relays
// their bytes to Python, as in a browser that cannot hand a channel to a worker.
const channelsInWorker = pageQuery.get("channels") !== "tab";
const SITE_ROOT = `/peerserver/${name}/`; // where the site's files are, in its Python
const $ = (id) => document.getElementById(id);

$("server-name").textContent = name;
document.title = `${name} · PeerServer`;

const log = new LogView({ panel: $("log-panel"), list: $("log"), siteRoot: SITE_ROOT });
const status = new StatusLine($("status"));
const problem = (title, lines, suggestion) =>
  showProblem(
    { problem: $("problem"), boot: $("boot"), siteRoot: SITE_ROOT, template },
    title,
    lines,
    suggestion,
  );

/**
 * The workbench, once its modules are in: they (the editor's CodeMirror above all) load while
 * Python starts, not before.
 */
async function loadWorkbench(host) {
  const [{ Console }, { DatabaseView }, { Editor }, { FileTree }] = await Promise.all([
    import("./workbench/console.js"),
    import("./workbench/database.js"),
    import("./workbench/editor.js"),
    import("./workbench/files.js"),
  ]);
  const pane = new EditorPane({
    host,
    elements: {
      editor: $("editor"),
      preview: $("preview"),
      openFile: $("open-file"),
      saveState: $("save-state"),
      save: $("save"),
    },
    onSaved: () => files.refresh(),
  });
  pane.editor = new Editor($("editor"), {
    onSave: () => pane.save(),
    onChange: () => pane.changed(),
  });
  const database = new DatabaseView({
    host,
    select: $("database-file"),
    tables: $("tables"),
    tableView: $("table-view"),
    form: $("sql-form"),
    sql: $("sql"),
    result: $("sql-result"),
  });
  const files = new FileTree({
    list: $("file-tree"),
    host,
    onOpen: (file) => pane.open(file),
    onChanged: async () => {
      await host.reload();
      await database.refresh();
    },
    onError: (text) => problem("That did not work", [text]),
  });
  new Console({
    host,
    form: $("console-form"),
    input: $("console-input"),
    output: $("console-output"),
    siteRoot: SITE_ROOT,
    onRan: async () => {
      await files.refresh();
      await database.refresh();
    },
  });

  $("choose-app").addEventListener("click", async () => {
    await chooseApp(host);
    await files.refresh();
  });
  $("save").addEventListener("click", () => pane.save());
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
      pane.save();
    }
  });
  window.addEventListener("beforeunload", (event) => {
    if (pane.dirty) event.preventDefault();
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
  $("export-site").addEventListener("click", () => exportSite(host, name));
  $("import-site").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (!file) return;
    try {
      if (!(await importSite(host, name, file))) return;
    } catch (error) {
      problem("The import did not work", [error.message, "The site was not changed."]);
      return;
    }
    $("problem").hidden = true;
    pane.clear();
    log.add("server", `Imported ${file.name}.`);
    await files.refresh();
    await database.refresh();
  });
  return { files, database, pane };
}

/** The package service's nearest release of `name` after `version` for this Python. */
async function askUpgrade(host, name, version) {
  const ticket = await host.packageTicket();
  const query = new URLSearchParams({ name, version });
  const response = await fetch(`/api/packages/upgrade?${query}`, {
    headers: { Authorization: `Bearer ${ticket}` },
  });
  if (!response.ok) throw new Error(`the package service answered ${response.status}`);
  return response.json();
}

/** What the owner sees happen: the host's events, shown. */
function follow(host, address, workbench) {
  const share = new Share({
    copy: $("copy-address"),
    qr: $("show-qr"),
    dialog: $("qr-dialog"),
    code: $("qr-code"),
  });
  host.addEventListener("progress", ({ detail }) => {
    $("boot-label").textContent = `${detail.label}…`;
    $("boot-progress").value = detail.fraction;
    status.busy(`${detail.label}…`);
  });
  host.addEventListener("loaded", async ({ detail }) => {
    status.loaded(detail);
    showLoadResult(
      { box: $("load-error"), appLabel: $("app-module"), siteRoot: SITE_ROOT },
      detail,
    );
    offerNewerRelease({
      host,
      box: $("pin-offer"),
      load: detail,
      askUpgrade: (package_, version) => askUpgrade(host, package_, version),
    }).catch((error) => {
      log.add(
        "stderr",
        `Could not look for a newer release of ${detail.package?.name}: ${error.message}`,
      );
    });
    // The owner's first look: the file that makes the app, open in the editor.
    const { files, pane } = await workbench;
    if (!pane.current && detail.mainFile) await files.openPath(detail.mainFile);
  });
  host.addEventListener("packages", ({ detail }) =>
    showPackageProblems($("packages-problem"), detail),
  );
  host.addEventListener("serving", async () => {
    performance.mark("peerserver:serving");
    $("boot").hidden = true;
    status.served();
    $("open-browser").href = await address;
    $("open-browser").hidden = false;
    $("site-address").textContent = await address;
    $("site-address").hidden = false;
    share.ready(await address);
    $("export-site").disabled = false;
    $("import-site").disabled = false;
    startAgeClock(name, $("age"));
    await (await workbench).files.refresh();
  });
  host.addEventListener("storage", ({ detail }) => {
    $("storage").textContent = detail.persisted
      ? "Storage: kept"
      : "Storage: the browser may clear it when short of space";
  });
  host.addEventListener("unsaved", ({ detail }) => {
    const box = $("storage-problem");
    box.hidden = detail.message === null;
    if (detail.message === null) {
      log.add("server", "The site's changes are kept again.");
      return;
    }
    box.textContent =
      `${detail.message}. The site goes on serving what it has, but its latest changes live ` +
      "only in this tab until they can be kept: free some of this browser's storage (delete " +
      "files or old sites, or let this site keep its storage), and export the site to be safe.";
  });
  host.addEventListener("clients", ({ detail }) => {
    $("connected").textContent = `Connected: ${detail.count}`;
  });
  host.addEventListener("name-error", ({ detail }) => {
    status.busy("Not serving");
    const title =
      {
        quota: "Too many names",
        released: "This name was released",
        "bad-grant": "This standby link cannot be used",
        "not-a-standby": "This browser is no longer a standby",
        "too-many": "This site has as many standbys as it may",
        incomplete: "This standby cannot serve",
      }[detail.code] ?? ":(";
    if (detail.code === "not-a-standby") forgetMemberCredentials(name);
    problem(title, [detail.message], detail.suggestion);
  });
  $("take-over").addEventListener("click", () => {
    host.takeOver();
    $("take-over-state").textContent =
      "Asked the serving tab to hand the site over: it does once this copy is in sync.";
  });
  host.addEventListener("role", ({ detail }) => {
    const standingBy = detail.role === "standby";
    $("standby-note").hidden = !standingBy;
    $("take-over-box").hidden = !(standingBy && host.isOwner);
    $("take-over-state").textContent = "";
    document.querySelector(".workbench").hidden = standingBy;
    if (standingBy) {
      $("boot").hidden = true;
      $("storage-problem").hidden = true;
      status.busy("Standby");
    } else if (detail.role === "fenced") {
      status.busy("Not serving");
      log.add("server", detail.reason);
    } else if (detail.role === "serving" && !host.python.ready) {
      $("boot").hidden = false;
      status.busy("Starting…");
    }
  });
  host.addEventListener("copied", ({ detail }) => {
    const when = new Date().toLocaleTimeString();
    $("standby-copy").textContent =
      `The copy is up to date with the serving tab: change ${detail.seq} of its lease ${detail.epoch}, kept at ${when}.`;
  });
  host.addEventListener("joined", ({ detail }) => {
    keepMemberCredentials(name, detail);
    log.add("server", `This tab is a standby of "${name}" now.`);
  });
  host.addEventListener("removed", () => {
    forgetMemberCredentials(name);
    status.busy("Not serving");
    problem("This standby was removed", [
      `The owner of "${name}" removed this browser from its standbys: it no longer keeps a copy.`,
    ]);
  });
  host.addEventListener("replaced", () => {
    status.busy("Not serving");
    problem("This site is now served by another tab", [
      `Another tab of this browser registered "${name}"; this one stopped serving it.`,
    ]);
  });
  host.addEventListener("failed", ({ detail }) => {
    status.busy("Not serving");
    problem("The server failed to start", [detail.message, detail.traceback]);
  });
  host.addEventListener("request", ({ detail: r }) => {
    // A WebSocket is logged as it opens and as it closes, with how long it was open.
    const note = r.note ? ` · ${r.note}` : "";
    log.add(
      "request",
      `${r.method} ${r.target} ${r.status} ${r.duration_ms.toFixed(1)} ms · ${r.client}${note}`,
    );
  });
  host.addEventListener("log", ({ detail }) => log.add(detail.stream, detail.text));
  host.addEventListener("signaling-lost", () => status.signalingLost());
  host.addEventListener("restarting", () => status.busy("Restarting…"));
  new StandbysView({
    host,
    name,
    elements: {
      add: $("add-standby"),
      invite: $("standby-invite"),
      link: $("standby-link"),
      expiry: $("standby-expiry"),
      copy: $("copy-standby-link"),
      qr: $("standby-qr"),
      dialog: $("qr-dialog"),
      code: $("qr-code"),
      list: $("standby-list"),
      none: $("standby-none"),
      problem: $("standby-problem"),
    },
  });
}

async function main() {
  // A standby link's grant is in its fragment (never sent to a server); it is used once, and
  // the page goes on at the site's usual address.
  const grant = standbyLink ? location.hash.slice(1) : null;
  if (standbyLink) history.replaceState(null, "", `/server/${encodeURIComponent(name)}`);
  const credentials = siteCredentials(name, grant);
  const config = fetch("/api/config").then((response) => response.json());
  const address = config.then(({ siteUrl }) => siteUrl.replace("{name}", name));
  const host = new SiteHost({
    name,
    credentials,
    settings: siteSettings(name, () => host, $("time-limit")),
    bundleUrl: "/bundle/",
    pyodidePackages: config.then(({ pyodidePackages }) => pyodidePackages),
    siteUrl: `/templates/${encodeURIComponent(template)}.zip`,
    address,
    channelsInWorker,
  });
  const workbench = loadWorkbench(host);
  keepTimeLimit(host, name, $("time-limit"), DEFAULT_TIME_LIMIT_MS);
  follow(host, address, workbench);
  host.start();
  window.peerServerHost = host; // for the console, and for tests and benchmarks to measure
  await workbench;
}

main().catch((error) => {
  status.busy("Not serving");
  const title =
    error instanceof OwnBrowserError
      ? "This standby link is for another browser"
      : "The server tab failed to start";
  problem(title, [error.message ?? String(error)]);
});
