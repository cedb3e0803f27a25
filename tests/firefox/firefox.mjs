// Stock Firefox ESR (Debian's firefox-esr) driven over WebDriver BiDi with puppeteer-core, for
// the end-to-end tests that need a second engine (tests/e2e/test_firefox.py runs these scripts).

import { existsSync } from "node:fs";
import puppeteer from "puppeteer-core";

export const TIMEOUT_MS = 90000;
const FIREFOX = ["/usr/bin/firefox-esr", "/usr/bin/firefox"].find((path) => existsSync(path));

export async function launchFirefox() {
  if (!FIREFOX) throw new Error("Firefox is not installed: apt-get install firefox-esr");
  return puppeteer.launch({
    browser: "firefox",
    executablePath: FIREFOX,
    headless: true,
    // Longer than any wait of the scripts, so that a wait that runs out says what it waited for.
    protocolTimeout: TIMEOUT_MS + 30000,
    // Only this machine exists: Firefox's own services must not wait for a network.
    extraPrefsFirefox: {
      "network.dns.disableIPv6": true,
      "app.update.enabled": false,
      "browser.safebrowsing.malware.enabled": false,
      "browser.safebrowsing.phishing.enabled": false,
      "network.captive-portal-service.enabled": false,
      "network.connectivity-service.enabled": false,
    },
  });
}

/** The text of `selector` in the site's frame of a client shell, once it is `expected`. */
export async function frameText(page, selector, expected) {
  const frame = await (await page.waitForSelector("#site")).contentFrame();
  await frame.waitForFunction(
    (sel, text) => document.querySelector(sel)?.textContent.trim() === text,
    { timeout: TIMEOUT_MS },
    selector,
    expected,
  );
  return frame;
}

/** Say on stderr what a script does next: a test that fails shows how far Firefox got. */
export function step(text) {
  process.stderr.write(`${new Date().toISOString()} ${text}\n`);
}
