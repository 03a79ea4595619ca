/**
 * One scan as the service runs it: its machine, its journal stream, its numbered results and its
 * subscribers, and which chunks are out with the workers. Every change goes through `record`:
 * journaled first (appends of one scan in order), then applied, the same way on recovery.
 */
import { type Actor, createActor } from "xstate";
import {
  encodeScanMessage,
  encodeScanResultsBatch,
  encodeValue,
  type ScanChunk,
  type ScanDefinition,
  type ScanRecord,
  type ScanResult,
  type ScanStats,
} from "../../protocol/mod.ts";
import type { Journal } from "../runtime/mod.ts";
import { type ScanContext, type ScanEvent, scanMachine } from "./scan_machine.ts";
import type { ScanListener } from "./scan_results.ts";

/** What a ScanRun needs from its service. */
export interface ScanRunOptions {
  scanId: string;
  def: ScanDefinition;
  chunks: string[][];
  /** Its journal, or the journal being opened (records wait for it, in order). */
  journal: Journal | Promise<Journal>;
  inflightMax: number;
  /** Sends chunk `chunk`'s work message (encoded). */
  send(work: Uint8Array, chunk: number): void;
  /** Partitions that did not say their symbols at admission (a partitioned cluster). */
  missing?: number[];
  /** Publishes a chunk's new results (a ScanResultsBatch, encoded). */
  publishResults(data: Uint8Array): void;
  now(): number;
  stats(run: ScanRun): ScanStats;
  /** Called once when the scan ends (live or on recovery), after its last result. */
  ended?(run: ScanRun): void;
}

/** The key of the def record's chunks, encoded. */
const DEF_CHUNKS_KEY = encodeValue("chunks");

interface Subscriber {
  listener: ScanListener;
  /** The last sequence number it was given. */
  at: number;
}

/** One scan. */
export class ScanRun {
  readonly scanId: string;
  readonly def: ScanDefinition;
  readonly chunks: string[][];
  /** Partitions not scanned: they did not say their symbols at admission. */
  readonly missing: number[];
  readonly actor: Actor<typeof scanMachine>;
  /** Results in sequence order: results[i] has seq i + 1. */
  readonly results: ScanResult[] = [];
  #options: ScanRunOptions;
  #subscribers = new Set<Subscriber>();
  /** Chunk index → when it was last sent (ms), for chunks out with the workers. */
  #inflight = new Map<number, { at: number; attempt: number }>();
  /** The next chunk, in priority order, not yet sent. */
  #next = 0;
  #journal: Promise<Journal>;
  #tail: Promise<unknown>;
  /** Chunk results dropped as copies of results already in, or come after the end. */
  dropped = 0;
  /** Applying its journal's records on recovery (`recover`): nothing is published. */
  #recovering = false;

  constructor(options: ScanRunOptions) {
    this.#options = options;
    this.scanId = options.scanId;
    this.def = options.def;
    this.chunks = options.chunks;
    this.missing = options.missing ?? [];
    this.#journal = Promise.resolve(options.journal);
    this.#tail = this.#journal.catch(() => {});
    this.actor = createActor(scanMachine, {
      input: {
        scanId: options.scanId,
        chunks: options.chunks.length,
        symbols: options.chunks.reduce((n, c) => n + c.length, 0),
        max_signals: options.def.max_signals,
      },
    });
    this.actor.start();
  }

  /** Its live statistics; `nowUs` (µs) ends the elapsed time of a scan not ended. */
  stats(nowUs: number): ScanStats {
    const c = this.context;
    const state = this.state;
    const endUs = c.ended_ts ?? nowUs;
    const elapsed = c.started_ts === null ? 0 : (endUs - c.started_ts) / 1000;
    const rate = elapsed > 0 ? (c.symbols_done * 1000) / elapsed : 0;
    const left = c.symbols - c.symbols_done;
    return {
      scanId: this.scanId,
      state,
      stop_reason: c.stop_reason,
      symbols_total: c.symbols,
      symbols_done: c.symbols_done,
      chunks_total: c.chunks,
      chunks_done: c.chunks_done,
      signals: c.signals,
      insufficient_history: c.insufficient,
      unknown_symbols: c.unknown,
      elapsed_ms: elapsed,
      first_result_ms: c.first_result_ts === null || c.started_ts === null
        ? null
        : (c.first_result_ts - c.started_ts) / 1000,
      symbols_per_s: rate,
      eta_ms: state === "running" && rate > 0 ? (left / rate) * 1000 : null,
      error: c.error,
      partitions_missing: this.missing,
    };
  }

  get context(): ScanContext {
    return this.actor.getSnapshot().context;
  }

  get state(): ScanStats["state"] {
    const v = this.actor.getSnapshot().value;
    return (v === "counted" ? "running" : v) as ScanStats["state"];
  }

  get running(): boolean {
    return this.state === "running";
  }

  get ended(): boolean {
    return this.actor.getSnapshot().status === "done";
  }

  /** Whether results of `chunk` would be taken now. */
  accepts(chunk: number): boolean {
    return this.running && chunk < this.chunks.length && this.context.done[chunk] === 0;
  }

  /** Journals a record (after those before it), then applies it. */
  record(r: ScanRecord): Promise<void> {
    const append = async () => {
      // Decided here, after the records before it are applied: a copy of a chunk that raced the
      // first, a stop of a scan already stopping, max_signals over two chunks in flight.
      if (r.k === "chunk") {
        if (!this.accepts(r.chunk)) {
          this.dropped++;
          return;
        }
        const max = this.def.max_signals;
        if (max !== null) {
          r = { ...r, hits: r.hits.slice(0, Math.max(0, max - this.context.signals)) };
        }
      }
      if (r.k === "stop" && !this.running) return;
      if (r.k === "drained" && this.state !== "stopping") return;
      await (await this.#journal).append(`scan/${this.scanId}`, encodeScanMessage(r));
      this.apply(r);
    };
    const p = this.#tail.then(append);
    this.#tail = p.catch(() => {});
    return p;
  }

  /**
   * Journals the definition record, `{ k: "def", scanId, def, ts, [missing,] chunks }`, with the
   * chunks
   * given already encoded (`encodeValue(this.chunks)`: a universe of 10,000 symbols is encoded
   * once per order, not once per scan), then, once that is in, the start, and applies the start.
   */
  recordStart(def: ScanDefinition, chunks: Uint8Array, ts: number): Promise<void> {
    const missing = this.missing.length > 0 ? { missing: this.missing } : {};
    const head = encodeValue({ k: "def", scanId: this.scanId, def, ts, ...missing });
    // A msgpack map of n < 15 entries (fixmap 0x80 + n) becomes one of n + 1 with the chunks.
    if ((head[0]! & 0xf0) !== 0x80 || (head[0]! & 0x0f) === 0x0f) {
      throw new Error(`scan ${this.scanId}: def record head is not a small fixmap`);
    }
    head[0]!++;
    const parts = [head, DEF_CHUNKS_KEY, chunks];
    const start: ScanRecord = { k: "start", ts };
    const p = this.#tail.then(async () => {
      const journal = await this.#journal;
      await journal.append(`scan/${this.scanId}`, parts);
      await journal.append(`scan/${this.scanId}`, encodeScanMessage(start));
      this.apply(start);
    });
    this.#tail = p.catch(() => {});
    return p;
  }

  /** Resolves once the records asked for so far are journaled (or refused). */
  idle(): Promise<void> {
    return this.#tail.then(() => {});
  }

  /**
   * Applies the records of its journal, on recovery: as live, but its results are not published
   * again (each was published when first journaled; a restart re-announcing every result of every
   * scan kept showed them to the findings' readers as new, stamped with the restart's time).
   * Subscribers get them from `subscribe`, numbered as before.
   */
  recover(records: readonly ScanRecord[]): void {
    this.#recovering = true;
    try {
      for (const r of records) this.apply(r);
    } finally {
      this.#recovering = false;
    }
  }

  /** Applies a journaled record: live after `record`, or on recovery. */
  apply(r: ScanRecord): void {
    const was = this.ended;
    switch (r.k) {
      case "def":
        return;
      case "start":
        this.#send({ type: "start", ts: r.ts });
        break;
      case "chunk": {
        if (!this.accepts(r.chunk)) return;
        this.#inflight.delete(r.chunk);
        const fresh: ScanResult[] = r.hits.map(([symbol, rank]) => ({
          seq: 0,
          symbol,
          rank,
          chunk: r.chunk,
        }));
        fresh.forEach((x, i) => (x.seq = this.results.length + i + 1));
        this.results.push(...fresh);
        this.#send({
          type: "chunk",
          chunk: r.chunk,
          symbols: r.symbols,
          signals: r.hits.length,
          insufficient: r.insufficient.length,
          unknown: r.unknown.length,
          ts: r.ts,
        });
        for (const s of this.#subscribers) this.#catchUp(s);
        if (fresh.length > 0 && !this.#recovering) {
          this.#options.publishResults(encodeScanResultsBatch(fresh));
        }
        break;
      }
      case "stop":
        this.#send({ type: "stop", reason: r.reason, ts: r.ts });
        break;
      case "drained":
        this.#send({ type: "drained", ts: r.ts });
        this.#inflight.clear();
        break;
      case "fail":
        this.#send({ type: "fail", error: r.error, ts: r.ts });
        break;
    }
    if (!was && this.ended) {
      this.#options.ended?.(this);
      this.endAll(this.#options.stats(this));
    }
  }

  /** Journals the results of a chunk (capped at what max_signals leaves), then sends more. */
  async chunkDone(m: ScanChunk, ts: number): Promise<void> {
    await this.record({
      k: "chunk",
      chunk: m.chunk,
      hits: m.hits,
      insufficient: m.insufficient,
      unknown: m.unknown,
      symbols: m.symbols,
      ts,
    });
    if (this.state === "stopping") await this.record({ k: "drained", ts });
    else this.dispatch();
  }

  /** Stops the scan: nothing more is taken. */
  async stop(reason: "timeout" | "requested", ts: number): Promise<void> {
    await this.record({ k: "stop", reason, ts });
    await this.record({ k: "drained", ts });
  }

  /**
   * Sends chunks, in priority order, up to the in-flight bound, which starts at 1 and doubles with
   * each chunk back: the first chunk's results are not queued behind seven more chunks' work.
   */
  dispatch(): void {
    if (!this.running) return;
    const done = this.context.done;
    const window = Math.min(this.#options.inflightMax, 2 ** Math.min(this.context.chunks_done, 30));
    while (this.#inflight.size < window && this.#next < this.chunks.length) {
      const chunk = this.#next++;
      if (done[chunk] === 0) this.#sendChunk(chunk, 0);
    }
  }

  /** Sends again the chunks out since before `before` (ms). */
  resendLate(before: number): void {
    for (const [chunk, { at, attempt }] of this.#inflight) {
      if (at < before) this.#sendChunk(chunk, attempt + 1);
    }
  }

  #sendChunk(chunk: number, attempt: number): void {
    this.#inflight.set(chunk, { at: this.#options.now(), attempt });
    this.#options.send(
      encodeScanMessage({
        scanId: this.scanId,
        chunk,
        attempt,
        symbols: this.chunks[chunk]!,
        def: this.def,
      }),
      chunk,
    );
  }

  #send(event: ScanEvent): void {
    this.actor.send(event);
  }

  subscribe(after: number, listener: ScanListener, stats: () => ScanStats): () => void {
    const s: Subscriber = { listener, at: Math.max(0, Math.min(after, this.results.length)) };
    this.#catchUp(s);
    if (this.ended) {
      listener.end(stats());
      return () => {};
    }
    this.#subscribers.add(s);
    return () => this.#subscribers.delete(s);
  }

  /** Subscribers now listening. */
  get subscribers(): number {
    return this.#subscribers.size;
  }

  /** Tells every subscriber the scan ended, and drops them. */
  endAll(stats: ScanStats): void {
    for (const s of this.#subscribers) s.listener.end(stats);
    this.#subscribers.clear();
  }

  #catchUp(s: Subscriber): void {
    while (s.at < this.results.length) s.listener.result(this.results[s.at++]!);
  }
}
