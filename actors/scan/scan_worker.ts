/**
 * A scan worker: takes chunks of symbols from the `troupe.scan.work` queue group (each chunk goes
 * to one worker of the cluster), evaluates the scan's compiled criteria on each symbol's bars held
 * on this host, and sends the chunk's results back on `troupe.scan.<scanId>.chunk`: the matches
 * with their ranks (best first), the symbols with too little history, the symbols not held here.
 * A chunk that arrives again (it timed out and was sent again) is simply scanned again: the
 * service keeps the first results of each chunk.
 */
import type { Bus, BusSubscription } from "../../protocol/mod.ts";
import { compileCriteria, type CompiledCriteria } from "../criteria/mod.ts";
import type { BarsSource } from "./bars_source.ts";
import {
  chunkSubject,
  decodeWork,
  encodeScanMessage,
  type Hit,
  WORK_QUEUE,
  WORK_SUBJECT,
  type WorkMessage,
} from "./_wire.ts";

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
}

/** A scan worker. */
export class ScanWorker {
  #options: ScanWorkerOptions;
  #sub: BusSubscription | undefined;
  #compiled = new Map<string, CompiledCriteria>();
  /** Chunks scanned (for tests and metrics). */
  chunks = 0;

  constructor(options: ScanWorkerOptions) {
    this.#options = options;
  }

  /** Joins the queue group. */
  start(): void {
    this.#sub = this.#options.bus.subscribe(WORK_SUBJECT, (msg) => {
      let work: WorkMessage;
      try {
        work = decodeWork(msg.data);
      } catch (e) {
        this.#options.onError?.(e as Error);
        return;
      }
      this.#scan(work);
    }, { queue: WORK_QUEUE });
  }

  /** Leaves the queue group. */
  stop(): void {
    this.#sub?.unsubscribe();
    this.#sub = undefined;
  }

  #criteria(work: WorkMessage): CompiledCriteria {
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

  #scan(work: WorkMessage): void {
    let compiled: CompiledCriteria;
    try {
      compiled = this.#criteria(work);
    } catch (e) {
      this.#options.onError?.(e as Error);
      return;
    }
    const hits: Hit[] = [], insufficient: string[] = [], unknown: string[] = [];
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
      chunkSubject(work.scanId),
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
