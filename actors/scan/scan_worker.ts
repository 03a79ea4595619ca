/**
 * A scan worker: takes chunks of symbols from the `troupe.scan.work` queue group (each chunk goes
 * to one worker of the cluster; in a partitioned cluster, from its host's partitions' subjects
 * `troupe.scan.work.p.<k>`), evaluates the scan's compiled criteria on each symbol's bars held
 * on this host, and sends the chunk's results back on `troupe.scan.<scanId>.chunk`: the matches
 * with their ranks (best first), the symbols with too little history, the symbols not held here.
 * A chunk that arrives again (it timed out and was sent again) is simply scanned again: the
 * service keeps the first results of each chunk.
 *
 * Chunks that arrive together are queued and scanned one per turn of the event loop: a bus that
 * hands over eight chunks at once (the service's in-flight window) would otherwise have the
 * worker scan all eight before the first one's results leave, and hold the host's I/O (a client's
 * WebSocket upgrade, /healthz) for as long.
 */
import { setImmediate } from "node:timers";
import type { Bus, BusSubscription } from "../../protocol/mod.ts";
import { compileCriteria, type CompiledCriteria } from "../criteria/mod.ts";
import type { BarsSource } from "./bars_source.ts";
import {
  decodeScanWork,
  encodeScanMessage,
  SCAN_WORK_QUEUE,
  SCAN_WORK_SUBJECT,
  type ScanHit,
  scanSubject,
  type ScanWork,
} from "../../protocol/mod.ts";

/** Options of a ScanWorker. */
export interface ScanWorkerOptions {
  bus: Bus;
  bars: BarsSource;
  /** The worker's name in results (the host's id). */
  id: string;
  /** Compiled scans kept (least recently used beyond). */
  compiledMax?: number;
  /** Called on a message it could not decode. */
  onError?(error: Error): void;
  /** Runs the next queued chunk later (default: setImmediate, the next turn of the event loop). */
  defer?(run: () => void): void;
  /**
   * The subjects it takes chunks from, each in the queue group (default [SCAN_WORK_SUBJECT]; in a
   * partitioned cluster, scanPartitionWorkSubject of each partition its host owns).
   */
  work_subjects?: readonly string[];
}

/** Chunks waiting to be scanned, at most; more are dropped (the service sends them again). */
export const WORK_QUEUED_MAX = 4096;

/** A scan worker. */
export class ScanWorker {
  #options: ScanWorkerOptions;
  #subs: BusSubscription[] = [];
  #compiled = new Map<string, CompiledCriteria>();
  #queue: ScanWork[] = [];
  #head = 0;
  #scheduled = false;
  /** Chunks scanned (for tests and metrics). */
  chunks = 0;
  /** Chunks dropped as over `WORK_QUEUED_MAX`. */
  dropped = 0;

  constructor(options: ScanWorkerOptions) {
    this.#options = options;
  }

  /** Joins the queue group on each of its subjects. */
  start(): void {
    for (const subject of this.#options.work_subjects ?? [SCAN_WORK_SUBJECT]) {
      this.#subs.push(this.#options.bus.subscribe(subject, (msg) => this.#take(msg.data), {
        queue: SCAN_WORK_QUEUE,
      }));
    }
  }

  #take(data: Uint8Array): void {
    let work: ScanWork;
    try {
      work = decodeScanWork(data);
    } catch (e) {
      this.#options.onError?.(e as Error);
      return;
    }
    if (this.#queue.length - this.#head >= WORK_QUEUED_MAX) {
      this.dropped++;
      return;
    }
    this.#queue.push(work);
    this.#schedule();
  }

  /** Leaves the queue group; chunks still queued are dropped (the service sends them again). */
  stop(): void {
    for (const sub of this.#subs) sub.unsubscribe();
    this.#subs = [];
    this.#queue = [];
    this.#head = 0;
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    const defer = this.#options.defer ?? ((run: () => void) => void setImmediate(run));
    defer(() => this.#next());
  }

  /** Scans the oldest queued chunk, then lets the event loop turn before the next. */
  #next(): void {
    this.#scheduled = false;
    const work = this.#queue[this.#head];
    if (work === undefined) return;
    this.#queue[this.#head++] = undefined as unknown as ScanWork;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    try {
      this.#scan(work);
    } finally {
      // After the scan: its results' delivery is queued before the next chunk.
      if (this.#head < this.#queue.length) this.#schedule();
    }
  }

  #criteria(work: ScanWork): CompiledCriteria {
    let c = this.#compiled.get(work.scanId);
    if (c) return c;
    const { criteria, rank, order } = work.def;
    c = compileCriteria(criteria, rank === null ? { order } : { rank, order });
    if (this.#compiled.size >= (this.#options.compiledMax ?? 64)) {
      this.#compiled.delete(this.#compiled.keys().next().value!);
    }
    this.#compiled.set(work.scanId, c);
    return c;
  }

  #scan(work: ScanWork): void {
    let compiled: CompiledCriteria;
    try {
      compiled = this.#criteria(work);
    } catch (e) {
      this.#options.onError?.(e as Error);
      return;
    }
    const hits: ScanHit[] = [], insufficient: string[] = [], unknown: string[] = [];
    for (const symbol of work.symbols) {
      const bars = this.#options.bars.bars(symbol, work.def.bar);
      if (!bars) {
        unknown.push(symbol);
        continue;
      }
      const v = compiled.evaluate(bars);
      if (v.kind === "match") hits.push([symbol, v.rank]);
      else if (v.kind === "insufficient_history") insufficient.push(symbol);
    }
    hits.sort((a, b) => compiled.compareRanks(a[1], b[1]));
    this.chunks++;
    this.#options.bus.publish(
      scanSubject(work.scanId, "chunk"),
      encodeScanMessage({
        scanId: work.scanId,
        chunk: work.chunk,
        worker: this.#options.id,
        hits,
        insufficient,
        unknown,
        symbols: work.symbols.length,
      }),
    );
  }
}
