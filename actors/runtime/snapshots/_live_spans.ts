/**
 * What a packed store's compaction reads of a segment (packed_snapshot_store.ts): its live
 * records, in spans of the file of at most `SPAN_BYTES`, each read through the thread pool into
 * one buffer reused from span to span and from one compaction to the next. Not the segment whole:
 * a 64 MiB segment in an array buffer of its own, held across the copies' writes and fsyncs, lives
 * long enough to be promoted, and V8 starts a full collection of the whole heap for each 64 MB of
 * array buffers that die in the old generation: a host saving snapshots steadily would mark its
 * whole heap once a compaction.
 */
import { read } from "node:fs";
import { RECORD_HEAD, type RecordGroup } from "./_packed_record.ts";
import type { Entry, HintHead, Packed, Segment } from "./_packed_segment.ts";

/**
 * The bytes a span reads at most: 4 MiB, as opening's window (_scan_window.ts); a record larger
 * than a span is a span of its own.
 */
export const SPAN_BYTES = 4 << 20;

/**
 * A live record of a segment: its stream, where it starts, its bytes, its name's bytes, and what
 * its snapshot's head says (where known), which its copy keeps.
 */
export interface LiveRecord {
  stream: string;
  start: number;
  bytes: number;
  nameLen: number;
  hint?: HintHead | undefined;
}

/**
 * `records` (any order) in spans of the file, by offset: each span's records lie within `limit`
 * bytes of its first's start (the superseded records between them read along), a record longer
 * than that alone.
 */
export function liveSpans(records: readonly LiveRecord[], limit = SPAN_BYTES): LiveRecord[][] {
  const sorted = [...records].sort((a, b) => a.start - b.start);
  const spans: LiveRecord[][] = [];
  for (let i = 0; i < sorted.length;) {
    const first = sorted[i]!.start;
    let k = i + 1;
    while (k < sorted.length && sorted[k]!.start + sorted[k]!.bytes - first <= limit) k++;
    spans.push(sorted.slice(i, k));
    i = k;
  }
  return spans;
}

/** Reads spans of a segment file into memory it reuses. */
export class SpanReader {
  #buf = new Uint8Array(0);

  /**
   * The records of `span` (one of `liveSpans`) read from the file `fd`, as one group whose parts
   * are views of this reader's memory: good until its next read.
   */
  async read(fd: number, span: readonly LiveRecord[]): Promise<RecordGroup> {
    const from = span[0]!.start, last = span[span.length - 1]!;
    const len = last.start + last.bytes - from;
    if (len > this.#buf.length) this.#buf = new Uint8Array(Math.max(len, SPAN_BYTES));
    const buf = this.#buf;
    for (let got = 0; got < len;) {
      const n = await new Promise<number>((resolve, reject) => {
        read(fd, buf, got, len - got, from + got, (err, k) => (err ? reject(err) : resolve(k)));
      });
      if (n === 0) throw new Error(`${got} of the ${len} bytes at ${from} read: the file ends`);
      got += n;
    }
    const parts: Uint8Array[] = [];
    const entries = span.map(({ stream, start, bytes, nameLen, hint }) => {
      parts.push(buf.subarray(start - from, start - from + bytes));
      return { stream, bytes, nameLen, hint };
    });
    let bytes = 0;
    for (const r of span) bytes += r.bytes;
    return { entries, parts, bytes };
  }
}

/** The bytes of a record whose snapshot lies at `at` for `len`, its head `head` bytes long. */
export function liveRecordOf(
  stream: string,
  e: { at: number; len: number; head: number; hint?: HintHead | undefined },
): LiveRecord {
  const start = e.at - e.head, nameLen = e.head - RECORD_HEAD;
  return { stream, start, bytes: e.head + e.len, nameLen, hint: e.hint };
}

/** A live record found in a store's index, with the entry it was found at. */
export interface FoundRecord {
  record: LiveRecord;
  entry: Packed;
}

/**
 * The live records of each of `segs`, found in one pass over a store's index (each stream's
 * newest): a segment keeps no list of them, which each save would change.
 */
export function liveRecordsIn(
  index: ReadonlyMap<string, Entry>,
  segs: ReadonlySet<Segment>,
): Map<Segment, FoundRecord[]> {
  const out = new Map<Segment, FoundRecord[]>();
  for (const [stream, entry] of index) {
    if (!("seg" in entry) || !segs.has(entry.seg)) continue;
    let list = out.get(entry.seg);
    if (list === undefined) out.set(entry.seg, list = []);
    list.push({ record: liveRecordOf(stream, entry), entry });
  }
  return out;
}
