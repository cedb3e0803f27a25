// A visitor's identity to the server tabs it visits: a DTLS certificate (RTCCertificate) made
// once and kept in this origin's IndexedDB. Its private key cannot be read out of the browser,
// and the peer connection proves that the visitor holds it, so the server tab can keep the
// visitor's HttpOnly cookies by its fingerprint (server_py/cookies.py): a page script can still
// make requests from this browser, as with a real HttpOnly cookie, but cannot read the cookies
// or carry them to another browser.

import { openDatabase, requestDone } from "../idb.js";

const DATABASE = "peerserver-identity";
const STORE = "certificates";
const KEY = "dtls";
const LIFETIME_MS = 365 * 24 * 3600 * 1000;
const RENEW_BEFORE_MS = 24 * 3600 * 1000;

/**
 * The certificate this browser shows every server tab of this site. A new one is made (and
 * the HttpOnly cookies of the old one are left behind, as when cookies expire) when there is
 * none, when it is about to expire, or when this browser cannot keep one.
 */
export async function visitorCertificate() {
  let database = null;
  try {
    database = await openDatabase(DATABASE, 1, (db) => db.createObjectStore(STORE));
    const kept = await requestDone(database.transaction(STORE).objectStore(STORE).get(KEY));
    if (kept && kept.expires - Date.now() > RENEW_BEFORE_MS) return kept;
  } catch (error) {
    console.warn("PeerServer: no lasting identity in this browser:", error);
  }
  const certificate = await RTCPeerConnection.generateCertificate({
    name: "ECDSA",
    namedCurve: "P-256",
    expires: LIFETIME_MS,
  });
  // Kept while the connection is made with it: a new visitor's first page need not wait for
  // the write (if it fails, the next visit makes another, as when there is none).
  const notKept = (error) => console.warn("PeerServer: the identity could not be kept:", error);
  try {
    const store = database?.transaction(STORE, "readwrite").objectStore(STORE);
    if (store) requestDone(store.put(certificate, KEY)).catch(notKept);
  } catch (error) {
    notKept(error);
  }
  return certificate;
}

/** "sha-256:<hex>" of the DTLS certificate an SDP names, or "" if it names none. */
export function sdpIdentity(sdp) {
  const match = /^a=fingerprint:sha-256 ([0-9A-Fa-f:]{95})\s*$/m.exec(
    typeof sdp === "string" ? sdp : "",
  );
  return match ? `sha-256:${match[1].replaceAll(":", "").toLowerCase()}` : "";
}
