// runtime/visitor/capabilities.js: what a visitor's browser lacks, said in its words.

import assert from "node:assert/strict";
import { test } from "node:test";

import {
  explainMissing,
  missingAtOnce,
  missingCapabilities,
} from "../../runtime/visitor/capabilities.js";

class RTCPeerConnection {
  createDataChannel() {}
}

function browser(overrides = {}) {
  return {
    isSecureContext: true,
    navigator: { serviceWorker: {} },
    RTCPeerConnection,
    ...overrides,
  };
}

const opens = () => Promise.resolve();
const refuses = () => Promise.reject(new Error("private window"));

test("a browser with all it needs lacks nothing", async () => {
  assert.deepEqual(await missingCapabilities(browser(), opens), []);
});

test("each missing thing is named, with what to do", async () => {
  const noRtc = await missingCapabilities(browser({ RTCPeerConnection: undefined }), opens);
  assert.equal(noRtc.length, 1);
  assert.match(
    explainMissing(noRtc),
    /^This browser cannot open PeerServer sites: it lacks WebRTC/,
  );
  const noChannels = await missingCapabilities(browser({ RTCPeerConnection: class {} }), opens);
  assert.match(noChannels[0].need, /WebRTC/);
  const noWorkers = await missingCapabilities(browser({ navigator: {} }), opens);
  assert.match(explainMissing(noWorkers), /service workers.*normal window/);
  const noStorage = await missingCapabilities(browser(), refuses);
  assert.match(explainMissing(noStorage), /IndexedDB/);
});

test("an insecure page is told to use https, not that it lacks service workers too", async () => {
  const missing = await missingCapabilities(
    browser({ isSecureContext: false, navigator: {} }),
    opens,
  );
  assert.deepEqual(
    missing.map(({ need }) => need),
    ["a secure connection (https://)"],
  );
});

test("several needs are said together", async () => {
  const missing = await missingCapabilities(
    browser({ RTCPeerConnection: undefined, navigator: {} }),
    refuses,
  );
  const text = explainMissing(missing);
  assert.equal(missing.length, 3);
  assert.match(text, /WebRTC.*; and service workers.*; and site storage/);
});

test("what is told at once is all but site storage, which is probed", async () => {
  assert.deepEqual(missingAtOnce(browser()), []);
  const lacking = browser({ RTCPeerConnection: undefined, navigator: {} });
  assert.deepEqual(
    missingAtOnce(lacking),
    (await missingCapabilities(lacking, opens)).filter(({ need }) => !need.includes("storage")),
  );
  assert.equal(missingAtOnce(lacking).length, 2);
  assert.equal((await missingCapabilities(browser(), refuses)).length, 1);
});
