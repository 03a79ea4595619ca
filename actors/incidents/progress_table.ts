/**
 * What the incident stage knows of the feeds' progress: per source (a host, or a host's thread) the
 * partitions it runs, how far event time has reached on each and whether each is idle, from the
 * source's latest progress mark (protocol/progress_mark.ts). The watermark may move to the least a
 * partition still taking inputs has reached: nothing published later can be older, as a source's
 * marks follow its findings on one connection (Flink's watermark over its input channels, an idle
 * one skipped, as `WatermarkStrategy.withIdleness` marks it). When every partition is idle every
 * input has been applied and its findings taken: the watermark may move to the most reached,
 * without the reorder bound. When every source's feeds are live (event time near the wall clock),
 * the newest mark's wall clock bounds how far ahead a finding may be. A source whose marks stop (a
 * host that died) counts for nothing once the newest mark of any source is `silent_us` past its
 * own, by the sources' wall clocks carried in the marks, so the table stays a pure fold of the
 * marks it took (journaled, recorded).
 */
import type { ProgressMark } from "../../protocol/mod.ts";

/**
 * One source's latest mark: its wall time, µs, per partition [reached µs, idle], and whether its
 * feeds are live (bounded by its wall clock).
 */
interface SourceProgress {
  wall_us: number;
  partitions: Array<[number, number, boolean]>;
  live: boolean;
}

/** The table as saved: per source, its wall time, partitions and liveness. */
export type SavedProgress = Array<[string, number, Array<[number, number, boolean]>, boolean]>;

/** Sources one table keeps, at most (beyond it the one heard from longest ago goes). */
export const PROGRESS_SOURCES_MAX = 1024;

/** Where the watermark may move: a time, µs, and whether every partition is idle. */
export interface FeedProgress {
  us: number;
  settled: boolean;
}

/** The feeds' progress, from their marks. */
export class ProgressTable {
  readonly #silentUs: number;
  readonly #sources = new Map<string, SourceProgress>();
  #newestWallUs = -Infinity;

  /** `silent_us`: how long after the newest mark a source whose marks stopped still counts. */
  constructor(silent_us: number) {
    this.#silentUs = silent_us;
  }

  /** Whether it holds any mark. */
  get empty(): boolean {
    return this.#sources.size === 0;
  }

  /** Takes `src`'s mark sent at its wall time `wall_us`: it replaces the source's last. */
  take(src: string, wall_us: number, mark: ProgressMark): void {
    this.#sources.delete(src); // re-inserted: the map's order is the order heard from
    this.#sources.set(src, {
      wall_us,
      partitions: mark.partitions.map((p) => [p.partition, p.reached_us, p.idle]),
      live: mark.live,
    });
    if (this.#sources.size > PROGRESS_SOURCES_MAX) {
      this.#sources.delete(this.#sources.keys().next().value!);
    }
    this.#newestWallUs = Math.max(this.#newestWallUs, wall_us);
  }

  /** How far the feeds have brought event time (`us` is -Infinity when no source counts). */
  progress(): FeedProgress {
    let least = Infinity, most = -Infinity;
    for (const s of this.#live()) {
      for (const [, reached, idle] of s.partitions) {
        most = Math.max(most, reached);
        if (!idle) least = Math.min(least, reached);
      }
    }
    return least < Infinity ? { us: least, settled: false } : { us: most, settled: most > 0 };
  }

  /**
   * The wall clock of the newest mark when every counting source is live (a finding further than
   * a bound past it is ahead of every feed), else Infinity (a synthetic feed may run ahead of the
   * clock), or -Infinity with no source.
   */
  liveWallUs(): number {
    let newest = -Infinity;
    for (const s of this.#live()) {
      if (!s.live) return Infinity;
      newest = Math.max(newest, s.wall_us);
    }
    return newest;
  }

  /** Its state, to save. */
  saved(): SavedProgress {
    return [...this.#sources].map((
      [src, s],
    ) => [src, s.wall_us, s.partitions.map((p) => [...p]), s.live]);
  }

  /** Takes a saved state in place of its own. */
  restore(saved: SavedProgress): void {
    this.#sources.clear();
    this.#newestWallUs = -Infinity;
    for (const [src, wall_us, partitions, live] of saved) {
      this.#sources.set(src, {
        wall_us,
        partitions: partitions.map((p) => [p[0], p[1], p[2]]),
        live: live === true,
      });
      this.#newestWallUs = Math.max(this.#newestWallUs, wall_us);
    }
  }

  *#live(): Iterable<SourceProgress> {
    for (const s of this.#sources.values()) {
      if (s.wall_us >= this.#newestWallUs - this.#silentUs) yield s;
    }
  }
}
