// A server tab in the background, as Chromium treats one: node lifecycle.mjs SERVICE_URL NAME
// SCENARIO. Playwright keeps every page it drives visible (its focus emulation), so these run
// under puppeteer-core, where a tab behind another is hidden as in a person's browser.
//
// "frozen": the server tab (time limit 3 s) is frozen by the page lifecycle (DevTools protocol)
//   while a visitor's 2 s request runs, for 6 s, another request arriving meanwhile; then
//   resumed.
// "hidden": Chromium with intensive wake-up throttling after a 5 s grace period (instead of 5
//   minutes); the server tab stays hidden for 75 s with no visitor, then a new visitor arrives.
// Prints what it saw as JSON; exits non-zero on the first failure.

import { existsSync } from "node:fs";
import puppeteer from "puppeteer-core";

import { frameText, TIMEOUT_MS } from "../firefox/firefox.mjs";

const [service, name, scenario] = process.argv.slice(2);
const siteUrl = service.replace("localhost", `${name}.localhost`);
const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((path) =>
  existsSync(path),
);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"];
const throttled = ["--disable-background-timer-throttling", "--disable-renderer-backgrounding"];
if (scenario === "hidden") {
  const grace = "grace_period_seconds/5/grace_period_seconds_loaded/5";
  args.push(`--enable-features=IntensiveWakeUpThrottling:${grace}`);
}
const browser = await puppeteer.launch({
  executablePath: CHROMIUM,
  headless: true,
  args,
  // What keeps a background tab awake in a test browser, and not in a person's, goes.
  ignoreDefaultArgs: [...throttled, "--disable-backgrounding-occluded-windows"],
  protocolTimeout: TIMEOUT_MS * 2,
});
// The server tab's console and its worker's, and what the tab shows, printed on a failure (they
// say why it did not serve: a refused name, say, is only on the page).
const said = [];
const server = await browser.newPage();
try {
  server.on("console", (message) => said.push(`[${message.type()}] ${message.text()}`));
  server.on("pageerror", (error) => said.push(`[uncaught] ${error.message}`));
  server.on("workercreated", (worker) =>
    worker.on("console", (message) => said.push(`[worker ${message.type()}] ${message.text()}`)),
  );
  await server.goto(`${service}server/${name}?template=public`);
  await serving(server);
  const seen = {};
  if (scenario === "frozen") {
    await server.evaluate(() => {
      const limit = document.getElementById("time-limit");
      limit.value = "3";
      limit.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }
  // A page of the service's origin that holds no lock, serves nothing, and is hidden as the
  // server tab is: it shows what the browser does to a background tab, and asks for the locks.
  const control = await browser.newPage();
  await control.goto(service);
  // Another tab in front of the server tab's: it is hidden now, as when its owner looks away.
  const front = await browser.newPage();
  await front.bringToFront();
  seen.hidden = await server.evaluate(() => document.visibilityState);
  const visitors = await browser.createBrowserContext();
  if (scenario === "frozen") Object.assign(seen, await frozen(server, visitors));
  else Object.assign(seen, await hidden(server, control, visitors));
  // Back with the signaling service, whose socket the freeze closed.
  await server.waitForFunction(() => document.getElementById("status").textContent === "Serving", {
    timeout: TIMEOUT_MS,
    polling: 500,
  });
  seen.status = await server.evaluate(() => document.getElementById("status").textContent);
  seen.log = await server.evaluate(() => document.getElementById("log").textContent);
  seen.lockWhileServing = await copyLockHeld(control);
  await server.close({ runBeforeUnload: false });
  seen.lockReleasedOnceClosed = await copyLockReleased(control);
  console.log(JSON.stringify(seen));
} catch (error) {
  const shown = await server
    .evaluate(() => ["status", "problem"].map((id) => document.getElementById(id)?.textContent))
    .catch((reason) => [`(the page could not be read: ${reason.message})`]);
  console.error(`The server tab shows:\n${shown.join("\n")}`);
  console.error(`The server tab's console:\n${said.join("\n")}`);
  throw error;
} finally {
  await browser.close();
}

async function serving(page) {
  await page.waitForFunction(
    () => document.getElementById("status")?.textContent.startsWith("Serving"),
    { timeout: TIMEOUT_MS, polling: 500 },
  );
}

/** Resolve once a request starting with `line` waits for its answer in the server tab: in its
 * Python worker, where the visitors' channels are handed over, or in its page. */
async function waitingOn(server, line) {
  const waits = (prefix) =>
    [
      ...((
        globalThis.peerServerHost?.channels ?? globalThis.peerServerChannels
      )?.connections.values() ?? []),
    ].some((connection) => connection.waiting?.startsWith(prefix));
  const deadline = Date.now() + TIMEOUT_MS;
  while (Date.now() < deadline) {
    for (const context of [server, ...server.workers()]) {
      if (await context.evaluate(waits, line).catch(() => false)) return;
    }
    await sleep(50);
  }
  throw new Error(`${line} did not reach the server tab's Python`);
}

async function frozen(server, visitors) {
  const page = await visitors.newPage();
  await page.goto(siteUrl);
  const frame = await frameText(page, "#body", "Hello, world.");
  await frame.evaluate(() => {
    window.answers = [];
    fetch("/slow?seconds=2")
      .then((response) => response.text())
      .then((text) => window.answers.push(text));
  });
  // Frozen once the request is in the server tab's Python (as tests/e2e/test_faults.py waits).
  // The hidden tab's timers run once a second at most: the request lasts 2 s so that a look
  // sees it.
  await waitingOn(server, "GET /slow");
  const lifecycle = await server.createCDPSession();
  await lifecycle.send("Page.setWebLifecycleState", { state: "frozen" });
  await frame.evaluate(() => {
    fetch("/")
      .then((response) => response.text())
      .then((text) => window.answers.push(text));
  });
  await sleep(6000); // twice the time limit
  const whileFrozen = await frame.evaluate(() => window.answers.length);
  await lifecycle.send("Page.setWebLifecycleState", { state: "active" });
  await frame.waitForFunction(() => window.answers.length === 2, { timeout: TIMEOUT_MS });
  // A hidden page's log shows its lines when its (throttled) timers let it.
  await server.waitForFunction(
    () => document.getElementById("log").textContent.includes("GET /slow"),
    { timeout: TIMEOUT_MS, polling: 500 },
  );
  return {
    whileFrozen,
    answers: await frame.evaluate(() => window.answers),
  };
}

/** Whether the server tab's lock on its copy of the site (site-host.js) is held, as a page of
 * the same origin sees it. */
function copyLockHeld(page) {
  return page.evaluate(
    async (lock) => (await navigator.locks.query()).held.some(({ name }) => name === lock),
    `peerserver-copy-${name}`,
  );
}

/** Whether the lock is released within 10 s (a closed page's locks go a moment after it). */
async function copyLockReleased(page) {
  try {
    await page.waitForFunction(
      async (lock) => !(await navigator.locks.query()).held.some(({ name }) => name === lock),
      { timeout: 10_000, polling: 100 },
      `peerserver-copy-${name}`,
    );
    return true;
  } catch {
    return false;
  }
}

async function hidden(server, control, visitors) {
  // A chain of 1 s timers in the server tab and in the control page, woken once a minute
  // under intensive throttling; and the server tab counts the times it lost signaling.
  const ticking = () => {
    window.wakeUps = [];
    (function tick() {
      window.wakeUps.push(performance.now());
      setTimeout(tick, 1000);
    })();
  };
  await server.evaluate(ticking);
  await control.evaluate(ticking);
  await server.evaluate(() => {
    window.signalingLosses = 0;
    window.peerServerHost.signaling.addEventListener("close", () => window.signalingLosses++);
  });
  await sleep(75_000);
  // And how long since the last one, when looked at: a page the browser froze (Chromium may
  // freeze a background tab that holds no lock) runs no timer at all from then on.
  const timers = async (page) => {
    const { wakeUps, now } = await page.evaluate(() => ({
      wakeUps: window.wakeUps,
      now: performance.now(),
    }));
    const gaps = wakeUps.slice(1).map((time, index) => time - wakeUps[index]);
    return {
      wakeUps: wakeUps.length,
      longestGapMs: Math.round(Math.max(...gaps)),
      sinceLastMs: Math.round(now - wakeUps.at(-1)),
    };
  };
  const serverTimers = await timers(server);
  const controlTimers = await timers(control);
  const page = await visitors.newPage();
  const started = performance.now();
  await page.goto(siteUrl);
  await frameText(page, "#body", "Hello, world.");
  return {
    longestTimerGapMs: serverTimers.longestGapMs,
    timerWakeUps: serverTimers.wakeUps,
    sinceLastTimerMs: serverTimers.sinceLastMs,
    control: { ...controlTimers, hidden: await control.evaluate(() => document.visibilityState) },
    visitorServedMs: Math.round(performance.now() - started),
    stillHidden: await server.evaluate(() => document.visibilityState),
    signalingLosses: await server.evaluate(() => window.signalingLosses),
  };
}
