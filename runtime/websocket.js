// The client's side of a WebSocket (RFC 6455), with no I/O of its own (like wsproto): the
// opening handshake's request and the check of its answer, and frames both ways. A visitor's
// shell speaks it on a data channel of its own for each of its pages' sockets
// (visitor/site-sockets.js); the server tab's Python speaks the server's side
// (server_py/websocket.py).
//
// `WebSocketFrames.receive(bytes)` returns events: {type: "message", data: string|Uint8Array},
// {type: "close", code, reason} (the server closed, or answered our close), {type: "write",
// bytes} (what the protocol itself answers: a pong, the closing handshake's reply), and
// {type: "fail", code, reason} (the server broke the protocol: the socket fails, and the caller
// closes the connection after writing the close frame that comes with it).

import { concat, encodeRequestHead } from "./http1.js";

export const CONNECTING = 0;
export const OPEN = 1;
export const CLOSING = 2;
export const CLOSED = 3;

const GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
const OPCODES = { continuation: 0, text: 1, binary: 2, close: 8, ping: 9, pong: 10 };
// What a page may be sent in one message before the socket fails with 1009: more than any
// browser page handles well as one event.
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

const encoder = new TextEncoder();

/** Random bytes, from the platform's CSPRNG (a handshake key, a frame's mask). */
function randomBytes(count) {
  return crypto.getRandomValues(new Uint8Array(count));
}

function base64(bytes) {
  return btoa(String.fromCharCode(...bytes));
}

/**
 * The opening handshake's request (RFC 6455 4.1): resolves to {bytes, accept}, where `accept`
 * is the Sec-WebSocket-Accept the server must answer with. `headers` are the other request
 * headers ([name, value]: Origin, Cookie, User-Agent).
 */
export async function handshakeRequest({ target, host, protocols = [], headers = [] }) {
  const key = base64(randomBytes(16));
  const all = [
    ["Upgrade", "websocket"],
    ["Connection", "Upgrade"],
    ["Sec-WebSocket-Key", key],
    ["Sec-WebSocket-Version", "13"],
    ...(protocols.length ? [["Sec-WebSocket-Protocol", protocols.join(", ")]] : []),
    ...headers,
  ];
  const bytes = encodeRequestHead({ method: "GET", target, host, headers: all, upgrade: true });
  return { bytes, accept: await acceptFor(key) };
}

/** The Sec-WebSocket-Accept for `key`: base64(SHA-1(key + GUID)). */
export async function acceptFor(key) {
  const digest = await crypto.subtle.digest("SHA-1", encoder.encode(key + GUID));
  return base64(new Uint8Array(digest));
}

/**
 * Check the server's answer to the handshake, as a browser does (RFC 6455 4.1, the client's
 * requirements): returns {protocol, extensions} or throws an Error that says what was wrong.
 */
export function checkHandshake({ status, headers }, { accept, protocols }) {
  const get = (name) =>
    headers
      .filter(([key]) => key.toLowerCase() === name)
      .map(([, value]) => value)
      .join(", ");
  if (status !== 101) throw new Error(`the server answered ${status} instead of 101`);
  if (get("upgrade").toLowerCase() !== "websocket")
    throw new Error("the server's answer has no 'Upgrade: websocket'");
  const connection = get("connection").toLowerCase().split(",");
  if (!connection.some((token) => token.trim() === "upgrade"))
    throw new Error("the server's answer has no 'Connection: Upgrade'");
  if (get("sec-websocket-accept") !== accept)
    throw new Error("the server's Sec-WebSocket-Accept does not match the key");
  const protocol = get("sec-websocket-protocol");
  if (protocol && !protocols.includes(protocol))
    throw new Error(`the server chose a subprotocol not offered: ${protocol}`);
  const extensions = get("sec-websocket-extensions");
  if (extensions) throw new Error(`the server chose extensions not offered: ${extensions}`);
  return { protocol, extensions: "" };
}

/** Whether a page may close a socket with `code` (the WebSocket API's rule). */
export function isPageCloseCode(code) {
  return code === 1000 || (code >= 3000 && code <= 4999);
}

/** Whether a close frame may carry `code` (RFC 6455 7.4 and IANA's registry). */
function isWireCloseCode(code) {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}

class ProtocolFailure extends Error {
  constructor(code, reason) {
    super(reason);
    this.code = code;
  }
}

/** Frames after the handshake: what the client sends (masked) and what it receives. */
export class WebSocketFrames {
  constructor({ maxMessageBytes = MAX_MESSAGE_BYTES } = {}) {
    this.maxMessageBytes = maxMessageBytes;
    this.buffer = new Uint8Array(0);
    this.fragments = null; // {opcode, pieces, size} of a message that came in fragments
    this.closeSent = false;
    this.closeReceived = false;
    this.failed = false;
    this.textDecoder = new TextDecoder("utf-8", { fatal: true });
  }

  /** A whole message: a string is sent as text, bytes as binary. */
  encodeMessage(data) {
    return typeof data === "string"
      ? frame(OPCODES.text, encoder.encode(data))
      : frame(OPCODES.binary, data);
  }

  /** Our close frame (the start of the closing handshake, or the answer to the server's). */
  encodeClose(code, reason = "") {
    this.closeSent = true;
    if (code === undefined) return frame(OPCODES.close, new Uint8Array(0));
    const text = encoder.encode(reason);
    const payload = new Uint8Array(2 + text.length);
    payload[0] = code >> 8;
    payload[1] = code & 0xff;
    payload.set(text, 2);
    return frame(OPCODES.close, payload);
  }

  /** Bytes from the server; returns the events they complete. */
  receive(bytes) {
    if (this.failed || this.closeReceived) return [];
    this.buffer = concat(this.buffer, bytes);
    const events = [];
    try {
      for (;;) {
        const parsed = this.nextFrame();
        if (!parsed) break;
        this.take(parsed, events);
        if (this.closeReceived) break;
      }
    } catch (error) {
      if (!(error instanceof ProtocolFailure)) throw error;
      this.failed = true;
      events.push({ type: "fail", code: error.code, reason: error.message });
      if (!this.closeSent) events.push({ type: "write", bytes: this.encodeClose(error.code) });
    }
    return events;
  }

  nextFrame() {
    const buffer = this.buffer;
    if (buffer.length < 2) return null;
    const fin = (buffer[0] & 0x80) !== 0;
    if (buffer[0] & 0x70) throw new ProtocolFailure(1002, "reserved bits set with no extension");
    const opcode = buffer[0] & 0x0f;
    if (buffer[1] & 0x80) throw new ProtocolFailure(1002, "a frame from the server was masked");
    let length = buffer[1] & 0x7f;
    let offset = 2;
    if (length === 126) {
      if (buffer.length < 4) return null;
      length = (buffer[2] << 8) | buffer[3];
      offset = 4;
    } else if (length === 127) {
      if (buffer.length < 10) return null;
      const view = new DataView(buffer.buffer, buffer.byteOffset + 2, 8);
      const high = view.getUint32(0);
      if (high >= 0x200000) throw new ProtocolFailure(1009, "a frame longer than 2^53 bytes");
      length = high * 2 ** 32 + view.getUint32(4);
      offset = 10;
    }
    if (opcode >= 8) {
      if (!fin) throw new ProtocolFailure(1002, "a fragmented control frame");
      if (length > 125) throw new ProtocolFailure(1002, "a control frame over 125 bytes");
    } else if (opcode > 2) {
      throw new ProtocolFailure(1002, `unknown opcode ${opcode}`);
    }
    const pending = (this.fragments?.size ?? 0) + length;
    if (opcode < 8 && pending > this.maxMessageBytes)
      throw new ProtocolFailure(1009, `a message over ${this.maxMessageBytes} bytes`);
    if (buffer.length < offset + length) return null;
    const payload = buffer.slice(offset, offset + length);
    this.buffer = buffer.subarray(offset + length);
    return { fin, opcode, payload };
  }

  take({ fin, opcode, payload }, events) {
    if (opcode === OPCODES.ping) {
      if (!this.closeSent) events.push({ type: "write", bytes: frame(OPCODES.pong, payload) });
    } else if (opcode === OPCODES.pong) {
      // Unsolicited pongs are allowed, and need no answer.
    } else if (opcode === OPCODES.close) {
      this.closeReceived = true;
      const { code, reason } = this.parseClose(payload);
      if (!this.closeSent)
        events.push({ type: "write", bytes: this.encodeClose(code === 1005 ? undefined : code) });
      events.push({ type: "close", code, reason });
    } else if (opcode === OPCODES.continuation) {
      if (!this.fragments) throw new ProtocolFailure(1002, "a continuation with no message");
      this.fragments.pieces.push(payload);
      this.fragments.size += payload.length;
      if (fin) events.push(this.finishMessage());
    } else {
      if (this.fragments) throw new ProtocolFailure(1002, "a new message inside a fragmented one");
      this.fragments = { opcode, pieces: [payload], size: payload.length };
      if (fin) events.push(this.finishMessage());
    }
  }

  finishMessage() {
    const { opcode, pieces, size } = this.fragments;
    this.fragments = null;
    const bytes = pieces.length === 1 ? pieces[0] : concatAll(pieces, size);
    if (opcode === OPCODES.binary) return { type: "message", data: bytes };
    try {
      return { type: "message", data: this.textDecoder.decode(bytes) };
    } catch {
      throw new ProtocolFailure(1007, "a text message that is not UTF-8");
    }
  }

  parseClose(payload) {
    if (payload.length === 0) return { code: 1005, reason: "" };
    if (payload.length === 1) throw new ProtocolFailure(1002, "a close frame of one byte");
    const code = (payload[0] << 8) | payload[1];
    if (!isWireCloseCode(code)) throw new ProtocolFailure(1002, `the close code ${code}`);
    try {
      return { code, reason: this.textDecoder.decode(payload.subarray(2)) };
    } catch {
      throw new ProtocolFailure(1007, "a close reason that is not UTF-8");
    }
  }
}

/** One whole frame from the client: FIN set, masked with a fresh key (RFC 6455 5.3). */
function frame(opcode, payload) {
  const length = payload.length;
  const lengthBytes = length < 126 ? 0 : length < 65536 ? 2 : 8;
  const out = new Uint8Array(2 + lengthBytes + 4 + length);
  out[0] = 0x80 | opcode;
  if (lengthBytes === 0) out[1] = 0x80 | length;
  else if (lengthBytes === 2) {
    out[1] = 0x80 | 126;
    out[2] = length >> 8;
    out[3] = length & 0xff;
  } else {
    out[1] = 0x80 | 127;
    const view = new DataView(out.buffer, 2, 8);
    view.setUint32(0, Math.floor(length / 2 ** 32));
    view.setUint32(4, length >>> 0);
  }
  const maskAt = 2 + lengthBytes;
  const mask = randomBytes(4);
  out.set(mask, maskAt);
  const body = maskAt + 4;
  for (let i = 0; i < length; i++) out[body + i] = payload[i] ^ mask[i & 3];
  return out;
}

function concatAll(pieces, size) {
  const out = new Uint8Array(size);
  let offset = 0;
  for (const piece of pieces) {
    out.set(piece, offset);
    offset += piece.length;
  }
  return out;
}
