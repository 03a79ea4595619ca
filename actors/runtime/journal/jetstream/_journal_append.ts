/**
 * One append to a journal stream's subject, stored once: it names the sequence of the subject's
 * last message (a second writer is refused), a publish that times out is looked for before it is
 * sent again, and an append whose fate stayed unknown is settled by the next one (see
 * jetstream_journal.ts). An append is one message: one record, or a run of records at consecutive
 * positions (_journal_message.ts).
 */
import { PubHeaders } from "@nats-io/jetstream";
import { bytesEqual } from "../../../../protocol/mod.ts";
import {
  isWrongLastSequence,
  noteStored,
  type StreamGets,
  type StreamState,
} from "./jetstream_stream.ts";
import { POS_HEADER, readPos } from "./_journal_consume.ts";
import { COUNT_HEADER, readCount } from "./_journal_message.ts";
import {
  electionError,
  type HeaderPairs,
  type InboxRequests,
  streamAckOf,
} from "../../transport/mod.ts";
import type { GotMessage } from "../../transport/mod.ts";
import { JournalConflictError } from "../journal.ts";

/** The header that carries the lease epoch of a record's writer, when it has one. */
export const EPOCH_HEADER = "Troupe-Epoch";

/** What an append works with: the journal's client, its gets, its guard and its counts. */
export interface AppendParts {
  /**
   * The journal's requests: a publish in flight when the connection loses its server fails then,
   * one made while it has none waits for it (inbox_requests.ts).
   */
  requests: InboxRequests;
  gets: StreamGets;
  /** Asked before each send: an error refuses the append (a lease lost). */
  guard: (() => Error | undefined) | undefined;
  epoch: number | undefined;
  publishTimeoutMs: number;
  publishRetries: number;
  /** `call`, waiting out a cluster's leader election. */
  retry<T>(what: string, call: () => Promise<T>, repeatable?: boolean): Promise<T>;
  /** Reads the subject's last message: its position and sequence. */
  load(st: StreamState): Promise<void>;
  /** A message of `bytes` holding `records` records is stored. */
  stored(bytes: number, records: number): void;
  /**
   * The highest sequence below which the journal purged, or sent a purge of, its whole stream
   * (stream_cut.ts): a subject's last message below it may be gone. 0 when it never did.
   */
  cutSent(): number;
}

/** An append's message: its first record's position, its record count and its data. */
interface RecordMessage {
  pos: number;
  count: number;
  data: Uint8Array;
}

/**
 * Appends `data` to `st`'s subject; resolves to its position once the server has stored it. With
 * `count` 2 or more, `data` is that many records packed (`packRecords`), stored in one message at
 * consecutive positions, and the position is the first's.
 */
export async function appendRecord(
  st: StreamState,
  data: Uint8Array,
  parts: AppendParts,
  count = 1,
): Promise<number> {
  if (st.broken instanceof JournalConflictError) {
    throw new JournalConflictError(
      `Cannot append to journal stream "${st.stream}": an earlier append failed ` +
        `(${st.broken.message}); call prepare() to reload it`,
      { stream: st.stream, cause: st.broken },
    );
  }
  if (st.broken) {
    const pos = await settle(st, { count, data }, parts);
    if (pos !== undefined) return pos;
  }
  if (!st.loaded) await parts.load(st);
  const pos = st.lastPos + 1;
  const message: RecordMessage = { pos, count, data };
  let expected = st.lastSeq;
  let h = messageHeaders(message, parts.epoch, expected);
  const stored = (seq: number) => {
    noteStored(st, pos + count - 1, seq);
    parts.stored(data.length, count);
    return pos;
  };
  let refused: Error | undefined;
  const send = async () => {
    refused = parts.guard?.();
    if (refused) throw refused;
    // Not nats.js's `JetStreamClient.publish`: its request makes a timeout error up front and a
    // second error to cancel the request once answered, each with a stack trace, for every
    // record (inbox_requests.ts). The stream's refusal reads as nats.js's would (stream_ack.ts).
    const answer = await parts.requests.request(st.subject, data, parts.publishTimeoutMs, h);
    return streamAckOf(answer.data).seq;
  };
  for (let attempt = 0;; attempt++) {
    try {
      // Refusals (no leader) are sent again, the guard asked before each; a timeout comes
      // back, as the record may have been stored.
      return stored(await parts.retry(`append to ${st.subject}`, send, false));
    } catch (err) {
      if (isWrongLastSequence(err)) {
        const seq = await wrongLast(st, message, expected, parts, err);
        if (seq !== 0) return stored(seq);
        // Sent again as the subject's first.
        st.lastSeq = expected = 0;
        h = messageHeaders(message, parts.epoch, expected);
        continue;
      }
      if (err === refused) throw err;
      if (attempt >= parts.publishRetries || electionError(err) !== "timeout") {
        st.broken = new Error(
          `Cannot append to journal stream "${st.stream}" at position ${pos}: ${
            (err as Error).message
          }`,
          { cause: err },
        );
        // Stored or not, the next append finds out (#settle).
        st.unsure = { ...message, afterSeq: st.lastSeq };
        throw st.broken;
      }
    }
    // The publish timed out: it may have been stored. The subject's last message says.
    let last: GotMessage | null;
    try {
      last = await parts.gets.last(st.subject);
    } catch {
      continue;
    }
    if (last && last.seq !== st.lastSeq) {
      if (isMessage(last, st.subject, message)) return stored(last.seq);
      throw conflictOf(st, undefined);
    }
  }
}

/**
 * The headers of `message`: its first position, its count (when 2 or more), the writer's epoch,
 * and the sequence of the subject's last message as this writer saw it (the server refuses the
 * message if another came after that one).
 */
function messageHeaders(
  message: RecordMessage,
  epoch: number | undefined,
  lastSeq: number,
): HeaderPairs {
  const h: Array<[string, string]> = [[POS_HEADER, String(message.pos)]];
  if (message.count > 1) h.push([COUNT_HEADER, String(message.count)]);
  if (epoch !== undefined) h.push([EPOCH_HEADER, String(epoch)]);
  h.push([PubHeaders.ExpectedLastSubjectSequenceHdr, String(lastSeq)]);
  return h;
}

/**
 * After the server refused `message` for naming `expected` as its subject's last sequence: the
 * sequence it is stored at, when the subject's last message is this very message (a send of it
 * that timed out, this append's or a failed append's the host retries, stored after the look that
 * found it missing: its records are in, once); 0 when the subject is empty because the journal's
 * own cut of its stream took its last message (stream_cut.ts: it goes as the subject's first);
 * else another writer appended, and this throws the conflict.
 */
async function wrongLast(
  st: StreamState,
  message: RecordMessage,
  expected: number,
  parts: AppendParts,
  err: unknown,
): Promise<number> {
  const last = await parts.gets.last(st.subject).catch(() => undefined);
  if (last && isMessage(last, st.subject, message)) return last.seq;
  if (last === null && expected > 0 && expected < parts.cutSent()) return 0;
  throw conflictOf(st, err);
}

/**
 * Before the next append to a stream whose last append failed with its fate unknown: reads the
 * subject's last message. Nothing new there: the failed message was not stored, and the append
 * goes on. The failed message there: it was stored; an append of the same records (the host
 * retrying the inputs: the same count, the same bytes) resolves to its first position without
 * being sent again. Anything else: another writer appended (a conflict). `next` is the append
 * that waits (its position not known yet).
 */
async function settle(
  st: StreamState,
  next: Omit<RecordMessage, "pos">,
  parts: AppendParts,
): Promise<number | undefined> {
  const unsure = st.unsure;
  const last = await parts.gets.last(st.subject);
  st.broken = undefined;
  st.unsure = undefined;
  if (!unsure || (last?.seq ?? 0) === unsure.afterSeq) return undefined;
  if (last === null && unsure.afterSeq < parts.cutSent()) {
    // Not stored (a cut never passes a message whose append's fate is unknown), and the
    // subject's last message before it went with the journal's cut of its stream.
    st.lastSeq = 0;
    return undefined;
  }
  if (last && isMessage(last, st.subject, unsure)) {
    noteStored(st, unsure.pos + unsure.count - 1, last.seq);
    parts.stored(unsure.data.length, unsure.count);
    const same = next.count === unsure.count && bytesEqual(next.data, unsure.data);
    return same ? unsure.pos : undefined;
  }
  throw conflictOf(st, undefined);
}

/** Marks `st` refused after another writer appended to its subject; the error to throw. */
export function conflictOf(st: StreamState, cause: unknown): JournalConflictError {
  st.broken = new JournalConflictError(
    `Cannot append to journal stream "${st.stream}": another writer appended to ${st.subject} ` +
      `(expected its last sequence to be ${st.lastSeq}); single-writer ownership of this actor ` +
      `instance was violated`,
    { stream: st.stream, cause },
  );
  return st.broken as JournalConflictError;
}

/** Whether a stored message of `subject` is `message`: its position, its count, its bytes. */
function isMessage(msg: GotMessage, subject: string, message: RecordMessage): boolean {
  return readPos(msg.header, subject, msg.seq) === message.pos &&
    readCount(msg.header, subject, msg.seq) === message.count &&
    bytesEqual(msg.data, message.data);
}
