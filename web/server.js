// The server tab: boots the site in a Python worker, registers its name, and shows what is
// going on (status, connected visitors, the request log and what the site prints).

import { SiteHost } from "/runtime/site-host.js";
import { ownerToken } from "/web/owner-token.js";

const name = decodeURIComponent(location.pathname.replace(/^\/server\/?/, "").replace(/\/$/, ""));
const template = new URLSearchParams(location.search).get("template") || "empty";

const statusBox = document.getElementById("status");
const connectedBox = document.getElementById("connected");
const openBrowser = document.getElementById("open-browser");
const bootSection = document.getElementById("boot");
const bootLabel = document.getElementById("boot-label");
const bootProgress = document.getElementById("boot-progress");
const problem = document.getElementById("problem");
const log = document.getElementById("log");

document.getElementById("server-name").textContent = name;
document.title = `${name} · PeerServer`;

function addLog(kind, text) {
  const item = document.createElement("li");
  item.className = `log-${kind}`;
  item.textContent = text;
  log.append(item);
  item.scrollIntoView({ block: "nearest" });
}

function showProblem(title, lines = [], suggestion = null) {
  bootSection.hidden = true;
  problem.hidden = false;
  problem.replaceChildren();
  const heading = document.createElement("h2");
  heading.textContent = title;
  problem.append(heading);
  for (const line of lines) {
    const block = document.createElement(line.includes("\n") ? "pre" : "p");
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

async function main() {
  const config = await (await fetch("/api/config")).json();
  const host = new SiteHost({
    name,
    token: ownerToken(name),
    bundleUrl: "/bundle/",
    siteUrl: `/templates/${encodeURIComponent(template)}.zip`,
  });
  host.addEventListener("progress", ({ detail }) => {
    bootLabel.textContent = `${detail.label}…`;
    bootProgress.value = detail.fraction;
    statusBox.textContent = `${detail.label}…`;
  });
  host.addEventListener("serving", () => {
    bootSection.hidden = true;
    statusBox.textContent = "Serving";
    openBrowser.href = config.siteUrl.replace("{name}", name);
    openBrowser.hidden = false;
  });
  host.addEventListener("clients", ({ detail }) => {
    connectedBox.textContent = `Connected: ${detail.count}`;
  });
  host.addEventListener("name-error", ({ detail }) => {
    statusBox.textContent = "Not serving";
    showProblem(":(", [detail.message], detail.suggestion);
  });
  host.addEventListener("replaced", () => {
    statusBox.textContent = "Not serving";
    showProblem("This site is now served by another tab", [
      `Another tab of this browser registered "${name}"; this one stopped serving it.`]);
  });
  host.addEventListener("failed", ({ detail }) => {
    statusBox.textContent = "Not serving";
    const where = detail.filename ? `${detail.filename}, line ${detail.lineno}: ` : "";
    showProblem("The site failed to start", [where + detail.message, detail.traceback || ""]);
  });
  host.addEventListener("request", ({ detail: r }) => {
    addLog("request", `${r.method} ${r.target} ${r.status} ${r.duration_ms.toFixed(1)} ms · ${r.client}`);
  });
  host.addEventListener("log", ({ detail }) => addLog(detail.stream, detail.text));
  host.start();
  window.peerServerHost = host; // for the console, and for tests and benchmarks to measure
}

main().catch((error) => showProblem("The server tab failed to start", [String(error)]));
