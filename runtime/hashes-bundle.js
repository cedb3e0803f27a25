// The entry point esbuild bundles into the runtime bundle's hashes.js (see signaling/bundle/):
// synchronous key derivation for server_py.shims, which gives Pyodide's hashlib the
// pbkdf2_hmac and scrypt its build lacks. Bytes in and out are Uint8Arrays.

import { sha1 } from "@noble/hashes/legacy.js";
import { pbkdf2 } from "@noble/hashes/pbkdf2.js";
import { scrypt } from "@noble/hashes/scrypt.js";
import { sha224, sha256, sha384, sha512 } from "@noble/hashes/sha2.js";

const HASHES = { sha1, sha224, sha256, sha384, sha512 };

export const peerserverHashes = {
  pbkdf2: (name, password, salt, iterations, dkLen) =>
    pbkdf2(HASHES[name], password, salt, { c: iterations, dkLen }),
  scrypt: (password, salt, N, r, p, dkLen) =>
    scrypt(password, salt, { N, r, p, dkLen, maxmem: 2 ** 31 }),
};
