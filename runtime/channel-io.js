// Sending bytes on an RTCDataChannel the way both ends of PeerServer do: in messages of at
// most MAX_MESSAGE_BYTES (protocol/channels.js) and only while the channel's send buffer is
// below a high-water mark, so that a large body never piles up in memory.

import { MAX_MESSAGE_BYTES } from "./protocol/channels.js";

export const HIGH_WATER = 1024 * 1024;
export const LOW_WATER = 256 * 1024;

/** Resolve once `channel` has room for more (its buffered amount is below the high-water mark). */
export function whenWritable(channel) {
  if (channel.bufferedAmount < HIGH_WATER || channel.readyState !== "open") {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    channel.bufferedAmountLowThreshold = LOW_WATER;
    const done = () => {
      channel.removeEventListener("bufferedamountlow", done);
      channel.removeEventListener("close", done);
      resolve();
    };
    channel.addEventListener("bufferedamountlow", done);
    channel.addEventListener("close", done);
  });
}

/** Send `bytes` in messages of at most MAX_MESSAGE_BYTES, waiting for buffer room between them. */
export async function sendBytes(channel, bytes) {
  for (let offset = 0; offset < bytes.length; offset += MAX_MESSAGE_BYTES) {
    await whenWritable(channel);
    if (channel.readyState !== "open") throw new Error("the connection closed while sending");
    channel.send(bytes.subarray(offset, offset + MAX_MESSAGE_BYTES));
  }
}

/** Open a channel and resolve when it is open (or reject if it closes first). */
export function opened(channel, timeoutMs = 10000) {
  if (channel.readyState === "open") return Promise.resolve(channel);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the data channel did not open")), timeoutMs);
    channel.addEventListener(
      "open",
      () => {
        clearTimeout(timer);
        resolve(channel);
      },
      { once: true },
    );
    channel.addEventListener(
      "close",
      () => {
        clearTimeout(timer);
        reject(new Error("the data channel closed before it opened"));
      },
      { once: true },
    );
  });
}
