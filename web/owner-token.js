// The owner token of a server name, kept in this browser: whoever holds it may register the
// name again (after a reload, say), and nobody else can take it over.

const key = (name) => `peerserver.owner-token.${name}`;

/** The token this browser holds for `name`, or null. */
export function storedToken(name) {
  return localStorage.getItem(key(name));
}

/** The token for `name`, created (and kept) if this browser has none yet. */
export function ownerToken(name) {
  let token = storedToken(name);
  if (!token) {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    token = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
    localStorage.setItem(key(name), token);
  }
  return token;
}
