/**
 * Reading a JetStream journal: a range of the journal's stream, through an ordered consumer, as
 * records with their positions (the `Troupe-Pos` header, the first record's where a message holds
 * several: _journal_message.ts); holes in a subject's positions and unreadable messages are
 * reported as damage, not read as data. Private to the runtime: the JetStream journal
 * (jetstream_journal.ts) is its one user.
 */
import { DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { JournalCorruptError, type JournalRecord } from "../journal.ts";
import { retryJetStream } from "../../transport/mod.ts";
import { readCount, unpackRecords } from "./_journal_message.ts";
import type { GotMessage } from "../../transport/mod.ts";

/** The header that carries a record's position. */
export const POS_HEADER = "Troupe-Pos";
/** Records read between yields to the event loop. */
const READ_YIELD_EVERY = 256;
/** Milliseconds without a message after which a read's consumer is taken for stalled. */
const STALL_MS = 2000;
/** Stalls in a row (no record read between them) a read goes on after before it fails. */
const STALL_RESTARTS_MAX = 20;

/** What a read needs of the journal it reads. */
export interface JournalReading {
  js: JetStreamClient;
  streamName: string;
  /** The server's largest message: reads pull at least twice that many bytes at a time. */
  maxPayload: number;
  /** The journal stream of a subject, or undefined for a subject that is not the journal's. */
  streamOf(subject: string): string | undefined;
  damaged(subject: string, seq: number, bytes: number, reason: string): void;
  /** The first message of `filter` at or after `seq` as the stream's leader holds it (or null). */
  next(filter: string, seq: number): Promise<GotMessage | null>;
}

/** Which messages a read covers, and which records of them it yields. */
export interface JournalRange {
  filter: string;
  startSeq: number;
  endSeq: number;
  keep: (stream: string, pos: number) => boolean;
  /**
   * The subjects whose records past `after` must all come out, with the stream sequence of each
   * one's last message as the journal knows it (0: unknown). Only these are checked for holes; in
   * a read wider than them, the others are passed over unchecked (see `consumeJournal`).
   */
  wanted?: ReadonlyMap<string, { after: number; lastSeq: number }>;
}

/** A record as read, with its subject and the stream sequence of the message holding it. */
interface ReadRecord {
  subject: string;
  stream: string;
  pos: number;
  seq: number;
  data: Uint8Array;
}

/**
 * Reads `filter` from `startSeq` (0: the first message) through `endSeq` with an ordered consumer,
 * yielding the records `keep` takes; a record whose position cannot be read, or a subject whose
 * positions skip, is reported to `damaged`.
 *
 * nats-server 2.9 moves every consumer whose filter covers a purged subject to the purge's
 * sequence, so a read of the whole journal (recovery's) is carried past records of its own
 * subjects when another host compacts its subjects meanwhile: positions seemed to skip, or a
 * stream's tail seemed lost, and a takeover rebuilt from the feed what its journal still held.
 * Where `wanted` names the subjects the read is for, a skip in one of them, or a tail short of its
 * known last message, is read again from that subject alone (a consumer no other subject's purge
 * moves) before it counts as damage.
 *
 * A consumer reads the copy of the stream on whichever peer nats-server placed it, and that may be
 * a node catching up after a restart: its copy can start later than the stream (after a snapshot
 * from the leader) or end sooner. The 3-node cluster test's takers read positions 5-7 of a channel
 * from such a copy as missing, twice (the subject's own consumer landed there too), and rebuilt
 * from the feed what the stream held. So what that second read still lacks (past its first skip,
 * or short of the subject's known last message) is read from the stream's leader, one message at
 * a time, and only a hole the leader has too counts as damage.
 */
export async function* consumeJournal(
  j: JournalReading,
  range: JournalRange,
): AsyncIterable<JournalRecord> {
  const { keep, wanted } = range;
  // Per subject, the position and sequence of its last message read: a later one must follow it.
  const last = new Map<string, { pos: number; seq: number }>();
  const took = (r: ReadRecord): boolean => {
    last.set(r.subject, { pos: r.pos, seq: r.seq });
    return keep(r.stream, r.pos);
  };
  // Reports the positions past `after` missing before `r` of its subject, as the stream holds it.
  // Those at or below `after` are not wanted: compaction may have purged them (while a replica
  // behind the purge still gave the read some).
  const skipped = (r: ReadRecord, after: number): void => {
    const before = last.get(r.subject)?.pos;
    if (before === undefined) return;
    const from = Math.max(before, after) + 1;
    if (r.pos <= from) return;
    const what = r.pos === from + 1 ? `position ${from}` : `positions ${from}-${r.pos - 1}`;
    j.damaged(r.subject, r.seq, 0, `${what} missing before it: deleted from ${j.streamName}`);
  };
  // The position after which `subject`'s records must all come out.
  const floor = (subject: string, after: number) => Math.max(last.get(subject)?.pos ?? 0, after);
  // The stream sequence after which `subject` is read on.
  const readTo = (subject: string) => last.get(subject)?.seq ?? range.startSeq - 1;
  // Reads `subject` alone from after what was read of it up to `endSeq`: through a consumer of its
  // own up to a skip in its positions, then the rest from the leader.
  const again = async function* (subject: string, endSeq: number, after: number) {
    const one = { filter: subject, startSeq: Math.max(readTo(subject) + 1, 1), endSeq };
    for await (const r of consumeRange(j, one, { patient: false })) {
      if (r.pos > floor(subject, after) + 1) break; // its copy may lack these too
      if (r.pos > (last.get(subject)?.pos ?? 0) && took(r)) yield recordOf(r);
    }
    for (let seq = readTo(subject) + 1;;) {
      const m = await j.next(subject, Math.max(seq, 1));
      if (!m || m.seq > endSeq) return;
      seq = m.seq + 1;
      const records = readRecords(j, { subject: m.subject, seq: m.seq, h: m.header, data: m.data });
      for (const r of records) {
        if (r.pos <= (last.get(subject)?.pos ?? 0)) continue;
        skipped(r, after);
        if (took(r)) yield recordOf(r);
      }
    }
  };
  for await (const r of consumeRange(j, range)) {
    const w = wanted?.get(r.subject);
    if (wanted && !w) {
      if (keep(r.stream, r.pos)) yield recordOf(r);
      continue;
    }
    if (w && r.pos > floor(r.subject, w.after) + 1) yield* again(r.subject, r.seq - 1, w.after);
    skipped(r, w?.after ?? 0);
    if (took(r)) yield recordOf(r);
  }
  for (const [subject, w] of wanted ?? []) {
    const seq = Math.min(w.lastSeq, range.endSeq);
    if (seq > readTo(subject)) yield* again(subject, seq, w.after);
  }
}

function recordOf(r: ReadRecord): JournalRecord {
  return { stream: r.stream, pos: r.pos, data: r.data };
}

/**
 * The readable records of `filter` from `startSeq` through `endSeq`, in stream order, through an
 * ordered consumer; an unreadable position is reported to `damaged` and passed over. A consumer
 * a purge moved can also stop delivering for good (nats-server 2.9): after `STALL_MS` without a
 * message, while the stream still holds one of `filter` in the range, the read goes on from a new
 * consumer after the last record read.
 */
async function* consumeRange(
  j: JournalReading,
  range: { filter: string; startSeq: number; endSeq: number },
  options: { patient: boolean } = { patient: true },
): AsyncIterable<ReadRecord> {
  const { filter, endSeq } = range;
  let from = range.startSeq;
  // Stalls in a row, without a record read between them.
  for (let stalls = 0;; stalls++) {
    if (endSeq < Math.max(from, 1)) return;
    if (stalls > 0) {
      // The caller reads the rest another way.
      if (!options.patient) return;
      const next = (await j.next(filter, from))?.seq;
      if (next === undefined || next > endSeq) return;
      if (stalls > STALL_RESTARTS_MAX) {
        throw new Error(
          `Cannot read ${filter} of ${j.streamName}: its consumer stalled ${STALL_RESTARTS_MAX} ` +
            `times at stream sequence ${from} (the stream holds ${next})`,
        );
      }
    }
    // nats-server 2.9 may place the consumer on a node that is down: its create times out, and
    // another may land elsewhere.
    const consumer = await retryJetStream(
      `read ${filter} of ${j.streamName}`,
      () =>
        j.js.consumers.get(j.streamName, {
          filter_subjects: filter,
          ...(from > 0
            ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: from }
            : { deliver_policy: DeliverPolicy.All }),
        }),
      { repeatable: true },
    );
    // Its copy holds nothing from there (as of its creation): the caller reads the rest another
    // way, rather than wait out a stall.
    if (!options.patient && (await consumer.info(true)).num_pending === 0) return;
    // Pull by bytes: large batches for small records, never stalled by one large record.
    const messages = await consumer.consume({ max_bytes: Math.max(8 << 20, 2 * j.maxPayload) });
    const it = messages[Symbol.asyncIterator]();
    let read = 0;
    try {
      for (;;) {
        const step = await nextWithin(it, STALL_MS);
        if (step === undefined) break; // stalled: a new consumer from `from`
        if (step.done) return;
        const m = step.value;
        if (m.seq > endSeq) return;
        from = m.seq + 1;
        stalls = 0;
        // A long read (recovery) lets timers run now and then: a lease renewal must not wait.
        if (++read % READ_YIELD_EVERY === 0) await new Promise((r) => setTimeout(r, 0));
        yield* readRecords(j, { subject: m.subject, seq: m.seq, h: m.headers, data: m.data });
        if (m.seq >= endSeq || m.info.pending === 0) return;
      }
    } finally {
      // The iterator is ended as a for-of would: close() alone waits for it to be read to the end.
      const closing = messages.close();
      await it.return?.();
      await closing;
    }
  }
}

/**
 * The journal records in a message of the stream, the first at its position and each next one at
 * the next; none for a message of another subject or one that cannot be read (its position, its
 * count or its records: reported to `damaged`).
 */
function readRecords(
  j: JournalReading,
  m: { subject: string; seq: number; h: MsgHdrs | undefined; data: Uint8Array },
): ReadRecord[] {
  const { subject, seq, h, data } = m;
  const stream = j.streamOf(subject);
  if (stream === undefined) return [];
  try {
    const pos = readPos(h, subject, seq);
    const count = readCount(h, subject, seq);
    if (count === 1) return [{ subject, stream, pos, seq, data }];
    return unpackRecords(data, count, subject, seq).map((d, i) => ({
      subject,
      stream,
      pos: pos + i,
      seq,
      data: d,
    }));
  } catch (err) {
    j.damaged(subject, seq, data.length, (err as Error).message);
    return [];
  }
}

/** The iterator's next step, or undefined when none comes within `ms`. */
async function nextWithin<T>(
  it: AsyncIterator<T>,
  ms: number,
): Promise<IteratorResult<T> | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)));
  try {
    return await Promise.race([it.next(), late]);
  } finally {
    clearTimeout(timer);
  }
}

/** A record's position, from its header; a JournalCorruptError naming the message if unreadable. */
export function readPos(h: MsgHdrs | undefined, subject: string, seq: number): number {
  const raw = h?.get(POS_HEADER);
  const pos = Number(raw);
  if (!raw || !Number.isSafeInteger(pos) || pos < 1) {
    throw new JournalCorruptError(
      `Cannot read journal message ${seq} on ${subject}: header ${POS_HEADER} must be a ` +
        `position >= 1, got ${JSON.stringify(raw ?? null)}`,
      { where: subject, offset: seq },
    );
  }
  return pos;
}

/**
 * The position of the last record in a message: its first's plus its count less one; a
 * JournalCorruptError naming the message where either header is unreadable.
 */
export function lastPosIn(h: MsgHdrs | undefined, subject: string, seq: number): number {
  return readPos(h, subject, seq) + readCount(h, subject, seq) - 1;
}
