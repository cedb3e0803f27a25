// Firefox visits a live site (tests/projects/starlette-live) served by a Chromium server tab:
// node live-visitor.mjs SITE_URL. Joins the chat room as "Fox" and speaks, echoes text and bytes
// on a socket of its own, closes it with a code, and opens one from a worker; revalidates the
// page's script in the HTTP cache; prints what it saw as JSON, and keeps the room open until
// its stdin ends.

import { TIMEOUT_MS, frameText, launchFirefox, step } from "./firefox.mjs";

const siteUrl = process.argv[2];
step("starting Firefox");
const browser = await launchFirefox();
try {
  const page = await browser.newPage();
  step(`opening ${siteUrl}`);
  await page.goto(siteUrl);
  const frame = await frameText(page, "h1", "Live room");
  step("joining the room");
  await frame.type("#name", "Fox");
  await frame.click("#join button");
  await frame.waitForFunction(
    () => document.querySelector("#state").textContent === "In the room as Fox",
    { timeout: TIMEOUT_MS },
  );
  step("speaking in the room");
  await frame.type("#line", "hello from Firefox");
  await frame.click("#say button");
  await frame.waitForFunction(
    () =>
      [...document.querySelectorAll("li")].some(
        (li) => li.textContent === "Fox: hello from Firefox",
      ),
    { timeout: TIMEOUT_MS },
  );
  step("a socket of its own, and one from a worker");
  const seen = await frame.evaluate(async (timeoutMs) => {
    // Each wait is bounded, and says what it waited for.
    const within = (what, promise) =>
      Promise.race([
        promise,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no ${what} within ${timeoutMs} ms`)), timeoutMs),
        ),
      ]);
    const socket = new WebSocket(`${location.origin.replace(/^http/, "ws")}/echo`, ["echo.v1"]);
    socket.binaryType = "arraybuffer";
    await within(
      "open socket",
      new Promise((resolve, reject) => {
        socket.onopen = resolve;
        socket.onerror = () => reject(new Error("the socket failed"));
      }),
    );
    const next = () =>
      within(
        "echo",
        new Promise((resolve) =>
          socket.addEventListener("message", (e) => resolve(e.data), { once: true }),
        ),
      );
    socket.send("ünïcode");
    const text = await next();
    socket.send(new Uint8Array([1, 2, 3]));
    const bytes = [...new Uint8Array(await next())];
    const closed = within(
      "close",
      new Promise((resolve) => {
        socket.onclose = (e) => resolve([e.code, e.reason, e.wasClean]);
      }),
    );
    socket.close(4003, "fox out");
    const worker = await within(
      "message from the worker",
      new Promise((resolve, reject) => {
        const echo = new Worker("/static/echo-worker.js");
        echo.onmessage = (event) => resolve(event.data);
        echo.onerror = (event) => reject(new Error(`the worker failed: ${event.message}`));
      }),
    );
    return { protocol: socket.protocol, text, bytes, closed: await closed, worker };
  }, TIMEOUT_MS / 2);
  // The HTTP cache: the page's script (an ETag from Starlette) is revalidated, answered 304.
  step("revalidating the page's script");
  seen.cache = await frame.evaluate(async () => {
    const how = async (init) =>
      (await fetch("/static/room.js", init)).headers.get("X-PeerServer-Cache");
    return [await how({ cache: "no-cache" }), await how({ cache: "no-store" })];
  });
  seen.engine = await browser.version();
  console.log(JSON.stringify(seen));
  // The room stays open (Fox in it) until the test is done with it.
  for await (const _ of process.stdin);
} finally {
  await browser.close();
}
