/**
 * One read of a JetStream journal's stream for the recoveries of several partitions at once. A
 * leased host's partitions share one stream (`TROUPE_JOURNAL`, a subject per journal stream), and
 * a partition recovering reads the whole of it (`readAll`), passing over the other partitions'
 * records. A host that claims its partitions together (its start, a takeover of a lost host's)
 * would read the stream once for each of them, all at once; through a `JournalScans` they are
 * made as one, each record handed to the partition whose streams it belongs to. Each journal is
 * opened with a ticket (`ticket()`), and the read begins once every ticket has asked or is done
 * (its partition recovered without reading, or its journal closed), or WAIT_MAX_MS after the
 * first asked, whichever comes first.
 *
 * Only reads for named streams share a scan (`readAll(after, Infinity)`, recovery's): those of
 * different partitions name different streams, so a record goes to at most one of them. The scan
 * reads up to the stream's last message when it begins, which is at or past that of each read's
 * call: a partition recovering has no writer but its host, so what comes between is its own.
 */
import type { JournalRecord } from "../journal.ts";
import { consumeJournal, type JournalRange, type JournalReading } from "./_journal_consume.ts";

/** A scan begins this long after its first read asked at the latest, ms. */
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
  #filter = "";
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The journals' tickets that have not asked yet, nor are done: the scan about to begin waits. */
  readonly #expected = new Set<ScanTicket>();
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
   * with the other journals' reads (see the module's note); `reading` and `lastSeq` are the asking
   * journal's, `wanted` its streams' subjects as `consumeJournal` takes them.
   */
  async *read(
    ticket: ScanTicket,
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
    this.#expected.delete(ticket);
    this.#joining.push(read);
    this.#filter = filter;
    this.#timer ??= setTimeout(() => this.#begin(), WAIT_MAX_MS);
    this.#beginIfAllAsked();
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

  /**
   * A place for a journal about to open (passed in its options): the scan about to begin waits
   * for its read until it asks, or is done (`ScanTicket.done`), or WAIT_MAX_MS after the scan's
   * first read.
   */
  ticket(): ScanTicket {
    const ticket = new ScanTicket(this);
    this.#expected.add(ticket);
    return ticket;
  }

  /** `ticket`'s journal reads no more through a scan (its recovery is over, or it closed). */
  done(ticket: ScanTicket): void {
    if (this.#expected.delete(ticket)) this.#beginIfAllAsked();
  }

  #beginIfAllAsked(): void {
    if (this.#joining.length > 0 && this.#expected.size === 0) this.#begin();
  }

  #begin(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const reads = this.#joining;
    this.#joining = [];
    if (reads.length > 0) void this.#scan(reads, this.#filter);
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

/** One journal's place in its host's scans, from before it opens until it reads or is done. */
export class ScanTicket {
  readonly #scans: JournalScans;

  constructor(scans: JournalScans) {
    this.#scans = scans;
  }

  /** Its recovery's read, made with the other journals' (JournalScans.read). */
  read(
    ask: { reading: JournalReading; lastSeq: () => Promise<number>; filter: string },
    after: ReadonlyMap<string, number>,
    wanted: NonNullable<JournalRange["wanted"]>,
  ): AsyncIterable<JournalRecord> {
    return this.#scans.read(this, ask, after, wanted);
  }

  /** It reads no more through a scan: a scan about to begin does not wait for it. */
  done(): void {
    this.#scans.done(this);
  }
}
