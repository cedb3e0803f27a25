// HTTP/1.1 for the client side of a data channel, with no I/O of its own (like h11).
//
// `encodeRequestHead` turns a request into bytes; `ResponseParser` turns the bytes that come
// back into events: {type: "head", status, statusText, headers}, {type: "data", bytes},
// {type: "end", keepAlive}. Bodies are framed by Content-Length, chunked encoding, or the end
// of the connection, as RFC 9112 says.

const encoder = new TextEncoder();
const decoder = new TextDecoder("latin1");
const CRLF = new Uint8Array([13, 10]);
const MAX_HEAD_BYTES = 64 * 1024;

// Headers the shell sets itself; anything the page asked for is passed on unchanged.
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "te",
  "upgrade",
  "host",
  "content-length",
  "trailer",
  "proxy-connection",
]);

/**
 * The request line and headers of one request, ending in the blank line.
 * `headers` is an iterable of [name, value]; `bodyLength` null means no body, "chunked" a body
 * of a length not known yet (sent with encodeChunk, then LAST_CHUNK). With `upgrade`, the
 * request asks to switch protocols, and its Connection and Upgrade headers go as given.
 */
export function encodeRequestHead({ method, target, host, headers, bodyLength, upgrade = false }) {
  let head = `${method} ${target} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const [name, value] of headers) {
    const lower = name.toLowerCase();
    const kept = upgrade && (lower === "connection" || lower === "upgrade");
    if (kept || !HOP_BY_HOP.has(lower)) head += `${name}: ${value}\r\n`;
  }
  if (bodyLength === "chunked") head += "Transfer-Encoding: chunked\r\n";
  else if (bodyLength !== null && bodyLength !== undefined)
    head += `Content-Length: ${bodyLength}\r\n`;
  return encoder.encode(`${head}\r\n`);
}

/** One piece of a chunked body (RFC 9112, 7.1); `bytes` must not be empty. */
export function encodeChunk(bytes) {
  return concat(encoder.encode(`${bytes.length.toString(16)}\r\n`), concat(bytes, CRLF));
}

/** The end of a chunked body. */
export const LAST_CHUNK = encoder.encode("0\r\n\r\n");

export class HttpParseError extends Error {}

/** Parses the responses of one connection, one request at a time. */
export class ResponseParser {
  constructor() {
    this.buffer = new Uint8Array(0);
    this.state = "idle";
  }

  /**
   * Get ready for the response to a request made with `method`. With `upgrade`, the request
   * asked to switch protocols: a 101 answer is a "head" event, then an "upgraded" event with
   * whatever bytes came after it, and the parser takes no more.
   */
  expect(method, { upgrade = false } = {}) {
    if (this.state !== "idle") throw new Error("a response is still being parsed");
    this.method = method.toUpperCase();
    this.upgrade = upgrade;
    this.state = "head";
  }

  /** Whether the response's head is still to come (what came of it, if anything, is dropped
   * by `dropPartialHead`, when another answer takes its place). */
  get awaitingHead() {
    return this.state === "head";
  }

  dropPartialHead() {
    if (this.state === "head") this.buffer = new Uint8Array(0);
  }

  /** Feed bytes from the connection; returns the events they complete. */
  feed(bytes) {
    this.buffer = concat(this.buffer, bytes);
    const events = [];
    for (;;) {
      const before = events.length;
      const progressed = this.step(events);
      if (!progressed && events.length === before) return events;
    }
  }

  /** The connection closed: a body framed by the close ends here, anything else is cut short. */
  close() {
    if (this.state === "until-close") {
      this.state = "idle";
      return [{ type: "end", keepAlive: false }];
    }
    if (this.state === "idle") return [];
    throw new HttpParseError("the connection closed in the middle of a response");
  }

  step(events) {
    switch (this.state) {
      case "head":
        return this.parseHead(events);
      case "length":
        return this.readLength(events);
      case "chunk-size":
        return this.readChunkSize();
      case "chunk-data":
        return this.readChunkData(events);
      case "chunk-end":
        return this.readChunkEnd();
      case "trailers":
        return this.readTrailers(events);
      case "upgraded":
        return false;
      case "until-close":
        if (!this.buffer.length) return false;
        events.push({ type: "data", bytes: this.take(this.buffer.length) });
        return true;
      default:
        if (this.buffer.length) throw new HttpParseError("bytes arrived with no request waiting");
        return false;
    }
  }

  parseHead(events) {
    const end = indexOf(this.buffer, [13, 10, 13, 10]);
    if (end < 0) {
      if (this.buffer.length > MAX_HEAD_BYTES) throw new HttpParseError("response head too large");
      return false;
    }
    const lines = decoder
      .decode(this.take(end + 4))
      .split("\r\n")
      .slice(0, -2);
    const match = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(lines[0]);
    if (!match) throw new HttpParseError(`bad status line: ${JSON.stringify(lines[0])}`);
    const status = Number(match[1]);
    const headers = [];
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) throw new HttpParseError(`bad header line: ${JSON.stringify(line)}`);
      headers.push([line.slice(0, colon).trim(), line.slice(colon + 1).trim()]);
    }
    if (status === 101 && this.upgrade) {
      events.push({ type: "head", status, statusText: match[2] || "", headers });
      events.push({ type: "upgraded", bytes: this.take(this.buffer.length) });
      this.state = "upgraded";
      return false;
    }
    if (status >= 100 && status < 200) return true; // interim response: the real one follows
    const get = (name) => headers.find(([key]) => key.toLowerCase() === name)?.[1];
    this.keepAlive = !(get("connection") || "")
      .toLowerCase()
      .split(",")
      .some((token) => token.trim() === "close");
    events.push({ type: "head", status, statusText: match[2] || "", headers });
    const transferEncoding = (get("transfer-encoding") || "").toLowerCase();
    if (this.method === "HEAD" || status === 204 || status === 304) {
      this.finish(events);
    } else if (
      transferEncoding
        .split(",")
        .map((t) => t.trim())
        .includes("chunked")
    ) {
      this.state = "chunk-size";
    } else if (get("content-length") !== undefined) {
      this.remaining = Number(get("content-length"));
      if (!Number.isSafeInteger(this.remaining) || this.remaining < 0) {
        throw new HttpParseError(`bad Content-Length: ${get("content-length")}`);
      }
      this.state = "length";
      if (this.remaining === 0) this.finish(events);
    } else {
      this.keepAlive = false;
      this.state = "until-close";
    }
    return true;
  }

  readLength(events) {
    if (!this.buffer.length) return false;
    const bytes = this.take(Math.min(this.remaining, this.buffer.length));
    this.remaining -= bytes.length;
    events.push({ type: "data", bytes });
    if (this.remaining === 0) this.finish(events);
    return true;
  }

  readChunkSize() {
    const end = indexOf(this.buffer, CRLF);
    if (end < 0) return false;
    const line = decoder.decode(this.take(end + 2)).slice(0, -2);
    const size = parseInt(line.split(";")[0].trim(), 16);
    if (Number.isNaN(size) || size < 0) throw new HttpParseError(`bad chunk size: ${line}`);
    if (size === 0) {
      this.state = "trailers";
    } else {
      this.remaining = size;
      this.state = "chunk-data";
    }
    return true;
  }

  readChunkData(events) {
    if (!this.buffer.length) return false;
    const bytes = this.take(Math.min(this.remaining, this.buffer.length));
    this.remaining -= bytes.length;
    events.push({ type: "data", bytes });
    if (this.remaining === 0) this.state = "chunk-end";
    return true;
  }

  readChunkEnd() {
    if (this.buffer.length < 2) return false;
    this.take(2);
    this.state = "chunk-size";
    return true;
  }

  readTrailers(events) {
    const end = indexOf(this.buffer, CRLF);
    if (end < 0) return false;
    this.take(end + 2);
    if (end === 0) this.finish(events); // the blank line after any trailers
    return true;
  }

  finish(events) {
    this.state = "idle";
    events.push({ type: "end", keepAlive: this.keepAlive });
  }

  take(count) {
    const bytes = this.buffer.slice(0, count);
    this.buffer = this.buffer.subarray(count);
    return bytes;
  }
}

/** The bytes of `a` followed by those of `b` (`b` itself when `a` is empty). */
export function concat(a, b) {
  if (!a.length) return b;
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

function indexOf(haystack, needle) {
  outer: for (let i = 0; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
