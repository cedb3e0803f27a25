// Firefox as a server tab: node server-tab.mjs SERVICE_URL NAME TEMPLATE
// Opens the server tab, waits for "Serving", prints {"serving": SITE_ADDRESS} as one JSON
// line and keeps serving until its standard input closes; then it prints what the tab's
// request log showed, and whether it could hand its visitors' channels to its Python worker
// (runtime/server-tab/python-process.js's `adopt`), and exits.

import { TIMEOUT_MS, launchFirefox } from "./firefox.mjs";

const [serviceUrl, name, template] = process.argv.slice(2);
const browser = await launchFirefox();
try {
  const page = await browser.newPage();
  await page.goto(`${serviceUrl}server/${name}?template=${template}`);
  await page.waitForFunction(() => document.getElementById("status").textContent === "Serving", {
    timeout: TIMEOUT_MS,
  });
  const address = await page.$eval("#site-address", (element) => element.textContent);
  console.log(JSON.stringify({ serving: address }));
  await new Promise((resolve) => {
    process.stdin.on("end", resolve);
    process.stdin.resume();
  });
  const log = await page.$$eval("#log li", (items) => items.map((item) => item.textContent));
  const channelsInWorker = await page.evaluate(() => window.peerServerHost.python.channelsInWorker);
  console.log(JSON.stringify({ log, channelsInWorker }));
} finally {
  await browser.close();
}
