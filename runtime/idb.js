// IndexedDB's requests and transactions as promises: the little every store here needs.

/** The result of an IDBRequest (an IDBOpenDBRequest too). */
export function requestDone(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(said(request.error));
  });
}

/** Resolves when `transaction` has committed; rejects if it fails or is aborted. */
export function transactionDone(transaction) {
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve();
    transaction.onerror = () => reject(said(transaction.error));
    transaction.onabort = () => reject(said(transaction.error));
  });
}

/** IndexedDB's failures are DOMExceptions whose message may be empty (a full quota's is, in
 * Chromium): an Error that says which one it was. */
function said(error) {
  if (!error) return new Error("the transaction was aborted");
  const name = error.name ?? "Error";
  return new Error(error.message ? `${name}: ${error.message}` : name);
}

/** Open database `name` at `version`; `upgrade(db, transaction)` makes its stores. */
export function openDatabase(name, version, upgrade) {
  const opening = indexedDB.open(name, version);
  opening.onupgradeneeded = () => upgrade(opening.result, opening.transaction);
  return requestDone(opening);
}
