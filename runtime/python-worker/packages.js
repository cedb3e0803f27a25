// The packages of a site's requirements.txt, installed into the server tab's Python worker.
//
// The service resolves them (signaling/packages/: its answer comes as lines of JSON, progress
// first) and serves each file by its hash; this worker installs them:
//   * wheels (pure Python, or built for Pyodide's WebAssembly platform) with Pyodide's own
//     loadPackage, which also loads their compiled modules;
//   * shared libraries of Pyodide's packages ("dynlib") into /usr/lib, where the dynamic
//     loader looks (LD_LIBRARY_PATH);
//   * Pyodide's own packages ("pyodide"), which Pyodide loads by name from its packageBaseUrl
//     (Pyodide's CDN: boot.js), checking each file against the bundle's pyodide-lock.json;
//   * source packages built into wheels here, by their own build backend (setup.py is the
//     owner's choice of code, so it runs where the owner's code runs: server_py/builds.py),
//     under the time limit, the wheel kept with the site for its next start. A source
//     package's dependencies may only be known once built: they are resolved in a next round.
// The service only answers a server tab holding a name: the tab hands this worker a ticket
// (signaling/tickets.py) for each request.

import { fetchBytes } from "../fetch-checked.js";
import { questions } from "../protocol/worker.js";
import { unpackWheels } from "./wheel-files.js";
import { toPlain } from "./plain.js";

const ROUNDS = 4; // resolutions at most: the requirements, then what built packages need
const DYNLIB_DIR = "/usr/lib";

/**
 * Install what the requirements.txt `text` asks for. Resolves to {installed, builtIn,
 * problems}: what could not be had is reported by name, with the reason, and the rest
 * installs. `host` holds the worker's means:
 *   python, server (server_py.worker.SiteServer), sitePackages, packagesUrl,
 *   ask(message) (a question to the server tab, answered: here a package ticket),
 *   progress(label), say(stream, text) (the log),
 *   watched(label, run) (runs the site owner's code under the time limit),
 *   buildSources (false after a build ran past the time limit: no build is tried again).
 */
export async function installRequirements(text, host) {
  const installed = new Map(); // canonical name -> version
  const problems = [];
  let builtIn = [];
  let request = { requirements: text };
  for (let round = 0; round < ROUNDS && request; round++) {
    let answer;
    try {
      answer = await resolve(request, host);
    } catch (error) {
      const what = round === 0 ? "requirements.txt" : "what the built packages need";
      problems.push({
        requirement: what,
        reason: `the packages could not be had from the service (${error.message})`,
      });
      break;
    }
    if (round === 0) builtIn = answer.builtIn;
    problems.push(...answer.problems);
    await installFiles(
      answer.packages.filter(({ kind }) => kind !== "sdist"),
      host,
      installed,
      problems,
    );
    const needs = await buildSources(answer, host, installed, problems);
    request = needs.length
      ? { requirements: needs.join("\n"), installed: Object.fromEntries(installed) }
      : null;
  }
  if (installed.size) host.python.runPython("import importlib; importlib.invalidate_caches()");
  return {
    installed: [...installed].map(([name, version]) => `${name} ${version}`),
    builtIn,
    problems,
  };
}

/** The service's answer to `request`: lines of JSON, {progress} then {result} or {error}. */
async function resolve(request, host) {
  const ticket = await host.ask(questions.packageTicket());
  const response = await fetch(host.packagesUrl, {
    method: "POST",
    body: JSON.stringify(request),
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${ticket}` },
  });
  if (!response.ok) {
    const detail = await response.json().catch(() => ({}));
    const retry = response.headers.get("Retry-After");
    throw new Error(
      `${response.status}: ${detail.error ?? detail.detail ?? response.statusText}` +
        (retry ? ` (try again in ${retry} s)` : ""),
    );
  }
  for await (const line of jsonLines(response.body)) {
    if (typeof line.progress === "string") host.progress(line.progress);
    else if (line.result) return line.result;
    else if (line.error)
      throw new Error(line.error + (line.retryAfter ? ` (try again in ${line.retryAfter} s)` : ""));
  }
  throw new Error("the package service's answer ended before its result");
}

async function* jsonLines(body) {
  const decoder = new TextDecoder();
  let pending = "";
  for await (const chunk of body) {
    pending += decoder.decode(chunk, { stream: true });
    const lines = pending.split("\n");
    pending = lines.pop();
    for (const line of lines) if (line.trim()) yield JSON.parse(line);
  }
  if (pending.trim()) yield JSON.parse(pending);
}

/** Install wheels and shared libraries; what fails is a problem, the rest goes on. */
async function installFiles(files, host, installed, problems) {
  if (!files.length) return;
  host.progress(`Installing ${files.length} package${files.length > 1 ? "s" : ""}`);
  const url = (file) => new URL(file.url, host.packagesUrl).href;
  for (const file of files.filter(({ kind }) => kind === "dynlib")) {
    try {
      host.python.unpackArchive(await fetchBytes(url(file)), "zip", { extractDir: DYNLIB_DIR });
      installed.set(file.name, file.version);
    } catch (error) {
      problems.push({
        requirement: `${file.name} ${file.version}`,
        reason: `not installed: ${error.message}`,
      });
    }
  }
  const wheels = files.filter(({ kind }) => kind === "wheel" || kind === "pyodide");
  const failures = [];
  await host.python.loadPackage(
    wheels.map((file) => (file.kind === "pyodide" ? file.name : url(file))),
    {
      messageCallback: () => {},
      errorCallback: (message) => failures.push(message),
      checkIntegrity: true,
    },
  );
  for (const wheel of wheels) {
    // Pyodide names a package it loaded by name in one line, and says what went wrong in the
    // next ("The following error occurred while loading numpy:", then the error).
    const at = failures.findIndex(
      (message) =>
        message.includes(wheel.filename) || message.includes(`while loading ${wheel.name}:`),
    );
    if (at < 0) {
      installed.set(wheel.name, wheel.version);
      continue;
    }
    const said = failures.slice(at, at + 2).join(" ");
    const why = wheel.kind === "pyodide" ? await whyNotLoaded(wheel) : null;
    problems.push({
      requirement: `${wheel.name} ${wheel.version}`,
      reason: `not installed: ${why ?? said}`,
    });
  }
}

/**
 * Why Pyodide could not load one of its packages from `file.url`, where its own words ("Failed
 * to fetch") do not tell a file the CDN does not serve from one its lock refuses.
 */
async function whyNotLoaded(file) {
  let bytes;
  try {
    bytes = await fetchBytes(file.url);
  } catch (error) {
    return `${file.url} could not be fetched (${error.message})`;
  }
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  const sha256 = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
  if (sha256 === file.sha256) return null;
  return `${file.url} is not the file Pyodide's lock names (SHA-256 ${sha256.slice(0, 12)}…, not ${file.sha256.slice(0, 12)}…): refused`;
}

/**
 * Build and install the answer's source packages (or this site's earlier builds of them).
 * Resolves to the requirements of those whose dependencies the service could not know.
 */
async function buildSources(answer, host, installed, problems) {
  const sdists = answer.packages.filter(({ kind }) => kind === "sdist");
  const needs = [];
  let tools = null; // fetched once, if a build is needed
  for (const sdist of sdists) {
    const what = `${sdist.name} ${sdist.version}`;
    const kept = toPlain(host.server.install_built(sdist.sha256, host.sitePackages));
    let result = kept ? { ok: true, ...kept } : null;
    if (!result && !host.buildSources) {
      problems.push({
        requirement: what,
        reason:
          "building it ran past the time limit, so it was " +
          "not tried again: raise the time limit, then restart (save requirements.txt)",
      });
      continue;
    }
    if (!result) {
      host.progress(`Building ${sdist.filename}`);
      tools ??= Promise.all(
        answer.buildTools.map((tool) => fetchBytes(new URL(tool.url, host.packagesUrl).href)),
      );
      let source;
      let toolWheels;
      try {
        [source, toolWheels] = await Promise.all([
          fetchBytes(new URL(sdist.url, host.packagesUrl).href),
          tools,
        ]);
      } catch (error) {
        // That package is not built; the site starts with the others.
        problems.push({ requirement: what, reason: `not built: ${error.message}` });
        continue;
      }
      result = host.watched(sdist.filename, () =>
        toPlain(
          host.server.install_source(
            source,
            sdist.filename,
            sdist.sha256,
            sdist.build,
            toolWheels,
            host.sitePackages,
          ),
        ),
      );
      if (result.ok) host.say("server", `requirements.txt: ${builtFromSource(result, sdist)}`);
    }
    if (!result.ok) {
      problems.push({ requirement: what, reason: result.error });
      continue;
    }
    installed.set(sdist.name, sdist.version);
    if (!sdist.build?.dependenciesKnown) needs.push(...result.requires);
  }
  return needs;
}

/** What the owner is told of a source package built here. */
function builtFromSource(result, sdist) {
  const built = `built ${result.filename} from source`;
  const without = sdist.build?.without;
  if (!without) return built;
  const switches = Object.entries(sdist.build.environment ?? {})
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  return `${built}, without ${without} (${switches}): ${sdist.name} runs without its accelerator, as pure Python`;
}

/** Install tools of the bundle (manifest.tools: pytest, with what it needs) on first use. */
export async function installTools({ python, bundleUrl, manifest, sitePackages }, names) {
  for (const name of names) {
    const archives = await Promise.all(
      manifest.tools[name].map((wheel) => fetchBytes(`${bundleUrl}python/${wheel}`)),
    ); // byte-compiled, as the others
    unpackWheels(python.FS, sitePackages, archives);
  }
  if (names.length) python.runPython("import importlib; importlib.invalidate_caches()");
}
