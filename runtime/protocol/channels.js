// The protocol between a visitor (the client shell, or `peerserver tunnel`) and a server tab,
// over the data channels of their peer connection. signaling/tunnel/channels.py writes the same
// in Python; tests/signaling/test_channel_protocol.py checks that both ends agree.
//
// Channels, by label:
//   "control": one per peer connection, JSON text messages both ways:
//     server tab -> visitor: {type: "hello", name}; {type: "moved"}: another tab serves the
//       site now (a planned move): requests in flight here are answered, new ones go there;
//       {type: "lost", channels: [{id, answer}]}: the server tab's Python restarted, and these
//       "http" channels (by id) lost their server: the visitor closes them, and a request on one
//       that still waits for its response's head gets `answer` (a whole HTTP/1.1 response, as
//       text; null: none) instead
//     visitor -> server tab: {type: "window", channel: <an http channel's id>, bytes} (the
//       visitor's page read `bytes` more of that channel's responses: see receive-window.js)
//   "http": any number, each one HTTP/1.1 connection: plain request bytes from the visitor,
//     response bytes from the server tab, in binary messages (channel-io.js).
// An "http" channel's protocol string says how its visitor wants it served:
//   "<scheme>[; httponly=server][; window]": the scheme the visitor sees ("http" or "https");
//   "httponly=server": the server tab keeps the visitor's HttpOnly cookies (a browser visitor,
//   known by its certificate; a tunnel's clients keep their own); "window": the visitor grants
//   a window of bytes on the control channel, and the server tab sends no further.
//
// Between a serving tab and its standby, one channel labelled "replica" carries the site's copy
// (runtime/protocol/replication.js).

export const CONTROL = "control";
export const HTTP = "http";
export const REPLICA = "replica";
/** The largest id a data channel can have (an SCTP stream's). */
export const MAX_STREAM_ID = 65535;

/** The most bytes in one binary message on a channel (the size that measured fastest on
 * loopback): bodies are cut, and a server tab's responses made, in pieces this big. Python's
 * writing of it is server_py/wsgi.py's MAX_CHUNK. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/**
 * @typedef {object} ChannelProtocol
 * @property {"http"|"https"} scheme
 * @property {boolean} httpOnlyByServer
 * @property {boolean} window
 */

/** The protocol string of an "http" channel. @param {ChannelProtocol} protocol */
export function formatChannelProtocol({ scheme, httpOnlyByServer = false, window = false }) {
  return [
    scheme,
    ...(httpOnlyByServer ? ["httponly=server"] : []),
    ...(window ? ["window"] : []),
  ].join("; ");
}

/** What an "http" channel's protocol string asks; anything unknown is ignored, and a scheme
 * other than "https" is "http". @returns {ChannelProtocol} */
export function parseChannelProtocol(text) {
  const [scheme, ...parameters] = String(text)
    .split(";")
    .map((part) => part.trim());
  return {
    scheme: scheme === "https" ? "https" : "http",
    httpOnlyByServer: parameters.includes("httponly=server"),
    window: parameters.includes("window"),
  };
}

/** The control channel's greeting from a server tab. */
export function hello(name) {
  return JSON.stringify({ type: "hello", name });
}

/** The control channel's word that the site is served by another tab now. */
export const MOVED = JSON.stringify({ type: "moved" });

/** The control channel's word that the "http" channels `channels` ([{id, answer}]) lost
 * their server. */
export function lost(channels) {
  return JSON.stringify({ type: "lost", channels });
}

/**
 * What a visitor takes of a server tab's control message: {type: "hello"}, {type: "moved"},
 * {type: "lost", channels: [{id, answer}]} (ids that can be a data channel's, 0 to
 * MAX_STREAM_ID, and answers that are text or null; anything else in the list is left out),
 * or null for anything else.
 */
export function parseServerControl(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return null;
  }
  const type = message?.type;
  if (type === "hello" || type === "moved") return { type };
  if (type !== "lost" || !Array.isArray(message.channels)) return null;
  const channels = message.channels.filter(
    (channel) =>
      Number.isInteger(channel?.id) &&
      channel.id >= 0 &&
      channel.id <= MAX_STREAM_ID &&
      (channel.answer === null || typeof channel.answer === "string"),
  );
  return { type, channels: channels.map(({ id, answer }) => ({ id, answer })) };
}

/** A visitor's grant of `bytes` more on the "http" channel `channel` (its id). */
export function windowGrant(channel, bytes) {
  return JSON.stringify({ type: "window", channel, bytes });
}

/**
 * A control message as a server tab takes it: {type: "window", channel, bytes} with a channel
 * id and a byte count (checked again by the window itself), or null for anything else.
 */
export function parseControl(text) {
  let message;
  try {
    message = JSON.parse(text);
  } catch {
    return null; // not ours to understand
  }
  if (message?.type !== "window" || !Number.isInteger(message.channel)) return null;
  return { type: "window", channel: message.channel, bytes: message.bytes };
}
