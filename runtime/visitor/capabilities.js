// What a visitor's browser must have for the shell to reach a site, checked before it tries:
// a browser without one of them would otherwise wait on "Connecting…" for ever. Each missing
// thing is said in a visitor's words, with what to do about it.

/**
 * The needs `scope` (a window) does not meet: [{need, advice}]. `openDatabase()` resolves if
 * IndexedDB can be opened here (private windows of some browsers refuse it).
 */
export async function missingCapabilities(scope, openDatabase = () => probeIndexedDB(scope)) {
  const missing = missingAtOnce(scope);
  try {
    await openDatabase();
  } catch {
    missing.push({
      need: "site storage (IndexedDB), which keeps this browser's identity for the site",
      advice: "Open this address in a normal window, or allow this site to store data.",
    });
  }
  return missing;
}

/** The needs of `missingCapabilities` that are told at once (all but site storage, which
 * takes a moment to open). */
export function missingAtOnce(scope) {
  const missing = [];
  if (!scope.isSecureContext) {
    missing.push({
      need: "a secure connection (https://)",
      advice: "Open the site's https:// address.",
    });
  }
  const rtc = scope.RTCPeerConnection;
  if (typeof rtc !== "function" || typeof rtc.prototype?.createDataChannel !== "function") {
    missing.push({
      need: "WebRTC (RTCPeerConnection), which reaches the browser tab that serves this site",
      advice:
        "Open this address in a browser with WebRTC turned on: a recent Chrome, Edge, Firefox " +
        "or Safari, without an extension or policy that blocks WebRTC.",
    });
  }
  // Without a secure connection there are none either: that one is said already.
  if (scope.isSecureContext && !("serviceWorker" in scope.navigator)) {
    missing.push({
      need: "service workers, which carry the site's pages",
      advice:
        "Open this address in a normal window (private and guest windows turn them off in " +
        "some browsers), or in another browser.",
    });
  }
  return missing;
}

/** The page's words for what is missing. */
export function explainMissing(missing) {
  const needs = missing.map(({ need }) => need);
  const advice = [...new Set(missing.map(({ advice }) => advice))];
  return `This browser cannot open PeerServer sites: it lacks ${needs.join("; and ")}. ${advice.join(" ")}`;
}

function probeIndexedDB(scope) {
  return new Promise((resolve, reject) => {
    if (!scope.indexedDB) {
      reject(new Error("no IndexedDB"));
      return;
    }
    let request;
    try {
      request = scope.indexedDB.open("peerserver-probe");
    } catch (error) {
      reject(error);
      return;
    }
    request.onsuccess = () => {
      request.result.close();
      resolve();
    };
    request.onerror = () => reject(request.error);
    request.onblocked = () => resolve();
  });
}
