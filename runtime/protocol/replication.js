// The protocol between a serving tab and one of its standbys, over a data channel of their own
// (label "replica": runtime/protocol/channels.js), ordered and reliable. The standby opens the
// peer connection (its offer goes over signaling to the serving tab, tagged by the service with
// its member id); the site's content travels only here, never through the service.
//
// Messages are a JSON header and binary blobs (files' contents), cut into frames of at most
// 64 KiB: each frame starts with one byte, MORE or LAST, and a message is its frames' payloads
// joined: [u32 header length][header JSON][blobs, back to back, their sizes in header.blobs].
//
// Serving tab -> standby:
//   snapshot {epoch, seq, settings, files: [{root, path, mode, timestamp, blob?}]}: the whole
//     site (both trees, site-files.js) as of change `seq`: the standby's copy is replaced by it
//   change {epoch, seq, put: [{root, path, mode, timestamp, blob?}], remove: [{root, path}],
//     settings?}: what one change of the site did (what the serving tab kept in its own
//     IndexedDB: site-store.js), or the owner's settings (time limit, age), numbered from the
//     snapshot's seq on
// Standby -> serving tab:
//   hello {where}: first, what browser it is
//   ack {epoch, seq}: its copy holds every change up to `seq`, kept (IndexedDB committed)
//   resync {reason}: its copy cannot follow (a change out of order): send a snapshot
// `blob` is the index of a file's contents in the message's blobs. Everything a standby receives
// is checked (site-store.js's checkChanges) before it is kept: a serving tab runs a stranger's
// code as readily as its owner's.

import { MAX_MESSAGE_BYTES } from "./channels.js";
import { ChangeError, checkChanges } from "../server-tab/site-store.js";

export const MORE = 1;
export const LAST = 0;
// The messages' types. Serving tab -> standby:
export const SNAPSHOT = "snapshot";
export const CHANGE = "change";
// Standby -> serving tab:
export const HELLO = "hello";
export const ACK = "ack";
export const RESYNC = "resync";
// A snapshot holds the whole site: as much as a request body may be (the README's 512 MiB).
export const MAX_REPLICATION_BYTES = 512 * 1024 * 1024;
const MAX_HEADER_BYTES = 64 * 1024 * 1024;

export class ReplicationError extends Error {}

/** The frames of one message: `header` (JSON) and `blobs` (Uint8Array) after it. */
export function encode(header, blobs = []) {
  const json = new TextEncoder().encode(
    JSON.stringify({ ...header, blobs: blobs.map((b) => b.length) }),
  );
  const size = 4 + json.length + blobs.reduce((sum, blob) => sum + blob.length, 0);
  const whole = new Uint8Array(size);
  new DataView(whole.buffer).setUint32(0, json.length);
  whole.set(json, 4);
  let offset = 4 + json.length;
  for (const blob of blobs) {
    whole.set(blob, offset);
    offset += blob.length;
  }
  const frames = [];
  const payload = MAX_MESSAGE_BYTES - 1;
  for (let start = 0; start < size; start += payload) {
    const part = whole.subarray(start, Math.min(size, start + payload));
    const frame = new Uint8Array(part.length + 1);
    frame[0] = start + payload >= size ? LAST : MORE;
    frame.set(part, 1);
    frames.push(frame);
  }
  return frames;
}

/** Joins frames into messages: `feed(frame)` returns {header, blobs} once one is whole, else
 * null; throws ReplicationError at anything that is not this protocol. */
export class MessageReader {
  constructor(maxBytes = MAX_REPLICATION_BYTES) {
    this.maxBytes = maxBytes;
    this.parts = [];
    this.size = 0;
  }

  feed(frame) {
    const bytes = frame instanceof ArrayBuffer ? new Uint8Array(frame) : frame;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0 || bytes[0] > MORE) {
      throw new ReplicationError("not a frame of the replication protocol");
    }
    this.size += bytes.length - 1;
    if (this.size > this.maxBytes) throw new ReplicationError("a message too large");
    this.parts.push(bytes.subarray(1));
    if (bytes[0] === MORE) return null;
    const whole = join(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    return split(whole);
  }
}

function join(parts, size) {
  if (parts.length === 1) return parts[0];
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
}

function split(whole) {
  if (whole.length < 4) throw new ReplicationError("a message without its header");
  const length = new DataView(whole.buffer, whole.byteOffset, whole.length).getUint32(0);
  if (length > MAX_HEADER_BYTES || 4 + length > whole.length) {
    throw new ReplicationError("a header longer than its message");
  }
  let header;
  try {
    header = JSON.parse(
      new TextDecoder("utf-8", { fatal: true }).decode(whole.subarray(4, 4 + length)),
    );
  } catch {
    throw new ReplicationError("a header that is not JSON");
  }
  if (!isObject(header) || typeof header.type !== "string" || !Array.isArray(header.blobs)) {
    throw new ReplicationError("a header without its type or blobs");
  }
  const blobs = [];
  let offset = 4 + length;
  for (const size of header.blobs) {
    if (!Number.isInteger(size) || size < 0 || offset + size > whole.length) {
      throw new ReplicationError("blobs that do not fit their message");
    }
    blobs.push(whole.subarray(offset, offset + size));
    offset += size;
  }
  if (offset !== whole.length) throw new ReplicationError("bytes after the last blob");
  return { header, blobs };
}

// -- the messages ------------------------------------------------------------------------

/** The site as of change `seq`: `files` ({root, path, mode, timestamp, contents?}). */
export function snapshotMessage({ epoch, seq, settings, files }) {
  const blobs = [];
  const entries = files.map(({ root, path, mode, timestamp, contents }) => ({
    root,
    path,
    mode,
    timestamp,
    ...(contents === undefined ? {} : { blob: blobs.push(contents) - 1 }),
  }));
  return encode({ type: SNAPSHOT, epoch, seq, settings, files: entries }, blobs);
}

/** Change `seq`: checked changes (site-store.js) and, or, the owner's settings. */
export function changeMessage({ epoch, seq, changes = { put: [], remove: [] }, settings }) {
  const blobs = [];
  const put = changes.put.map(({ root, path, mode, timestamp, contents }) => ({
    root,
    path,
    mode,
    timestamp,
    ...(contents === undefined ? {} : { blob: blobs.push(contents) - 1 }),
  }));
  const remove = changes.remove.map(({ root, path }) => ({ root, path }));
  return encode(
    { type: CHANGE, epoch, seq, put, remove, ...(settings ? { settings } : {}) },
    blobs,
  );
}

export const helloMessage = (where) => encode({ type: HELLO, where: String(where).slice(0, 200) });
export const ackMessage = (epoch, seq) => encode({ type: ACK, epoch, seq });
export const resyncMessage = (reason) => encode({ type: RESYNC, reason: String(reason) });

/**
 * A message from the serving tab, as a standby takes it: {type: "snapshot", epoch, seq,
 * settings, files} or {type: "change", epoch, seq, changes: {put, remove}, settings}, the files
 * checked (site-store.js) and given their contents. Throws ReplicationError otherwise.
 */
export function parseFromServing({ header, blobs }) {
  const { type, epoch, seq } = header;
  if (!(type === SNAPSHOT || type === CHANGE)) {
    throw new ReplicationError(`not a message for a standby: ${JSON.stringify(type).slice(0, 40)}`);
  }
  if (!isCount(epoch) || !isCount(seq)) throw new ReplicationError("a bad epoch or seq");
  const settings = header.settings === undefined ? undefined : checkSettings(header.settings);
  const withContents = (entries) => {
    if (!Array.isArray(entries)) throw new ReplicationError("files must be a list");
    return entries.map((entry) => {
      if (!isObject(entry)) throw new ReplicationError("a file must be an object");
      const { blob, ...rest } = entry;
      if (blob === undefined) return rest;
      if (!Number.isInteger(blob) || blob < 0 || blob >= blobs.length) {
        throw new ReplicationError("a file's contents are missing");
      }
      return { ...rest, contents: blobs[blob] };
    });
  };
  let changes;
  try {
    const put = withContents(type === SNAPSHOT ? header.files : header.put);
    changes = checkChanges({ put, remove: type === SNAPSHOT ? [] : header.remove });
  } catch (error) {
    if (error instanceof ChangeError) throw new ReplicationError(`a bad file: ${error.message}`);
    throw error;
  }
  if (type === SNAPSHOT) {
    if (settings === undefined) throw new ReplicationError("a snapshot without its settings");
    return { type, epoch, seq, settings, files: changes.put };
  }
  return { type, epoch, seq, changes, settings };
}

/** A message from a standby, as the serving tab takes it; throws ReplicationError. */
export function parseFromStandby({ header }) {
  if (header.type === HELLO)
    return { type: HELLO, where: String(header.where ?? "").slice(0, 200) };
  if (header.type === RESYNC)
    return { type: RESYNC, reason: String(header.reason ?? "").slice(0, 200) };
  if (header.type === ACK && isCount(header.epoch) && isCount(header.seq)) {
    return { type: ACK, epoch: header.epoch, seq: header.seq };
  }
  throw new ReplicationError("not a message of a standby");
}

/** The owner's settings of a site that travel with it: {timeLimitMs, created} (ms). */
export function checkSettings(settings) {
  if (!isObject(settings)) throw new ReplicationError("settings must be an object");
  const { timeLimitMs, created } = settings;
  if (!(Number.isInteger(timeLimitMs) && timeLimitMs >= 1000 && timeLimitMs <= 3_600_000)) {
    throw new ReplicationError("a bad time limit");
  }
  if (!(Number.isFinite(created) && created > 0)) throw new ReplicationError("a bad age");
  return { timeLimitMs, created };
}

function isCount(value) {
  return Number.isSafeInteger(value) && value >= 0;
}

function isObject(value) {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
