/**
 * A host's progress marks (protocol/progress_mark.ts): how far event time has reached on each
 * partition it owns, published every `interval_ms` on `troupe.finding.progress.<source>`, so the
 * incident stage's watermark moves with the feeds and a lone finding opens its incident without
 * waiting for another. A partition that took no input for `idle_ms` of wall time is marked idle and
 * stops holding the watermark back, as Flink's sources do (`WatermarkStrategy.withIdleness`). An
 * input's event time counts at most `ahead_ms` past the host's wall clock when it is applied: one
 * frame dated far ahead does not carry the partition's progress there (0: no bound, for a synthetic
 * feed whose event time runs faster than the clock; its marks say it is not live). Marks go out on
 * the host's bus after the outputs of the inputs they count (one connection keeps the order), so
 * the stage has every finding up to a mark before the mark; where the findings are sent until a
 * stream has them (nats_bus.ts `acknowledge`), the marks carry an id and are queued with them, not
 * sent ahead of findings still waiting. The clock is the host's, at the edge:
 * the stage folds the marks as journaled inputs and reads no clock of its own.
 */
import { type Bus, encodeProgressMark, progressSubject } from "../../../protocol/mod.ts";
import { partitionOf } from "./partition.ts";

/** How a host reports its progress. */
export interface ProgressSettings {
  /** Between two marks, ms (0: no marks). */
  interval_ms: number;
  /** A partition without input this long is idle, ms. */
  idle_ms: number;
  /**
   * An input's event time counts at most this far past the wall clock, ms, and the marks say the
   * feeds are live; 0: no bound (a synthetic feed whose event time runs faster than the clock).
   */
  ahead_ms: number;
}

/**
 * The defaults (docs/incidents.md says why): a mark every half second, so a lone finding opens
 * within the reorder bound and a second; idle after 10 s without input; a minute ahead at most.
 */
export const DEFAULT_PROGRESS: Readonly<ProgressSettings> = {
  interval_ms: 500,
  idle_ms: 10_000,
  ahead_ms: 60_000,
};

/** What a reporter is given. */
export interface ProgressReporterOptions {
  /** The source's name in its marks (the host id; a thread's adds its index). */
  source: string;
  partitions: { count: number; owned: readonly number[] };
  settings: ProgressSettings;
  /** The wall clock, ms (tests may pass their own). */
  now?: () => number;
}

/** Tracks what a host applies and publishes its marks. */
export class ProgressReporter {
  readonly #bus: Bus;
  readonly #options: ProgressReporterOptions;
  readonly #now: () => number;
  /**
   * By partition: reached µs, and the wall time (ms) of its last input. In arrays, not maps: a
   * map's number is a heap object made at every set, twice for each input a host applies.
   */
  readonly #reached: Float64Array;
  readonly #lastInputMs: Float64Array;
  /** The partitions owned, ascending. */
  readonly #owned: readonly number[];
  /** By partition: 1 where it is owned. */
  readonly #isOwned: Uint8Array;
  #timer: ReturnType<typeof setInterval> | undefined;
  #sent = 0;
  /** The wall time the reporter started, ms: a restarted host's marks are not its last run's. */
  readonly #startedMs: number;
  /** The key last told of and its partition: a channel's kinds are applied one after another. */
  #lastKey: string | undefined;
  #lastPartition = 0;

  constructor(bus: Bus, options: ProgressReporterOptions) {
    this.#bus = bus;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const { count, owned } = options.partitions;
    this.#owned = [...new Set(owned)].sort((a, b) => a - b);
    const size = Math.max(count, (this.#owned.at(-1) ?? -1) + 1);
    this.#reached = new Float64Array(size);
    this.#lastInputMs = new Float64Array(size);
    this.#isOwned = new Uint8Array(size);
    const start = this.#now();
    this.#startedMs = start;
    for (const p of this.#owned) {
      this.#isOwned[p] = 1;
      this.#lastInputMs[p] = start;
    }
  }

  /** An input of `key` at event time `ts_us` was applied. */
  applied(key: string, ts_us: number): void {
    if (!Number.isFinite(ts_us)) return;
    if (key !== this.#lastKey) {
      this.#lastPartition = partitionOf(key, this.#options.partitions.count);
      this.#lastKey = key;
    }
    const p = this.#lastPartition;
    if (this.#isOwned[p] !== 1) return;
    const now = this.#now();
    const ahead = this.#options.settings.ahead_ms;
    const bound = ahead > 0 ? (now + ahead) * 1000 : Infinity;
    this.#reached[p] = Math.max(this.#reached[p]!, Math.min(Math.trunc(ts_us), bound));
    this.#lastInputMs[p] = now;
  }

  /** Publishes a mark now. */
  publish(): void {
    const now = this.#now();
    const partitions = this.#owned.map((partition) => ({
      partition,
      reached_us: this.#reached[partition]!,
      idle: now - this.#lastInputMs[partition]! >= this.#options.settings.idle_ms,
    }));
    const src = this.#options.source;
    const meta = { id: `${src}:progress:${++this.#sent}`, src, ts: Math.trunc(now * 1000) };
    const live = this.#options.settings.ahead_ms > 0;
    // Unique across the host's runs: the findings stream drops a second message of one id.
    const msgId = `${src}:progress:${this.#startedMs}:${this.#sent}`;
    this.#bus.publish(progressSubject(src), encodeProgressMark(meta, { partitions, live }), {
      headers: { "Nats-Msg-Id": msgId },
    });
  }

  /** Publishes a mark every `interval_ms` until stopped (none when it is 0). */
  start(): void {
    if (this.#options.settings.interval_ms <= 0 || this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      try {
        this.publish();
      } catch {
        // The bus is closing: the host stops, and its marks with it.
      }
    }, this.#options.settings.interval_ms);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Publishes no more marks. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
