/**
 * Reading a JetStream journal: a range of the journal's stream, through an ordered consumer, as
 * records with their positions (the `Troupe-Pos` header); holes in a subject's positions and
 * unreadable positions are reported as damage, not read as data. Private to the runtime: the
 * JetStream journal (jetstream_journal.ts) is its one user.
 */
import { DeliverPolicy, type JetStreamClient } from "@nats-io/jetstream";
import type { MsgHdrs } from "@nats-io/transport-node";
import { JournalCorruptError, type JournalRecord } from "./journal.ts";

/** The header that carries a record's position. */
export const POS_HEADER = "Troupe-Pos";
/** Records read between yields to the event loop. */
const READ_YIELD_EVERY = 256;

/** What a read needs of the journal it reads. */
export interface JournalReading {
  js: JetStreamClient;
  streamName: string;
  /** The server's largest message: reads pull at least twice that many bytes at a time. */
  maxPayload: number;
  /** The journal stream of a subject, or undefined for a subject that is not the journal's. */
  streamOf(subject: string): string | undefined;
  damaged(subject: string, seq: number, bytes: number, reason: string): void;
}

/** Which messages a read covers, and which records of them it yields. */
export interface JournalRange {
  filter: string;
  startSeq: number;
  endSeq: number;
  keep: (stream: string, pos: number) => boolean;
}

/**
 * Reads `filter` from `startSeq` (0: the first message) through `endSeq` with an ordered consumer,
 * yielding the records `keep` takes; a record whose position cannot be read, or a subject whose
 * positions skip, is reported to `damaged`.
 */
export async function* consumeJournal(
  j: JournalReading,
  range: JournalRange,
): AsyncIterable<JournalRecord> {
  const { filter, startSeq, endSeq, keep } = range;
  const consumer = await j.js.consumers.get(j.streamName, {
    filter_subjects: filter,
    ...(startSeq > 0
      ? { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: startSeq }
      : { deliver_policy: DeliverPolicy.All }),
  });
  // Pull by bytes: large batches for small records, never stalled by one large record.
  const messages = await consumer.consume({ max_bytes: Math.max(8 << 20, 2 * j.maxPayload) });
  // Per subject, the position of its last message read: a later one must follow it.
  const last = new Map<string, number>();
  let read = 0;
  try {
    for await (const m of messages) {
      // A long read (recovery) lets timers run now and then: a lease renewal must not wait.
      if (++read % READ_YIELD_EVERY === 0) await new Promise((r) => setTimeout(r, 0));
      const stream = j.streamOf(m.subject);
      let pos: number | undefined;
      try {
        if (stream !== undefined) pos = readPos(m.headers, m.subject, m.seq);
      } catch (err) {
        j.damaged(m.subject, m.seq, m.data.length, (err as Error).message);
      }
      if (stream !== undefined && pos !== undefined) {
        const before = last.get(m.subject);
        if (before !== undefined && pos > before + 1) {
          const what = pos === before + 2
            ? `position ${before + 1}`
            : `positions ${before + 1}-${pos - 1}`;
          j.damaged(
            m.subject,
            m.seq,
            0,
            `${what} missing before it: deleted from ${j.streamName}`,
          );
        }
        last.set(m.subject, pos);
        if (keep(stream, pos)) yield { stream, pos, data: m.data };
      }
      if (m.seq >= endSeq || m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
}

/** A record's position, from its header; a JournalCorruptError naming the message if unreadable. */
export function readPos(h: MsgHdrs | undefined, subject: string, seq: number): number {
  const raw = h?.get(POS_HEADER);
  const pos = Number(raw);
  if (!raw || !Number.isSafeInteger(pos) || pos < 1) {
    throw new JournalCorruptError(
      `Cannot read journal message ${seq} on ${subject}: header ${POS_HEADER} must be a position >= 1, got ${
        JSON.stringify(raw ?? null)
      }`,
      { where: subject, offset: seq },
    );
  }
  return pos;
}
