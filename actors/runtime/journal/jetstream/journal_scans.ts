/**
 * One read of a JetStream journal's stream for the recoveries of several partitions at once. A
 * leased host's partitions share one stream (`TROUPE_JOURNAL`, a subject per journal stream), and
 * a partition recovering reads the whole of it (`readAll`), passing over the other partitions'
 * records. A host that claims its partitions together (its start, a takeover of a lost host's)
 * would read the stream once for each of them, all at once; through a `JournalScans` the reads
 * asked within a short quiet spell of one another are made as one, each record handed to the
 * partition whose streams it belongs to.
 *
 * Only reads for named streams share a scan (`readAll(after, Infinity)`, recovery's): those of
 * different partitions name different streams, so a record goes to at most one of them. The scan
 * reads up to the stream's last message when it begins, which is at or past that of each read's
 * call: a partition recovering has no writer but its host, so what comes between is its own.
 */
import type { JournalRecord } from "../journal.ts";
import { consumeJournal, type JournalRange, type JournalReading } from "./_journal_consume.ts";

/** A scan begins once no read has joined it for this long, ms. */
const QUIET_MS = 200;
/** Nor later than this after its first read asked, ms. */
const WAIT_MAX_MS = 2000;
/** Records handed to one read and not yet taken, past which the scan waits for it. */
const QUEUED_MAX = 8192;

/** One read of the whole journal, waiting for its scan or taking its records. */
interface ScanRead {
  reading: JournalReading;
  /** The stream's last message now (the asking journal asks the server). */
  lastSeq: () => Promise<number>;
  keep: JournalRange["keep"];
  wanted: NonNullable<JournalRange["wanted"]>;
  queue: JournalRecord[];
  done: boolean;
  failed: Error | undefined;
  /** Its iterator ended early: its records are dropped. */
  left: boolean;
  /** Wakes the read waiting for records, and the scan waiting for the read to take some. */
  wakeRead: (() => void) | undefined;
  wakeScan: (() => void) | undefined;
}

/** What one scan did. */
export interface ScanFigures {
  reads: number;
  /** Records of the journal's subjects read, and those handed to a read. */
  read: number;
  handed: number;
  ms: number;
  failed: Error | undefined;
}

/** The reads of one stream's journal that share a scan. */
export class JournalScans {
  #joining: ScanRead[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #firstAt = 0;
  /** Scans made so far, and the reads they served. */
  scans = 0;
  reads = 0;
  /** Told of each scan as it ends: the reads it served, the records it read and handed, its ms. */
  readonly #done: ((scan: ScanFigures) => void) | undefined;

  constructor(done?: (scan: ScanFigures) => void) {
    this.#done = done;
  }

  /**
   * Every record of the streams `after` names with pos > after[stream], in stream order, read
   * with the other reads that ask within the quiet spell; `reading` and `lastSeq` are the asking
   * journal's, `wanted` its streams' subjects as `consumeJournal` takes them.
   */
  async *read(
    ask: { reading: JournalReading; lastSeq: () => Promise<number>; filter: string },
    after: ReadonlyMap<string, number>,
    wanted: NonNullable<JournalRange["wanted"]>,
  ): AsyncIterable<JournalRecord> {
    const { reading, lastSeq, filter } = ask;
    const read: ScanRead = {
      reading,
      lastSeq,
      keep: (stream, pos) => pos > (after.get(stream) ?? Infinity),
      wanted,
      queue: [],
      done: false,
      failed: undefined,
      left: false,
      wakeRead: undefined,
      wakeScan: undefined,
    };
    this.#join(read, filter);
    try {
      for (;;) {
        if (read.queue.length > 0) {
          const batch = read.queue;
          read.queue = [];
          read.wakeScan?.();
          yield* batch;
          continue;
        }
        if (read.failed) throw read.failed;
        if (read.done) return;
        await new Promise<void>((resolve) => (read.wakeRead = resolve));
        read.wakeRead = undefined;
      }
    } finally {
      read.left = true;
      read.queue = [];
      read.wakeScan?.();
    }
  }

  /** Adds `read` to the scan about to begin, and (re)sets when it begins. */
  #join(read: ScanRead, filter: string): void {
    const now = Date.now();
    if (this.#joining.length === 0) this.#firstAt = now;
    this.#joining.push(read);
    clearTimeout(this.#timer);
    const wait = Math.max(0, Math.min(QUIET_MS, this.#firstAt + WAIT_MAX_MS - now));
    this.#timer = setTimeout(() => {
      const reads = this.#joining;
      this.#joining = [];
      this.#timer = undefined;
      void this.#scan(reads, filter);
    }, wait);
  }

  /** Reads the stream once for `reads`, handing each its records; ends or fails them all. */
  async #scan(reads: ScanRead[], filter: string): Promise<void> {
    this.scans++;
    this.reads += reads.length;
    const wanted = new Map<string, { after: number; lastSeq: number }>();
    const owner = new Map<string, ScanRead>();
    for (const r of reads) {
      for (const [subject, w] of r.wanted) {
        wanted.set(subject, w);
        owner.set(subject, r);
      }
    }
    const first = reads[0]!.reading;
    const reading: JournalReading = {
      ...first,
      // Damage is the journal's whose subject it is (another partition's: the first read's).
      damaged: (subject, seq, bytes, reason) =>
        (owner.get(subject)?.reading ?? first).damaged(subject, seq, bytes, reason),
    };
    let read = 0, handed = 0;
    const taker = (stream: string, pos: number) => reads.find((r) => r.keep(stream, pos));
    const t0 = Date.now();
    let failed: Error | undefined;
    try {
      const endSeq = await reads[0]!.lastSeq();
      const range = {
        filter,
        startSeq: 0,
        endSeq,
        keep: (stream: string, pos: number) => {
          read++;
          return taker(stream, pos) !== undefined;
        },
        wanted,
      };
      // A stream that holds no message has nothing for anyone: no consumer, no look at a subject.
      const records = endSeq === 0 ? [] : consumeJournal(reading, range);
      for await (const rec of records) {
        const r = taker(rec.stream, rec.pos);
        if (r === undefined || r.left) continue;
        handed++;
        r.queue.push(rec);
        r.wakeRead?.();
        while (r.queue.length >= QUEUED_MAX && !r.left) {
          await new Promise<void>((resolve) => (r.wakeScan = resolve));
          r.wakeScan = undefined;
        }
      }
      for (const r of reads) r.done = true;
    } catch (err) {
      failed = err as Error;
      for (const r of reads) r.failed = failed;
    }
    for (const r of reads) r.wakeRead?.();
    this.#done?.({ reads: reads.length, read, handed, ms: Date.now() - t0, failed });
  }
}
