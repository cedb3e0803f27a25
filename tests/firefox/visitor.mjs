// Firefox visits a site served by a Chromium server tab: node visitor.mjs SITE_URL
// Walks the hello page, a form POST answered with a redirect, a session kept across a reload
// and a binary download, and prints what it saw as JSON (and where its shell answers the
// requests); exits non-zero on the first failure.

import assert from "node:assert/strict";
import { TIMEOUT_MS, frameText, launchFirefox } from "./firefox.mjs";

const siteUrl = process.argv[2];
const browser = await launchFirefox();
try {
  const page = await browser.newPage();
  await page.goto(siteUrl);
  let frame = await frameText(page, "#body", "Hello, world.");
  const seen = {
    engine: await browser.version(),
    secureContext: await page.evaluate(() => isSecureContext),
    serviceWorker: await page.evaluate(async () =>
      Boolean((await navigator.serviceWorker.getRegistration())?.active),
    ),
    // Whether the shell handed the channels to its request worker (else its page answers).
    requestsInWorker: await page.evaluate(() => !window.peerServerClient.requests.pool),
  };

  await frame.click("a[href='/login']");
  frame = await frameText(page, "h1", "Log in");
  await frame.type("input[name=user]", "grace");
  await frame.click("button");
  frame = await frameText(page, "#body", "Logged in as grace");
  await page.waitForFunction(
    (url) => location.href === url,
    { timeout: TIMEOUT_MS },
    `${siteUrl}whoami`,
  );
  seen.afterLogin = page.url();

  await page.reload();
  frame = await frameText(page, "#body", "Logged in as grace");
  seen.afterReload = "Logged in as grace";

  seen.download = await frame.evaluate(async () => {
    const response = await fetch("/bytes/1");
    const body = await response.arrayBuffer();
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    return { bytes: body.byteLength, exact: hex === response.headers.get("X-SHA256") };
  });
  assert.equal(seen.download.exact, true, "the downloaded bytes differ from the sent ones");
  console.log(JSON.stringify(seen));
} finally {
  await browser.close();
}
