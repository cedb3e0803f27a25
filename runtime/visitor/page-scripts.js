// What the service worker adds to a site's pages and workers' scripts: the shell's WebSocket
// (page-websocket.js), loaded before anything of the site's own, so that the site's sockets
// reach its server tab. Pure functions over the first bytes of a body, with a stream around
// them for the service worker.
//
// In a page, one <script src> goes right after the doctype (before it, the page would fall
// into quirks mode); with the page's Content-Security-Policy nonce, if it has one. In a
// worker's script, one statement goes on its first line (line numbers in the site's stack
// traces stay right), after a "use strict" directive if there is one.

export const PAGE_SCRIPT_PATH = "/__ps/page-websocket.js";

// A page whose doctype is not found in this many bytes gets the script at its very start.
const MAX_SCAN_BYTES = 16 * 1024;

const latin1 = new TextDecoder("latin1");
const BOM = "\u00ef\u00bb\u00bf"; // UTF-8's byte order mark, as latin1 reads it
const encoder = new TextEncoder();

/**
 * How a response is to be changed, from the request's destination and mode and the response's
 * headers ([name, value]): {kind: "page", nonce} | {kind: "worker", module} | null.
 */
export function injectionFor({ destination, mode }, headers) {
  const get = (name) =>
    headers.find(([key]) => key.toLowerCase() === name)?.[1]?.toLowerCase() ?? "";
  if (get("content-encoding") && get("content-encoding") !== "identity") return null;
  const type = get("content-type").split(";")[0].trim();
  if ((destination === "iframe" || destination === "frame") && type === "text/html") {
    if (/charset\s*=\s*"?utf-16/.test(get("content-type"))) return null;
    const csp = headers.find(([key]) => key.toLowerCase() === "content-security-policy")?.[1];
    const nonce = csp ? /'nonce-([A-Za-z0-9+/=_-]+)'/.exec(csp)?.[1] : undefined;
    return { kind: "page", nonce: nonce ?? null };
  }
  if (destination === "worker" && /(java|ecma)script/.test(type)) {
    // A module worker's script is fetched in "cors" mode, a classic one's in "same-origin".
    return { kind: "worker", module: mode === "cors" };
  }
  return null;
}

/**
 * Where in `bytes` (the start of a body) the addition goes, or null if more bytes are needed
 * to know.
 */
export function insertionPoint(bytes, injection, final = false) {
  const text = latin1.decode(bytes.subarray(0, MAX_SCAN_BYTES));
  const complete = final || bytes.length >= MAX_SCAN_BYTES;
  if (!complete && text.length < BOM.length && BOM.startsWith(text)) return null;
  return injection.kind === "page" ? afterDoctype(text, complete) : afterDirectives(text, complete);
}

/** The bytes added at the insertion point. */
export function addition(injection) {
  if (injection.kind === "page") {
    const nonce = injection.nonce ? ` nonce="${injection.nonce}"` : "";
    return encoder.encode(`<script src="${PAGE_SCRIPT_PATH}"${nonce}></script>`);
  }
  return encoder.encode(
    injection.module ? `import "${PAGE_SCRIPT_PATH}";` : `importScripts("${PAGE_SCRIPT_PATH}");`,
  );
}

/** `bytes` (a whole body) with the addition made. */
export function inject(bytes, injection) {
  const at = insertionPoint(bytes, injection, true);
  return splice(bytes, at, addition(injection));
}

/** A TransformStream that makes the addition in a streamed body. */
export function injecting(injection) {
  let head = new Uint8Array(0);
  let done = false;
  return new TransformStream({
    transform(chunk, controller) {
      if (done) {
        controller.enqueue(chunk);
        return;
      }
      head = splice(head, head.length, chunk);
      const at = insertionPoint(head, injection);
      if (at === null) return;
      done = true;
      controller.enqueue(splice(head, at, addition(injection)));
    },
    flush(controller) {
      if (!done) controller.enqueue(inject(head, injection));
    },
  });
}

function afterDoctype(text, complete) {
  let at = text.startsWith(BOM) ? BOM.length : 0;
  for (;;) {
    const rest = text.slice(at);
    const space = /^[\t\n\f\r ]+/.exec(rest);
    if (space) {
      at += space[0].length;
      continue;
    }
    if (rest.startsWith("<!--")) {
      const end = rest.indexOf("-->", 4);
      if (end < 0) return complete ? 0 : null;
      at += end + 3;
      continue;
    }
    if (/^<!doctype/i.test(rest) || (!complete && "<!doctype".startsWith(rest.toLowerCase()))) {
      const end = rest.indexOf(">");
      if (end < 0) return complete ? 0 : null;
      return at + end + 1;
    }
    if (!complete && rest.length < 4 && "<!--".startsWith(rest)) return null;
    return rest.length || complete ? insertBeforeContent(text) : null;
  }
}

/** No doctype: the script goes first (after the byte order mark), before any content. */
function insertBeforeContent(text) {
  return text.startsWith(BOM) ? BOM.length : 0;
}

function afterDirectives(text, complete) {
  const match =
    /^(?:\u00ef\u00bb\u00bf)?(\s|\/\/[^\n]*\n|\/\*[\s\S]*?\*\/)*(['"])use strict\2[ \t]*;?/.exec(
      text,
    );
  if (match) return match[0].length;
  if (!complete && text.length < 64) return null; // the directive may still be coming
  return insertBeforeContent(text);
}

function splice(bytes, at, added) {
  const out = new Uint8Array(bytes.length + added.length);
  out.set(bytes.subarray(0, at));
  out.set(added, at);
  out.set(bytes.subarray(at), at + added.length);
  return out;
}
