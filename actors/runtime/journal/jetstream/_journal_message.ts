/**
 * The JetStream journal's message that holds several records of one stream at consecutive
 * positions. Appends to one subject go one at a time (each names the sequence of the subject's last
 * message), so a run of inputs written as one message costs one server round trip, not one each.
 * The `Troupe-Pos` header is the first record's position and `Troupe-Count` the number of records,
 * present only for 2 or more; the data is each record as a u32 little-endian length then its
 * bytes. A message of one record has no count header and its data is the record itself: a journal
 * of single-record messages needs nothing of this format, and reads the same with it or without.
 * Private to the JetStream journal.
 */
import type { MsgHdrs } from "@nats-io/transport-node";
import { JournalCorruptError } from "../journal.ts";

/** The header that carries how many records a message holds, when it holds 2 or more. */
export const COUNT_HEADER = "Troupe-Count";
/** Bytes of the length before each record of a message of several. */
const LENGTH_BYTES = 4;

/** The data of a message holding `records`, in order: each one's u32 LE length, then its bytes. */
export function packRecords(records: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const r of records) n += LENGTH_BYTES + r.length;
  const out = new Uint8Array(n);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    view.setUint32(at, r.length, true);
    out.set(r, at + LENGTH_BYTES);
    at += LENGTH_BYTES + r.length;
  }
  return out;
}

/**
 * How many records message `seq` of `subject` holds: 1 without a count header; a
 * JournalCorruptError when the header is not an integer >= 2.
 */
export function readCount(h: MsgHdrs | undefined, subject: string, seq: number): number {
  if (!h?.has(COUNT_HEADER)) return 1;
  const raw = h.get(COUNT_HEADER);
  const count = Number(raw);
  if (!/^[0-9]+$/.test(raw) || !Number.isSafeInteger(count) || count < 2) {
    throw new JournalCorruptError(
      `Cannot read journal message ${seq} on ${subject}: header ${COUNT_HEADER} must be a ` +
        `record count >= 2, got ${JSON.stringify(raw)}`,
      { where: subject, offset: seq },
    );
  }
  return count;
}

/**
 * The `count` records (2 or more) packed in `data`, message `seq` of `subject`, as views of it; a
 * JournalCorruptError when the data does not hold exactly that many.
 */
export function unpackRecords(
  data: Uint8Array,
  count: number,
  subject: string,
  seq: number,
): Uint8Array[] {
  const corrupt = (what: string) =>
    new JournalCorruptError(
      `Cannot read journal message ${seq} on ${subject}: it holds ${count} records ` +
        `(header ${COUNT_HEADER}) in ${data.length} bytes, but ${what}`,
      { where: subject, offset: seq },
    );
  // Checked before anything is read: a damaged count must not size a large array.
  if (count * LENGTH_BYTES > data.length) {
    throw corrupt(`${count} lengths alone take ${count * LENGTH_BYTES} bytes`);
  }
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const records: Uint8Array[] = [];
  let at = 0;
  for (let i = 0; i < count; i++) {
    if (at + LENGTH_BYTES > data.length) {
      throw corrupt(`record ${i + 1}'s length at byte ${at} runs past the end`);
    }
    const n = view.getUint32(at, true);
    at += LENGTH_BYTES;
    if (at + n > data.length) {
      throw corrupt(`record ${i + 1} of ${n} bytes at byte ${at} runs past the end`);
    }
    records.push(data.subarray(at, at + n));
    at += n;
  }
  if (at !== data.length) {
    throw corrupt(`its records end at byte ${at}, ${data.length - at} bytes before the end`);
  }
  return records;
}
