// Replication between a serving tab and its standbys, with no browser: the replica channel's
// protocol (runtime/protocol/replication.js, under property tests: a standby takes what a tab
// running a stranger's code sends), the serving tab's log (runtime/server-tab/replication.js)
// and the standby's rules (runtime/server-tab/replica.js); the serving tab's standbys
// (runtime/server-tab/standbys.js) before they have a connection.

import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";

import {
  ackMessage,
  changeMessage,
  encode,
  helloMessage,
  LAST,
  MessageReader,
  MORE,
  parseFromServing,
  parseFromStandby,
  ReplicationError,
  snapshotMessage,
} from "../../runtime/protocol/replication.js";
import { Replica } from "../../runtime/server-tab/replica.js";
import { ReplicationLog } from "../../runtime/server-tab/replication.js";
import { Standbys } from "../../runtime/server-tab/standbys.js";
import { browserName } from "../../runtime/server-tab/standing-by.js";

const FILE = 0o100644;
const DIRECTORY = 0o040755;
const SETTINGS = { timeLimitMs: 30000, created: 1_700_000_000_000 };

/** The one message `frames` make, read as a standby reads them. */
function read(frames, reader = new MessageReader()) {
  const messages = frames.map((frame) => reader.feed(frame)).filter(Boolean);
  assert.equal(messages.length, 1);
  return messages[0];
}

// -- the protocol ----------------------------------------------------------------------------

test("a snapshot and a change come through whole, however large, in frames of 64 KiB", () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const files = [
    {
      root: "site",
      path: "app.py",
      mode: FILE,
      timestamp: 5,
      contents: new TextEncoder().encode("app"),
    },
    { root: "site", path: "templates", mode: DIRECTORY, timestamp: 6 },
    { root: "state", path: "cookies/jar", mode: FILE, timestamp: 7, contents: big },
  ];
  const frames = snapshotMessage({ epoch: 3, seq: 9, settings: SETTINGS, files });
  assert.ok(frames.length > 3 && frames.every((frame) => frame.length <= 64 * 1024));
  assert.deepEqual(
    frames.map((frame) => frame[0]),
    [...frames.slice(1).map(() => MORE), LAST],
  );
  const snapshot = parseFromServing(read(frames));
  assert.deepEqual(
    { ...snapshot, files: snapshot.files.map(({ contents, ...rest }) => rest) },
    {
      type: "snapshot",
      epoch: 3,
      seq: 9,
      settings: SETTINGS,
      files: files.map(({ contents, ...rest }) => rest),
    },
  );
  assert.deepEqual(snapshot.files[2].contents, big);
  const change = parseFromServing(
    read(
      changeMessage({
        epoch: 3,
        seq: 10,
        changes: { put: [files[0]], remove: [{ root: "site", path: "old.py" }] },
        settings: { ...SETTINGS, timeLimitMs: 5000 },
      }),
    ),
  );
  assert.equal(change.type, "change");
  assert.deepEqual(change.changes.remove, [{ root: "site", path: "old.py" }]);
  assert.deepEqual(new TextDecoder().decode(change.changes.put[0].contents), "app");
  assert.equal(change.settings.timeLimitMs, 5000);
  assert.deepEqual(parseFromStandby(read(ackMessage(3, 10))), { type: "ack", epoch: 3, seq: 10 });
  assert.equal(
    parseFromStandby(read(helloMessage("Firefox 153 on Linux"))).where,
    "Firefox 153 on Linux",
  );
});

test("what a standby is sent is checked: paths out of the site, bad numbers, missing blobs", () => {
  const change =
    (header, blobs = []) =>
    () =>
      parseFromServing(read(encode(header, blobs)));
  const base = { type: "change", epoch: 1, seq: 2, remove: [] };
  const put = (entry) => ({
    ...base,
    put: [{ root: "site", mode: FILE, timestamp: 1, blob: 0, ...entry }],
  });
  const bytes = [new Uint8Array(1)];
  for (const bad of [
    change(put({ path: "../other/app.py" }), bytes),
    change(put({ path: "app.py", root: "web" }), bytes),
    change(put({ path: "app.py", blob: 1 }), bytes),
    change({ ...base, epoch: -1, put: [] }),
    change({ ...base, seq: 1.5, put: [] }),
    change({ ...base, type: "ack", put: [] }),
    change({ ...base, put: [], settings: { timeLimitMs: 0, created: 1 } }),
    change({ type: "snapshot", epoch: 1, seq: 1, files: [] }), // no settings
  ]) {
    assert.throws(bad, ReplicationError);
  }
  assert.throws(() => parseFromStandby(read(encode({ type: "snapshot" }))), ReplicationError);
});

test("any bytes on the channel are a message, or a ReplicationError: never anything else", () => {
  fc.assert(
    fc.property(
      fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 6 }),
      fc.anything(),
      (frames, header) => {
        const reader = new MessageReader(4096);
        const take = (frame) => {
          const whole = reader.feed(frame);
          if (whole) parseFromServing(whole);
        };
        for (const frame of [...frames, ...encode({ type: "change", ...Object(header) })]) {
          try {
            take(frame);
          } catch (error) {
            if (!(error instanceof ReplicationError)) throw error;
          }
        }
      },
    ),
  );
});

test("a message larger than the reader allows is refused before it is held", () => {
  const reader = new MessageReader(100_000);
  const frames = changeMessage({
    epoch: 1,
    seq: 1,
    changes: {
      put: [
        { root: "site", path: "big", mode: FILE, timestamp: 1, contents: new Uint8Array(200_000) },
      ],
      remove: [],
    },
  });
  assert.throws(() => {
    for (const frame of frames) reader.feed(frame);
  }, /too large/);
});

// -- the serving tab's log -------------------------------------------------------------------

test("a write waits for the standbys in sync, and for those being declared", () => {
  const log = new ReplicationLog({ waitMs: 1000 });
  log.attach("s1", "Firefox", 0);
  log.acked("s1", 0, 10); // its snapshot
  assert.equal(log.fencing, false); // nobody in sync yet: nothing waits
  assert.deepEqual(log.nextDeclaration(), ["s1"]);
  assert.equal(log.nextDeclaration(), null); // one at a time
  assert.equal(log.fencing, true); // the service may know it already
  const seq = log.append();
  assert.deepEqual(log.unconfirmed(seq), ["s1"]);
  log.synced(["s1"]);
  log.acked("s1", seq, 20);
  assert.deepEqual(log.unconfirmed(seq), []);
  assert.deepEqual(
    log.describe().map(({ state, behind }) => [state, behind]),
    [["in sync", 0]],
  );
});

test("a standby that keeps a write waiting is declared out, and in again once it caught up", () => {
  const log = new ReplicationLog({ waitMs: 1000 });
  log.attach("s1", "Firefox", 0);
  log.attach("s2", "Chrome", 0);
  log.acked("s1", 0, 1);
  log.acked("s2", 0, 1);
  log.synced(log.nextDeclaration());
  const seq = log.append();
  log.acked("s1", seq, 100);
  assert.deepEqual(log.overdue(seq, 0, 999), []); // not yet
  assert.deepEqual(log.overdue(seq, 0, 1000), ["s2"]);
  assert.deepEqual(log.overdue(seq, 0, 2000), []); // said once
  assert.deepEqual(log.unconfirmed(seq), ["s2"]); // until the service agrees
  assert.deepEqual(log.nextDeclaration(), ["s1"]);
  assert.deepEqual(log.unconfirmed(seq), ["s2"]); // the old set still counts, meanwhile
  log.synced(["s1"]);
  assert.deepEqual(log.unconfirmed(seq), []);
  assert.equal(log.describe().find((s) => s.member === "s2").state, "lagging");
  log.acked("s2", seq, 3000);
  assert.deepEqual(log.nextDeclaration().sort(), ["s1", "s2"]);
});

test("a declaration with no answer counts both sets; a new lease counts none", () => {
  const log = new ReplicationLog();
  log.attach("s1", "Firefox", 0);
  log.acked("s1", 0, 1);
  log.nextDeclaration();
  log.unanswered();
  assert.deepEqual([...log.mustConfirm], ["s1"]);
  log.restart();
  assert.equal(log.fencing, false);
  assert.equal(log.standbys.size, 0);
});

test("a standby that leaves is declared out at once, and writes wait for the service's word", () => {
  const log = new ReplicationLog();
  log.attach("s1", "Firefox", 0);
  log.acked("s1", 0, 1);
  log.synced(log.nextDeclaration());
  log.detach("s1");
  const seq = log.append();
  assert.deepEqual(log.unconfirmed(seq), ["s1"]);
  assert.deepEqual(log.nextDeclaration(), []);
  log.synced([]);
  assert.deepEqual(log.unconfirmed(seq), []);
});

test("under any order of events, no answered write misses a standby the service may promote", () => {
  // The model: the service's in-sync set changes when a declaration reaches it, and the tab
  // hears so later (or never: the answer is lost); a write is answered once nobody the tab
  // counts is missing it; every standby the service holds in sync then must have it.
  const member = fc.constantFrom("a", "b");
  const event = fc.oneof(
    fc.constant({ kind: "write" }),
    fc.record({ kind: fc.constant("ack"), member }),
    fc.constant({ kind: "declare" }),
    fc.constant({ kind: "service-receives" }),
    fc.constant({ kind: "service-answers" }),
    fc.constant({ kind: "answer-lost" }),
    fc.constant({ kind: "late" }),
    fc.record({ kind: fc.constant("leave"), member }),
    fc.record({ kind: fc.constant("join"), member }),
  );
  fc.assert(
    fc.property(fc.array(event, { maxLength: 60, size: "max" }), (events) => {
      const log = new ReplicationLog({ waitMs: 10 });
      const copies = { a: -1, b: -1 }; // what each standby's copy holds
      let serviceSet = [];
      let inFlight = null; // a declaration on its way
      let received = false; // whether the service has it
      let answered = 0; // the last write answered
      let now = 0;
      const waiting = [];
      for (const e of events) {
        now += 5;
        if (e.kind === "write") waiting.push({ seq: log.append(), since: now });
        if (e.kind === "join" && !log.standbys.has(e.member)) {
          log.attach(e.member, "", now);
          copies[e.member] = log.seq; // its snapshot
        }
        if (e.kind === "leave") log.detach(e.member);
        if (e.kind === "ack" && log.standbys.has(e.member)) {
          copies[e.member] = log.seq;
          log.acked(e.member, log.seq, now);
        }
        if (e.kind === "late") for (const w of waiting) log.overdue(w.seq, w.since, now);
        if (e.kind === "declare" && inFlight === null) inFlight = log.nextDeclaration();
        if (e.kind === "service-receives" && inFlight !== null && !received) {
          serviceSet = inFlight;
          received = true;
        }
        if (e.kind === "service-answers" && received) {
          log.synced(inFlight);
          [inFlight, received] = [null, false];
        }
        if (e.kind === "answer-lost" && inFlight !== null) {
          log.unanswered();
          [inFlight, received] = [null, false];
        }
        for (const w of [...waiting]) {
          if (log.unconfirmed(w.seq).length) continue;
          waiting.splice(waiting.indexOf(w), 1);
          answered = Math.max(answered, w.seq);
        }
        for (const standby of serviceSet) {
          assert.ok(copies[standby] >= answered, `${standby} misses answered write ${answered}`);
        }
      }
    }),
    { numRuns: 500 },
  );
});

// -- the standby's rules ---------------------------------------------------------------------

test("a standby keeps its epoch's snapshot and changes in order, and refuses an ended epoch", () => {
  const replica = new Replica();
  assert.equal(replica.announced(2), true);
  assert.equal(replica.announced(2), false);
  assert.deepEqual(replica.check({ type: "change", epoch: 2, seq: 1 }), {
    resync: "a change before its snapshot",
  });
  assert.deepEqual(replica.check({ type: "snapshot", epoch: 2, seq: 7 }), { keep: true });
  assert.deepEqual(replica.kept({ type: "snapshot", epoch: 2, seq: 7 }), { epoch: 2, seq: 7 });
  assert.deepEqual(replica.check({ type: "change", epoch: 2, seq: 8 }), { keep: true });
  assert.ok(replica.check({ type: "change", epoch: 2, seq: 9 }).resync); // 8 never came
  assert.equal(replica.announced(3), true); // another tab serves now
  assert.ok(replica.check({ type: "change", epoch: 2, seq: 8 }).refuse);
  assert.ok(replica.check({ type: "snapshot", epoch: 2, seq: 8 }).refuse);
  assert.equal(replica.announced(2), false); // an old announcement, late
  assert.deepEqual(replica.check({ type: "snapshot", epoch: 3, seq: 0 }), { keep: true });
});

test("a standby names its browser for the owner's list", () => {
  const chrome =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
  assert.equal(browserName(chrome), "Chrome 156 on Linux");
  assert.equal(
    browserName("Mozilla/5.0 (X11; Linux x86_64; rv:153.0) Gecko/20100101 Firefox/153.0"),
    "Firefox 153 on Linux",
  );
  assert.equal(
    browserName(`${chrome} Edg/156.0.0.0`.replace("X11; Linux x86_64", "Windows NT 10.0")),
    "Edge 156 on Windows",
  );
  assert.equal(
    browserName(
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Version/18.0 Safari/605.1.15",
    ),
    "Safari 18 on macOS",
  );
  assert.equal(browserName("curl/8"), "A browser");
});

test("a standby's offer that comes before the promoted tab knows its epoch is answered then", async () => {
  // A planned move: the tab that served offers as a standby of the promoted one while that one
  // still keeps what its copy received, before it serves in its epoch.
  const standbys = new Standbys({
    signaling: { send() {} },
    ice: {},
    exclusive: async (run) => run(),
    loadSite: async () => ({}),
    settings: () => ({}),
    declare: async () => [],
  });
  const heard = [];
  standbys.peers = {
    answer: async (client, offer) => heard.push(["offer", client, offer.type]),
    candidate: (client, candidate) => heard.push(["candidate", client, candidate]),
    drop() {},
  };
  const offer = { sdp: { type: "offer", sdp: "v=0" } };
  await standbys.signal("old-tab", "member-1", offer);
  await standbys.signal("old-tab", "member-1", { candidate: "a candidate" });
  assert.deepEqual(heard, []);
  standbys.serveIn(2);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.deepEqual(heard, [
    ["offer", "old-tab", "offer"],
    ["candidate", "old-tab", "a candidate"],
  ]);
  standbys.stop();
  await standbys.signal("another", "member-2", offer);
  standbys.stop(); // what came while serving in no epoch is forgotten when it stops again
  standbys.serveIn(3);
  await new Promise((resolve) => setTimeout(resolve, 0));
  assert.equal(heard.length, 2);
});
