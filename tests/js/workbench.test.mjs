// The server tab's pure parts of web/workbench/: the status line's words, FLASK_APP where it is
// set, a site's age, and package tickets asked for when stale.

import assert from "node:assert/strict";
import { test } from "node:test";

import { PackageTickets } from "../../runtime/server-tab/package-tickets.js";
import { withFlaskApp } from "../../web/workbench/app-chooser.js";
import { formatAge } from "../../web/workbench/settings.js";
import { StatusLine } from "../../web/workbench/status-line.js";

test("the status line says whether the site's current code serves", () => {
  const element = { textContent: "", classList: { toggle() {} } };
  const status = new StatusLine(element);
  status.busy("Loading Python…");
  assert.equal(element.textContent, "Loading Python…");
  status.loaded({ ok: true, module: "app.py" });
  status.served();
  assert.equal(element.textContent, "Serving");
  status.signalingLost();
  assert.equal(element.textContent, "Serving · reconnecting to PeerServer…");
  status.loaded({ ok: false, module: "app.py" });
  assert.equal(element.textContent, "Serving the previous version: the new code failed to load");
  status.loaded({ ok: false, module: null });
  assert.equal(element.textContent, "Not serving the app: its code failed to load");
  status.busy("Restarting…");
  assert.equal(element.textContent, "Restarting…");
});

test("FLASK_APP is changed where it is set, .env first, else written to .flaskenv", () => {
  assert.deepEqual(
    withFlaskApp({ ".env": ["SECRET=x", "FLASK_APP=old"], ".flaskenv": [] }, "shop"),
    { path: ".env", text: "SECRET=x\nFLASK_APP=shop\n" },
  );
  assert.deepEqual(withFlaskApp({ ".env": [], ".flaskenv": ["FLASK_DEBUG=1"] }, " app.py "), {
    path: ".flaskenv",
    text: "FLASK_DEBUG=1\nFLASK_APP=app.py\n",
  });
  assert.deepEqual(withFlaskApp({ ".env": [], ".flaskenv": ["export FLASK_APP=x"] }, ""), {
    path: ".flaskenv",
    text: "\n",
  });
});

test("a site's age counts as the original counted it", () => {
  assert.equal(formatAge(0), "0 minutes");
  assert.equal(formatAge(-5), "0 minutes"); // recorded by a clock a moment ahead (seen in CI)
  assert.equal(formatAge((10080 + 1440 * 2 + 60 + 1) * 60000), "1 week, 2 days, 1 hour, 1 minute");
});

test("a package ticket is asked for when the one kept is stale, and waited for", async () => {
  const sent = [];
  let clock = 0;
  const tickets = new PackageTickets({ send: (message) => sent.push(message) }, () => true, {
    now: () => clock,
  });
  tickets.keep("demo.1.sig");
  assert.equal(await tickets.get(), "demo.1.sig");
  clock = 31 * 60 * 1000;
  const fresh = tickets.get();
  assert.deepEqual(sent, [{ type: "package-ticket" }]);
  tickets.keep("demo.2.sig");
  assert.equal(await fresh, "demo.2.sig");
});
