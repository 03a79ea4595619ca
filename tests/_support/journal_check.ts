/**
 * Test support: checks a leased cluster's JetStream journal (a stream a partition,
 * `TROUPE_JOURNAL_P<n>`) against its feed stream after hosts were killed, paused or stopped: every
 * frame in its channel's journal exactly once, and the writers' epochs never going down along a
 * journal subject (at most one writer at a time).
 */
import * as assert from "uvu/assert";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { FEED_STREAM, JetStreamJournal } from "../../actors/runtime/mod.ts";
import {
  decodeInputRecord,
  PARTITION_JOURNAL_SUBJECT_PREFIX,
  voidedRange,
} from "../../protocol/mod.ts";

/** The partitions' journal streams. */
const PARTITION_JOURNAL = /^TROUPE_JOURNAL_P\d+$/;

/**
 * What a journal check saw: frames the feed stream holds, frames the journals still hold, and how
 * far the journals' positions reached (compaction drops records, never positions).
 */
export interface JournalCheck {
  /** Frames in the feed stream, every channel's. */
  fed: number;
  /** Frames journaled since the first record compaction kept, every channel's. */
  journaled: number;
  /** The last position of each channel's journal, summed: the records it ever took. */
  positions: number;
}

/**
 * Waits until `checkJournal` passes: the hosts holding the channels have applied the feed's last
 * frames (a host that just claimed or recovered a partition catches up on a loaded machine in its
 * own time). Throws the check's last error, naming what is missing, after `timeoutMs`.
 */
export async function untilJournaled(
  url: string | string[],
  what: string,
  timeoutMs: number,
): Promise<JournalCheck> {
  for (const t0 = Date.now();; await new Promise((r) => setTimeout(r, 1000))) {
    try {
      return await checkJournal(url, what);
    } catch (err) {
      if (Date.now() - t0 > timeoutMs) throw err;
    }
  }
}

/**
 * Checks the journal against the feed, read through `url` (or any of several): every frame of
 * the feed in its channel's stats journal exactly once (from the first record compaction kept),
 * positions without a hole, and epochs that never go down along a subject.
 */
export async function checkJournal(url: string | string[], what: string): Promise<JournalCheck> {
  const nc = await connect({ servers: url });
  try {
    const fed = await feedSequences(nc);
    const journals = await partitionJournals(nc);
    // A channel's journal is its partition's: the one stream that holds it.
    const journalOf = (stream: string) =>
      journals.find((j) => j.journal.lastPosition(stream) > 0)?.journal ?? journals[0]!.journal;
    let total = 0;
    let fedTotal = 0;
    let positions = 0;
    for (const [channel, seqs] of fed) {
      fedTotal += seqs.length;
      // A hole the host found on recovery it voided (a void record) and read again from the feed:
      // the frames of voided positions do not count, what was applied again does.
      const frames: Array<{ pos: number; srcPos: number }> = [];
      const voided: Array<{ from: number; to: number }> = [];
      const records: string[] = []; // what a failure names: pos:srcPos, pos:void(from..to)
      let lastPos = 0;
      for await (const rec of journalOf(`stats/${channel}`).read(`stats/${channel}`)) {
        lastPos = rec.pos;
        const r = decodeInputRecord(rec.data);
        if (r.kind === "frame") frames.push({ pos: rec.pos, srcPos: r.srcPos });
        if (r.kind === "void") voided.push(voidedRange(r));
        records.push(
          r.kind === "void"
            ? `${rec.pos}:void(${voidedRange(r).from}..${voidedRange(r).to})`
            : `${rec.pos}:${r.kind === "frame" ? r.srcPos : r.kind}`,
        );
      }
      const journaled = frames
        .filter((f) => !voided.some((v) => f.pos >= v.from && f.pos <= v.to))
        .map((f) => f.srcPos);
      const doubled = journaled.filter((s, i) => journaled.indexOf(s) !== i);
      assert.equal(doubled, [], `${what}: ${channel}: frames journaled twice`);
      const have = new Set(journaled);
      const from = journaled[0] ?? Infinity;
      const lost = seqs.filter((s) => s >= from && !have.has(s));
      assert.equal(
        lost,
        [],
        `${what}: ${channel}: ${lost.length} of ${seqs.length} frames never journaled (${
          lost[0]
        }..${lost.at(-1)}; journaled ${from} to ${journaled.at(-1)}; records ${records.join(" ")})`,
      );
      total += journaled.length;
      positions += lastPos;
    }
    for (const { journal } of journals) await journal.close();
    let epochs = 0;
    for (const { stream } of journals) epochs += await checkEpochs(nc, stream, what);
    assert.ok(epochs > 0, `${what}: no journal record carries an epoch`);
    return { fed: fedTotal, journaled: total, positions };
  } finally {
    await nc.close();
  }
}

/** Every partition's journal, as its stream names it. */
async function partitionJournals(
  nc: NatsConnection,
): Promise<Array<{ stream: string; journal: JetStreamJournal }>> {
  const jsm = await jetstreamManager(nc);
  const out: Array<{ stream: string; journal: JetStreamJournal }> = [];
  for await (const stream of jsm.streams.names()) {
    if (!PARTITION_JOURNAL.test(stream)) continue;
    const p = stream.slice("TROUPE_JOURNAL_P".length);
    const subjectPrefix = `${PARTITION_JOURNAL_SUBJECT_PREFIX}.${p}`;
    out.push({ stream, journal: await JetStreamJournal.open(nc, { stream, subjectPrefix }) });
  }
  assert.ok(out.length > 0, "no partition's journal stream");
  return out;
}

/**
 * Along each subject of journal stream `stream`, the Troupe-Epoch never goes down. The subjects
 * whose records carry one.
 */
async function checkEpochs(nc: NatsConnection, stream: string, what: string): Promise<number> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(stream);
  const last = new Map<string, number>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await jsm.streams.getMessage(stream, { seq }).catch(() => null);
    const epoch = Number(m?.header?.get("Troupe-Epoch") ?? NaN);
    if (!m || !Number.isFinite(epoch)) continue;
    const before = last.get(m.subject) ?? 0;
    assert.ok(
      epoch >= before,
      `${what}: ${m.subject}: a record of epoch ${epoch} at stream sequence ${seq} after one of epoch ${before}: two writers`,
    );
    last.set(m.subject, epoch);
  }
  return last.size;
}

/** The stream sequence of every frame in the feed stream, by channel. */
async function feedSequences(nc: NatsConnection): Promise<Map<string, number[]>> {
  const jsm = await jetstreamManager(nc);
  const info = await jsm.streams.info(FEED_STREAM);
  const out = new Map<string, number[]>();
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = (await jsm.streams.getMessage(FEED_STREAM, { seq }))!;
    const channel = m.subject.split(".").at(-1)!;
    let list = out.get(channel);
    if (!list) out.set(channel, list = []);
    list.push(seq);
  }
  return out;
}
