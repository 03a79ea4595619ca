/**
 * The scan service: starts scans, hands their chunks to the workers' queue group, collects the
 * chunks' results, numbers them, and streams them to subscribers. Each scan is an event-sourced
 * instance `scan/<scanId>`: its journal stream holds the definition (with the chunks, in priority
 * order), the start, each chunk's results as first received, and any stop; the scan machine folds
 * the same records, live and on recovery. A result's sequence number is its place in the journal's
 * order, so a recovered service numbers every result as before: a subscriber that resumes from the
 * last number it saw gets each result once.
 *
 * A chunk whose results do not come back within `chunk_timeout_ms` (its worker died, a message was
 * lost) is sent again; the first results of a chunk count and later copies are dropped, so a
 * result is never doubled. Stopping (a request, `timeout_ms`, `max_signals`) ends the scan at once:
 * results of chunks still in flight are dropped.
 */
import {
  type Bus,
  type BusSubscription,
  decodeScanChunk,
  decodeScanRecord,
  encodeValue,
  SCAN_WORK_SUBJECT,
  type ScanDefinition,
  scanPartitionWorkSubject,
  scanPattern,
  type ScanRecord,
  type ScanStats,
  scanSubject,
  type ScanSymbolsReply,
  type ScanSymbolsRequest,
} from "../../protocol/mod.ts";
import { type Journal, partitionOf } from "../runtime/mod.ts";
import type { BarsSource } from "./bars_source.ts";
import {
  DEFAULT_PRIORITY,
  defaultScanLimits,
  parseScanRequest,
  type ScanLimits,
  ScanRequestError,
} from "./scan_request.ts";
import { barSizeUs } from "../bars/mod.ts";
import {
  answerSymbols,
  chunkPartition,
  cutByPartition,
  gatherUniverse,
  type Partitions,
} from "./_partitioned_scans.ts";
import { ScanRun } from "./_scan_run.ts";
import { PriorityOrder } from "./_priority_order.ts";
import { PRIORITIES_CACHED_MAX, PriorityCaches, priorityOf } from "./_priority_cache.ts";
import { RecentHits } from "./_recent_hits.ts";
import { SpareJournal } from "./_spare_journal.ts";
import {
  type Chunks,
  type Cut,
  type Ordering,
  orderingKey,
  orderOf,
  universeOf,
} from "./_ordered_chunks.ts";
import { memoryScanJournals, type ScanJournals } from "./scan_journals.ts";
import type { ScanListener } from "./scan_results.ts";

export type { ScanListener } from "./scan_results.ts";

/** Options of a ScanService. */
export interface ScanServiceOptions {
  bus: Bus;
  /** Where each scan is journaled (default: in memory, `memoryScanJournals()`). */
  journals?: ScanJournals;
  /** This host's bars, for the chunks' priority order and the universe. */
  bars: BarsSource;
  limits?: ScanLimits;
  /** Symbols per chunk. Default 250. */
  chunk_symbols?: number;
  /** Chunks handed out and not yet back, per scan. Default 8. */
  inflight_max?: number;
  /** Resend a chunk whose results have not come back after this long. Default 5000. */
  chunk_timeout_ms?: number;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
  /** New scan ids. Default crypto.randomUUID without dashes. */
  newId?: () => string;
  /** Timers, for the chunk timeouts and scan timeouts (checked every 100 ms). */
  timers?: { setInterval(f: () => void, ms: number): unknown; clearInterval(t: unknown): void };
  /** Make the next scan's id and journal ahead, when idle (SpareJournal). Default false. */
  spare_journal?: boolean;
  /** The subject its chunks go to (default SCAN_WORK_SUBJECT), when not partitioned. */
  work_subject?: string;
  /**
   * The partitions of a partitioned cluster: a scan covers every host's symbols, gathered from
   * each partition's host, and its chunks go to their partition's work subject (see
   * `_partitioned_scans.ts`); this service answers for the partitions owned. Default: none (the
   * universe is this host's symbols, the chunks go to `work_subject`).
   */
  partitions?: Partitions;
  /**
   * The bar sizes the cluster's bars keep: a scan at another size is refused (400, naming them),
   * since no symbol could have its bars. Default: any size a request names.
   */
  bar_sizes?: readonly string[];
}

const STREAM_PREFIX = "scan/";
/** Symbols in a scan's first chunk; the next ones double up to `chunk_symbols`. */
export const FIRST_CHUNK_SYMBOLS = 32;

/** Symbols whose priority a warm-up computes between two yields to the event loop. */
export const WARM_SLICE_SYMBOLS = 500;

export type { Ordering } from "./_ordered_chunks.ts";

/** The scan service of a host. */
export class ScanService {
  #options: Required<Omit<ScanServiceOptions, "timers" | "partitions" | "bar_sizes">> & {
    timers: NonNullable<ScanServiceOptions["timers"]>;
    partitions: Partitions | undefined;
  };
  #runs = new Map<string, ScanRun>();
  #sub: BusSubscription | undefined;
  #symbolSubs: BusSubscription[] = [];
  #timer: unknown;
  #dropped = 0;
  #priorities = new PriorityCaches();
  /** The chunks of recent universes, by bar, priority and universe (see `#chunks`). */
  #ordered = new Map<string, Chunks>();
  /** Each criteria's hits in its latest scan, which the next scan of it puts first. */
  #recent = new RecentHits(FIRST_CHUNK_SYMBOLS);
  /** The warm-up under way (see `warm`), and whether another is asked for after it. */
  #warming: Promise<void> | undefined;
  #warmAgain = false;
  #closed = false;
  /** Where scans get their id and journal. */
  #slots: SpareJournal;
  #barSizes: readonly string[] | undefined;

  constructor(options: ScanServiceOptions) {
    this.#options = {
      limits: defaultScanLimits,
      chunk_symbols: 250,
      inflight_max: 8,
      chunk_timeout_ms: 5000,
      journals: memoryScanJournals(),
      now: () => Date.now(),
      newId: () => crypto.randomUUID().replaceAll("-", ""),
      timers: {
        setInterval: (f, ms) => setInterval(f, ms),
        clearInterval: (t) => clearInterval(t as ReturnType<typeof setInterval>),
      },
      spare_journal: false,
      work_subject: SCAN_WORK_SUBJECT,
      partitions: undefined,
      ...options,
    };
    this.#barSizes = options.bar_sizes;
    this.#slots = new SpareJournal({
      journals: this.#options.journals,
      newId: this.#options.newId,
      taken: (scanId) => this.#runs.has(scanId),
    });
  }

  /** Chunk results dropped: malformed, for no scan here, copies of results in, or too late. */
  get dropped(): number {
    let n = this.#dropped;
    for (const run of this.#runs.values()) n += run.dropped;
    return n;
  }

  /** Recovers the scans of the journals, resumes the unfinished ones, and starts listening. */
  async start(): Promise<void> {
    const journals = this.#options.journals;
    for (const scanId of (await journals.ids()).sort()) {
      const journal = await journals.open(scanId);
      const records: ScanRecord[] = [];
      for await (const r of journal.read(STREAM_PREFIX + scanId)) {
        records.push(decodeScanRecord(r.data));
      }
      const first = records[0];
      if (first?.k !== "def" || first.scanId !== scanId) {
        // Made, but its definition never journaled (a crash in between): no scan to resume.
        await journals.remove(scanId);
        continue;
      }
      const run = this.#newRun(scanId, first.def, first.chunks, journal, first.missing);
      run.recover(records);
      this.#runs.set(scanId, run);
    }
    this.#sub = this.#options.bus.subscribe(scanPattern("chunk"), (msg) => this.#onChunk(msg.data));
    const p = this.#options.partitions;
    if (p !== undefined) {
      this.#symbolSubs = answerSymbols(
        this.#options.bus,
        p.owned,
        (k, request) => this.#symbolsOf(k, request),
        () => this.#dropped++,
      );
    }
    this.#timer = this.#options.timers.setInterval(() => this.#periodic(), 100);
    for (const run of this.#runs.values()) if (run.running) run.dispatch();
    if (this.#options.spare_journal) this.#slots.prepare();
  }

  /**
   * Stops listening (scans stay in their journals, to resume on the next start; whoever made the
   * journals closes them).
   */
  close(): void {
    this.#closed = true;
    this.#slots.close();
    this.#sub?.unsubscribe();
    for (const sub of this.#symbolSubs) sub.unsubscribe();
    if (this.#timer !== undefined) this.#options.timers.clearInterval(this.#timer);
    for (const run of this.#runs.values()) run.actor.stop();
  }

  /**
   * Starts a scan; throws ScanRequestError (with its HTTP status) on a bad request. It answers
   * once the scan is admitted (checked, ordered, in chunks); its journal is opened (unless made
   * ahead), and its definition and start journaled, after that, and only then does its first
   * chunk go out, so every result is journaled after them. A journal that cannot be opened or
   * written fails the scan (its stats and subscribers say why) and is removed. In a partitioned
   * cluster it answers once every partition said its symbols or timed out (`partitions_missing`).
   */
  startScan(request: unknown): Promise<{ scanId: string; partitions_missing?: number[] }> {
    let def: ScanDefinition;
    try {
      def = parseScanRequest(request, this.#options.limits);
      this.#checkBarSize(def.bar);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.#options.partitions !== undefined) {
      return this.#startPartitioned(def, this.#options.partitions);
    }
    const cut = this.#withRecentHits(def, this.#chunks(def));
    return Promise.resolve({ scanId: this.#admit(def, cut, []) });
  }

  /** Refuses a bar size the bars do not keep, naming the sizes they do. */
  #checkBarSize(bar: string): void {
    const kept = this.#barSizes;
    if (kept === undefined) return;
    const us = barSizeUs(bar);
    if (kept.some((size) => barSizeUs(size) === us)) return;
    throw new ScanRequestError(
      400,
      "bar",
      `Field "bar" is ${JSON.stringify(bar)}, a size the bars do not keep; they keep ${
        kept.join(", ")
      }`,
    );
  }

  /** A scan over every partition's symbols (see `_partitioned_scans.ts`). */
  async #startPartitioned(
    def: ScanDefinition,
    partitions: Partitions,
  ): Promise<{ scanId: string; partitions_missing: number[] }> {
    const { bar, priority, universe } = def;
    const front = this.#recent.get(def) ?? [];
    const { order, missing } = await gatherUniverse(
      this.#options.bus,
      partitions,
      { bar, priority, universe },
      front,
    );
    if (this.#closed) throw new Error("The scan service closed while the scan was admitted");
    const lists = cutByPartition(
      order,
      partitions.count,
      FIRST_CHUNK_SYMBOLS,
      this.#options.chunk_symbols,
    );
    const scanId = this.#admit(def, { lists, encoded: encodeValue(lists) }, missing);
    return { scanId, partitions_missing: missing };
  }

  /** Makes the scan of `def` over `cut` and starts it once its start is journaled. */
  #admit(def: ScanDefinition, cut: Cut, missing: number[]): string {
    const { scanId, journal } = this.#slots.take();
    const run = this.#newRun(scanId, def, cut.lists, journal, missing);
    this.#runs.set(scanId, run);
    run.recordStart(def, cut.encoded, this.#us())
      .then(() => run.dispatch(), (e) => {
        this.#fail(run, e);
        return this.#options.journals.remove(scanId).catch(() => {});
      });
    return scanId;
  }

  /** Asks a scan to stop; false when there is no such scan. */
  async stopScan(scanId: string): Promise<boolean> {
    const run = this.#runs.get(scanId);
    if (!run) return false;
    // Still being admitted (its start not journaled yet): stopped once it has started.
    if (run.state === "queued") await run.idle();
    if (run.running) await run.stop("requested", this.#us());
    return true;
  }

  /**
   * Deletes a scan (stopping it first): its subscribers are ended, and its journal is deleted, so
   * a restart does not bring it back. False when there is none.
   */
  async deleteScan(scanId: string): Promise<boolean> {
    const run = this.#runs.get(scanId);
    if (!run) return false;
    this.#runs.delete(scanId);
    if (run.running) await run.stop("requested", this.#us()).catch(() => {});
    run.endAll(this.#stats(run));
    run.actor.stop();
    await run.idle();
    await this.#options.journals.remove(scanId);
    return true;
  }

  /** A scan's live statistics, or undefined. */
  stats(scanId: string): ScanStats | undefined {
    const run = this.#runs.get(scanId);
    return run ? this.#stats(run) : undefined;
  }

  /** The scans not yet ended. */
  active(): ScanStats[] {
    return [...this.#runs.values()].filter((r) => !r.ended).map((r) => this.#stats(r));
  }

  /**
   * Subscribes to a scan's results after sequence number `after` (0 for all): what was missed
   * first, then live, each once. Returns the unsubscribe function, or undefined for no such scan.
   */
  subscribe(scanId: string, after: number, listener: ScanListener): (() => void) | undefined {
    const run = this.#runs.get(scanId);
    if (!run) return undefined;
    return run.subscribe(after, listener, () => this.#stats(run));
  }

  /** How many subscribers a scan has now (0 for no such scan). */
  subscriberCount(scanId: string): number {
    return this.#runs.get(scanId)?.subscribers ?? 0;
  }

  /**
   * Orders, in the background, the universe of every bar size in `bars` (all symbols, the default
   * priority) and every universe kept from earlier scans, and cuts their chunks: the next scan
   * finds them ready instead of paying a pass over every symbol's bars on its own path. Each
   * symbol's priority is computed in slices of `WARM_SLICE_SYMBOLS` between yields to the event
   * loop, so scans and HTTP go on meanwhile; a scan that comes first computes what is missing
   * and reuses what is done (priorities are kept by bars object), so nothing is computed twice.
   * Called while a warm-up runs, it runs once more after it (bars changed meanwhile). Resolves
   * when done, or at once after `close`.
   */
  warm(bars: readonly string[] = []): Promise<void> {
    if (this.#warming !== undefined) {
      this.#warmAgain = true;
      return this.#warming;
    }
    const run = async () => {
      do {
        this.#warmAgain = false;
        const targets = new Map<string, Ordering>();
        for (const bar of bars) {
          const o = { bar, priority: DEFAULT_PRIORITY, universe: null };
          targets.set(orderingKey(o)!, o);
        }
        for (const [key, c] of this.#ordered) targets.set(key, c.of);
        for (const o of targets.values()) {
          if (this.#closed) return;
          await this.#warmOne(o);
        }
      } while (this.#warmAgain && !this.#closed);
    };
    this.#warming = run().finally(() => this.#warming = undefined);
    return this.#warming;
  }

  /** Warms one ordering: its priorities slice by slice, then its order and plain chunks. */
  async #warmOne(o: Ordering): Promise<void> {
    const source = this.#options.bars;
    const kept = this.#ordered.get(orderingKey(o)!);
    const version = source.version?.();
    if (kept !== undefined && version !== undefined && kept.version === version) {
      if (kept.plain === undefined && kept.fronted === undefined) {
        kept.plain = this.#cut(kept.order, []);
      }
      return;
    }
    // Kept, and the source says which symbols changed since: bringing it up to date looks at
    // those only (see `#order`), a short step that needs no slicing.
    const few = kept?.version !== undefined && source.changedSince?.(kept.version) !== undefined;
    const universe = few ? [] : this.#universe(o);
    const cached = this.#priorities.get(o);
    // Each symbol's mark, then its priority, slice by slice: the order made of them at the end
    // holds as of the version before the first slice (a symbol whose bars moved since has its
    // mark moved too, and the next update looks at it again).
    const mark = source.mark?.bind(source);
    const marks = new Float64Array(universe.length), p = new Float64Array(universe.length);
    for (let i = 0; i < universe.length; i += WARM_SLICE_SYMBOLS) {
      const end = Math.min(universe.length, i + WARM_SLICE_SYMBOLS);
      for (let j = i; j < end; j++) {
        marks[j] = mark ? mark(universe[j]!, o.bar) : NaN;
        const bars = source.bars(universe[j]!, o.bar);
        p[j] = bars === undefined ? -Infinity : priorityOf(cached, bars);
      }
      await new Promise((r) => setTimeout(r, 0));
      if (this.#closed) return;
    }
    const key = orderingKey(o)!;
    if (!few && version !== undefined && this.#ordered.get(key) === kept) {
      // No scan ordered it meanwhile: the order made of the slices' marks, as of `version`.
      const order = new PriorityOrder(universe, (i) => p[i]!, (i) => marks[i]!);
      if (this.#ordered.size >= PRIORITIES_CACHED_MAX && kept === undefined) this.#ordered.clear();
      this.#ordered.set(key, { of: o, version, order });
    }
    const chunks = this.#chunks(o);
    chunks.plain ??= this.#cut(chunks.order, []);
  }

  #us(): number {
    return Math.round(this.#options.now() * 1000);
  }

  #newRun(
    scanId: string,
    def: ScanDefinition,
    chunks: string[][],
    journal: Journal | Promise<Journal>,
    missing: number[] = [],
  ): ScanRun {
    const p = this.#options.partitions;
    return new ScanRun({
      scanId,
      def,
      chunks,
      journal,
      missing,
      inflightMax: this.#options.inflight_max,
      send: p === undefined
        ? (data) => this.#options.bus.publish(this.#options.work_subject, data)
        : (data, chunk) =>
          this.#options.bus.publish(
            scanPartitionWorkSubject(chunkPartition(chunks[chunk]!, p.count)),
            data,
          ),
      publishResults: (data) => this.#options.bus.publish(scanSubject(scanId, "results"), data),
      now: () => this.#options.now(),
      stats: (run) => this.#stats(run),
      ended: (run) => {
        // A scan stopped before any result says nothing of what matches: the hits kept stay.
        if (run.results.length > 0 || run.state === "done") {
          this.#recent.set(run.def, run.results.map((r) => r.symbol));
        }
        if (this.#options.spare_journal) this.#slots.prepare();
      },
    });
  }

  /**
   * The chunks with the symbols that matched the same criteria in its latest scan here first
   * (those of them in the universe; see RecentHits), then the rest in priority order: a repeated
   * scan's first chunk holds its likeliest matches. Kept with the chunks while the hits are the
   * same, so an unchanged market's repeated scan still starts without a pass or an encoding.
   */
  #withRecentHits(def: ScanDefinition, chunks: Chunks): Cut {
    const front = this.#recent.get(def);
    const kept = chunks.fronted;
    if (
      front !== undefined && kept !== undefined && kept.front.length === front.length &&
      kept.front.every((s, i) => s === front[i])
    ) {
      return kept;
    }
    const places: number[] = [];
    for (const s of front ?? []) {
      const i = chunks.order.placeOf(s);
      if (i !== undefined) places.push(i);
    }
    if (places.length === 0) return chunks.plain ??= this.#cut(chunks.order, places);
    chunks.fronted = { front: front!, ...this.#cut(chunks.order, places) };
    return chunks.fronted;
  }

  #cut(order: PriorityOrder, front: readonly number[]): Cut {
    const lists = order.chunks(FIRST_CHUNK_SYMBOLS, this.#options.chunk_symbols, front);
    return { lists, encoded: encodeValue(lists) };
  }

  /**
   * The universe in priority order (most promising first), in chunks that grow from
   * `FIRST_CHUNK_SYMBOLS` to `chunk_symbols`, doubling: the first results come after a few dozen
   * symbols, the rest in chunks large enough to keep messages few. While the source's version
   * holds (no bar closed, no channel added since), a universe of all symbols or of a prefix gets
   * the chunks it got last time, and their msgpack encoding with them: a scan of an unchanged
   * market starts without a pass over its symbols. When the version moved over the same symbols
   * (a live market), only the symbols whose bars changed (`BarsSource.mark`) get their priority
   * again and are merged back into the kept order (see PriorityOrder).
   */
  #chunks(def: Ordering): Chunks {
    const version = this.#options.bars.version?.();
    const key = orderingKey(def);
    const kept = key === undefined ? undefined : this.#ordered.get(key);
    if (kept !== undefined && version !== undefined && kept.version === version) return kept;
    const of = { bar: def.bar, priority: def.priority, universe: def.universe };
    const chunks: Chunks = { of, version, order: this.#order(def, kept) };
    if (key !== undefined && version !== undefined) {
      if (this.#ordered.size >= PRIORITIES_CACHED_MAX && kept === undefined) this.#ordered.clear();
      this.#ordered.set(key, chunks);
    }
    return chunks;
  }

  /**
   * The universe of `def` in priority order: `kept`'s brought up to date, or made afresh (see
   * `orderOf`).
   */
  #order(def: Ordering, kept: Chunks | undefined): PriorityOrder {
    return orderOf(this.#options.bars, this.#priorities.get(def), def, kept);
  }

  /** This host's symbols of a universe in partition `k`, with their priorities. */
  #symbolsOf(k: number, request: ScanSymbolsRequest): ScanSymbolsReply {
    const count = this.#options.partitions!.count;
    const cached = this.#priorities.get(request);
    const symbols = this.#universe(request).filter((s) => partitionOf(s, count) === k);
    const priorities = symbols.map((s) => {
      const bars = this.#options.bars.bars(s, request.bar);
      const v = bars === undefined ? -Infinity : priorityOf(cached, bars);
      return Number.isFinite(v) ? v : null;
    });
    return { partition: k, symbols, priorities };
  }

  /** The symbols of `def`'s universe. */
  #universe(def: Ordering): readonly string[] {
    return universeOf(this.#options.bars, def);
  }

  #onChunk(data: Uint8Array): void {
    let m;
    try {
      m = decodeScanChunk(data);
    } catch {
      this.#dropped++;
      return;
    }
    const run = this.#runs.get(m.scanId);
    if (!run || !run.accepts(m.chunk)) {
      this.#dropped++;
      return;
    }
    run.chunkDone(m, this.#us()).catch((e) => this.#fail(run, e));
  }

  /**
   * A scan whose journal refused a record cannot go on: it fails (in memory: the journal is out).
   */
  #fail(run: ScanRun, e: unknown): void {
    run.apply({ k: "fail", error: `journal: ${(e as Error).message ?? e}`, ts: this.#us() });
  }

  #periodic(): void {
    const now = this.#options.now();
    for (const run of this.#runs.values()) {
      if (!run.running) continue;
      const ctx = run.context;
      const limit = run.def.timeout_ms;
      if (
        limit !== null && ctx.started_ts !== null && now * 1000 - ctx.started_ts >= limit * 1000
      ) {
        run.stop("timeout", this.#us()).catch((e) => this.#fail(run, e));
        continue;
      }
      run.resendLate(now - this.#options.chunk_timeout_ms);
    }
  }

  #stats(run: ScanRun): ScanStats {
    return run.stats(this.#us());
  }
}
