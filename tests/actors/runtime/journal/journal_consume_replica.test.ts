/**
 * A JetStream journal read whose consumers land on a replica that lacks records, against real
 * nats-servers: nats-server 2.9 places a read's ephemeral consumer on any peer of the stream, one
 * catching up after a restart too, whose copy of the stream starts later (after a snapshot from
 * the leader) or ends sooner. In the 3-node cluster test a taker read positions 5-7 of a channel
 * from such a copy as missing, read them again from the same copy, and rebuilt from the feed what
 * the stream held. Here the "replica" is a second server holding the same messages at the same
 * sequences, less its first ones and its last ones; the reads' single-message gets go to the
 * first server (the leader's copy). Every record comes out, in order, with no damage reported,
 * and a hole the leader's copy has too is still reported.
 */
import { suite } from "uvu";
import * as assert from "uvu/assert";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, type JetStreamManager, jetstreamManager } from "@nats-io/jetstream";
import { JetStreamJournal, type JournalDamage } from "../../../../actors/runtime/mod.ts";
import { COUNT_HEADER } from "../../../../actors/runtime/journal/jetstream/mod.ts";
import {
  consumeJournal,
  POS_HEADER,
} from "../../../../actors/runtime/journal/jetstream/_journal_consume.ts";
import { haveNatsServer, startTestNats } from "../../../_support/nats.ts";

const test = suite("journal read from a replica that lacks records");
const it = haveNatsServer("journal read from a lagging replica") ? test : test.skip;

type Server = Awaited<ReturnType<typeof startTestNats>>;
let leaderServer: Server | undefined;
let replicaServer: Server | undefined;
let leader: NatsConnection;
let replica: NatsConnection;

test.before(async () => {
  if (it === test.skip) return;
  leaderServer = await startTestNats();
  replicaServer = await startTestNats();
  leader = await connect({ servers: leaderServer.url });
  replica = await connect({ servers: replicaServer.url });
});

test.after(async () => {
  await leader?.close();
  await replica?.close();
  await leaderServer?.cleanup();
  await replicaServer?.cleanup();
});

/** Records of stats/a, interleaved with as many of stats/x (another instance's). */
const RECORDS = 30;

interface Copies {
  journal: JetStreamJournal;
  jsm: JetStreamManager;
  stream: string;
  prefix: string;
  /** The stream sequence of stats/a's last record. */
  lastSeq: number;
}

/**
 * Appends stats/a and stats/x by turns to a journal on the leader's server (stats/a's records in
 * runs of `run` a message, when given), deletes `holes` (stream sequences) there, and copies the
 * stream to the replica's server at the same sequences, less those below `firstSeq` and the last
 * `missingLast` messages (and the holes); then purges stats/a below `leaderPurgedBelow` on the
 * leader's server only.
 */
async function copies(
  name: string,
  replicaCopy: {
    firstSeq: number;
    missingLast: number;
    holes?: number[];
    leaderPurgedBelow?: number;
    run?: number;
  },
): Promise<Copies> {
  const prefix = `${name.toLowerCase()}.journal`;
  const journal = await JetStreamJournal.open(leader, { stream: name, subjectPrefix: prefix });
  const run = replicaCopy.run ?? 1;
  for (let i = 1; i <= RECORDS; i += run) {
    const records = Array.from({ length: run }, (_, k) => new TextEncoder().encode(`a ${i + k}`));
    await journal.appendMany("stats/a", records);
    await journal.append("stats/x", new TextEncoder().encode(`x ${i}`));
  }
  const jsm = await jetstreamManager(leader);
  for (const seq of replicaCopy.holes ?? []) await jsm.streams.deleteMessage(name, seq);
  const info = await jsm.streams.info(name);
  const rjsm = await jetstreamManager(replica);
  await rjsm.streams.add({ name, subjects: [`${prefix}.>`], allow_direct: true });
  const rjs = jetstream(replica);
  const end = info.state.last_seq - replicaCopy.missingLast;
  for (let seq = 1; seq <= end; seq++) {
    const m = await jsm.streams.getMessage(name, { seq });
    const h = headers();
    if (m) h.set(POS_HEADER, m.header.get(POS_HEADER));
    // Without its count, a run would read as one record of its packed bytes.
    if (m?.header.has(COUNT_HEADER)) h.set(COUNT_HEADER, m.header.get(COUNT_HEADER));
    // A hole is copied as a message deleted after: the sequences stay the leader's.
    const ack = await rjs.publish(m?.subject ?? `${prefix}.stats.gone`, m?.data, { headers: h });
    assert.is(ack.seq, seq, "the replica's copy keeps the leader's sequences");
    if (!m) await rjsm.streams.deleteMessage(name, seq);
  }
  if (replicaCopy.firstSeq > 1) await rjsm.streams.purge(name, { seq: replicaCopy.firstSeq });
  if (replicaCopy.leaderPurgedBelow) {
    // Compaction on the leader, which the replica's copy is behind.
    const filter = journal.subjectOf("stats/a");
    await jsm.streams.purge(name, { filter, seq: replicaCopy.leaderPurgedBelow });
  }
  // Run k of stats/a (position i alone, where runs are of 1) is stream sequence 2k - 1.
  return { journal, jsm, stream: name, prefix, lastSeq: 2 * (RECORDS / run) - 1 };
}

/**
 * Reads stats/a past `after` as recovery's whole-journal read does (`wide`) or as a read of the
 * one stream does: consumers on the replica, single-message gets from the leader.
 */
async function readA(
  c: Copies,
  options: { after: number; wide: boolean },
): Promise<{ read: string[]; damage: JournalDamage[] }> {
  const damage: JournalDamage[] = [];
  const subject = c.journal.subjectOf("stats/a");
  const records = consumeJournal({
    js: jetstream(replica),
    streamName: c.stream,
    maxPayload: 1 << 20,
    streamOf: (s) => c.journal.streamOf(s),
    damaged: (subject, offset, bytes, reason) =>
      damage.push({ segment: `${c.stream}:${subject}`, offset, bytes, reason }),
    next: (filter, seq) => {
      const query = { seq: Math.max(seq, 1), next_by_subj: filter };
      return c.jsm.streams.getMessage(c.stream, query);
    },
  }, {
    filter: options.wide ? `${c.prefix}.>` : subject,
    startSeq: 0,
    endSeq: options.wide ? (await c.jsm.streams.info(c.stream)).state.last_seq : c.lastSeq,
    keep: (stream, pos) => stream === "stats/a" && pos > options.after,
    wanted: new Map([[subject, { after: options.after, lastSeq: c.lastSeq }]]),
  });
  const read: string[] = [];
  for await (const rec of records) read.push(`${rec.pos}:${new TextDecoder().decode(rec.data)}`);
  return { read, damage };
}

const positions = (from: number, to: number, without: number[] = []) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i)
    .filter((p) => !without.includes(p))
    .map((p) => `${p}:a ${p}`);

it("a whole-journal read whose consumers' copy starts late yields every record of its streams, no damage", async () => {
  // The replica's copy starts at stats/a's position 11 (the cluster test's taker: 5-7 lost).
  const c = await copies("REPLICA_LATE", { firstSeq: 21, missingLast: 0 });
  try {
    const { read, damage } = await readA(c, { after: 2, wide: true });
    assert.equal(read, positions(3, RECORDS));
    assert.equal(damage, []);
  } finally {
    await c.journal.close();
  }
});

it("a read of one stream whose consumers' copy ends soon yields every record, no damage", async () => {
  // The replica's copy lacks stats/a's positions 29-30.
  const c = await copies("REPLICA_SOON", { firstSeq: 1, missingLast: 4 });
  try {
    const { read, damage } = await readA(c, { after: 0, wide: false });
    assert.equal(read, positions(1, RECORDS));
    assert.equal(damage, []);
  } finally {
    await c.journal.close();
  }
});

it("a read whose consumers' copy is behind a compaction and ends soon reports no damage below its start", async () => {
  // The leader purged stats/a's positions 1-15 (below sequence 31, position 16); the replica's
  // copy still holds 1-11 and nothing after.
  const c = await copies("REPLICA_PURGED", { firstSeq: 1, missingLast: 39, leaderPurgedBelow: 31 });
  try {
    const { read, damage } = await readA(c, { after: 15, wide: true });
    assert.equal(read, positions(16, RECORDS));
    assert.equal(damage, []);
  } finally {
    await c.journal.close();
  }
});

it("a hole the leader's copy has too is reported once, and the records around it come out", async () => {
  // Position 15 of stats/a is stream sequence 29, deleted on the leader (and so on the replica).
  const c = await copies("REPLICA_HOLE", { firstSeq: 21, missingLast: 4, holes: [29] });
  try {
    const { read, damage } = await readA(c, { after: 0, wide: true });
    assert.equal(read, positions(1, RECORDS, [15]));
    assert.is(damage.length, 1, JSON.stringify(damage));
    assert.match(damage[0]!.reason, /^position 15 missing before it/);
  } finally {
    await c.journal.close();
  }
});

it("records in runs, one message each: a read from a copy that starts late and ends soon yields those past a position inside a run", async () => {
  // Runs of 3: the replica's copy lacks stats/a's positions 1-12 and 28-30; the read is past 4.
  const c = await copies("REPLICA_RUNS", { firstSeq: 9, missingLast: 2, run: 3 });
  try {
    for (const wide of [true, false]) {
      const { read, damage } = await readA(c, { after: 4, wide });
      assert.equal(read, positions(5, RECORDS));
      assert.equal(damage, []);
    }
  } finally {
    await c.journal.close();
  }
});

it("records in runs: a run deleted on the leader is reported as its positions missing", async () => {
  // Run 4 of stats/a (positions 10-12) is stream sequence 7.
  const c = await copies("REPLICA_RUN_HOLE", { firstSeq: 9, missingLast: 2, run: 3, holes: [7] });
  try {
    const { read, damage } = await readA(c, { after: 4, wide: true });
    assert.equal(read, positions(5, RECORDS, [10, 11, 12]));
    assert.is(damage.length, 1, JSON.stringify(damage));
    assert.match(damage[0]!.reason, /^positions 10-12 missing before it/);
  } finally {
    await c.journal.close();
  }
});

test.run();
