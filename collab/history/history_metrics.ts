/**
 * `/history`'s Prometheus metrics (`troupe_history_*`), served on the collab server's `/metrics`
 * beside the stream gateway's: the answers given, and, for a source that keeps history in memory
 * within a bound (bus_feed_history.ts, the server without NATS), what it holds against its bound
 * and what the bound made it drop; for the feed stream's cache (history_cache.ts, the server on
 * NATS, `troupe_history_cache_*`), how its answers were given and what it holds. Each is read
 * from the owners' own plain counters when scraped, so a frame kept on the bus counts with `++`,
 * as the stream gateway's metrics are.
 */
import type { Registry } from "prom-client";
import { scrapedCounter, scrapedGauge } from "../../actors/runtime/operations/mod.ts";

/** What a history source held in memory within a bound holds and has dropped. */
export interface HistorySourceStats {
  /** Samples held now, across channels. */
  samples: number;
  /** Samples there is room for in the columns (what the bound counts). */
  capacity_samples: number;
  /** The bound on `capacity_samples`. */
  samples_max: number;
  channels: number;
  channels_max: number;
  /** Samples dropped to stay within the bound (a channel's oldest frames, an evicted channel's). */
  samples_dropped: number;
  /** Channels evicted past `channels_max` (the one fed longest ago). */
  channels_evicted: number;
  /** Messages on a feed subject that were not sample frames, not kept. */
  frames_skipped: number;
}

/** How the feed stream's cache (history_cache.ts) gave its answers, and what it holds. */
export interface HistoryCacheStats {
  /** Answers from the columns held (and the frames stored since). */
  hits: number;
  /** Answers that read a channel into the cache (a first look, or before what was held). */
  builds: number;
  /** Answers read from the stream alone: a channel with no samples, or too many to hold. */
  misses: number;
  /** Samples held now, across channels. */
  samples: number;
  /** Samples there is room for in the columns (what the bound counts). */
  capacity_samples: number;
  /** The bound on `capacity_samples`. */
  samples_max: number;
  channels: number;
}

type Key = keyof HistorySourceStats;
type CacheKey = keyof HistoryCacheStats;

const SOURCE_GAUGES: Array<[Key, string, string]> = [
  ["samples", "troupe_history_samples", "Samples held in memory for /history, across channels"],
  [
    "capacity_samples",
    "troupe_history_capacity_samples",
    "Samples there is room for in the in-memory history's columns (what its bound counts)",
  ],
  ["samples_max", "troupe_history_samples_max", "The in-memory history's bound on its columns"],
  ["channels", "troupe_history_channels", "Channels held in memory for /history"],
  ["channels_max", "troupe_history_channels_max", "The in-memory history's bound on channels"],
];

const SOURCE_COUNTERS: Array<[Key, string, string]> = [
  [
    "samples_dropped",
    "troupe_history_samples_dropped_total",
    "Samples the in-memory history dropped to stay within its bounds",
  ],
  [
    "channels_evicted",
    "troupe_history_channels_evicted_total",
    "Channels the in-memory history evicted past its channel bound (the one fed longest ago)",
  ],
  [
    "frames_skipped",
    "troupe_history_frames_skipped_total",
    "Messages on feed subjects the in-memory history skipped: not sample frames",
  ],
];

const CACHE_GAUGES: Array<[CacheKey, string, string]> = [
  ["samples", "troupe_history_cache_samples", "Samples the history cache holds, across channels"],
  [
    "capacity_samples",
    "troupe_history_cache_capacity_samples",
    "Samples there is room for in the history cache's columns (what its bound counts)",
  ],
  ["samples_max", "troupe_history_cache_samples_max", "The history cache's bound on its columns"],
  ["channels", "troupe_history_cache_channels", "Channels the history cache holds"],
];

const CACHE_COUNTERS: Array<[CacheKey, string, string]> = [
  ["hits", "troupe_history_cache_hits_total", "History answers from the cache's columns"],
  [
    "builds",
    "troupe_history_cache_builds_total",
    "History answers that read a channel from the feed stream into the cache",
  ],
  [
    "misses",
    "troupe_history_cache_misses_total",
    "History answers read from the feed stream alone (no samples, or too many to hold)",
  ],
];

/** Options of `registerHistoryMetrics()`. */
export interface HistoryMetricsOptions {
  /** Requests answered. */
  answered(): number;
  /** What an in-memory source within a bound holds and has dropped (bus_feed_history.ts). */
  source?: (() => HistorySourceStats) | undefined;
  /** How the feed stream's cache answered and what it holds (history_cache.ts). */
  cache?: (() => HistoryCacheStats) | undefined;
}

/**
 * Registers on `registry` the answers given (`answered()`), with `source` what the source holds
 * and has dropped, with `cache` how the cache answered and what it holds; each read when scraped.
 */
export function registerHistoryMetrics(registry: Registry, options: HistoryMetricsOptions): void {
  scrapedCounter(registry, {
    name: "troupe_history_queries_total",
    help: "History requests answered (GET /history and the stream socket's history op)",
    read: options.answered,
  });
  const { source, cache } = options;
  if (source) register(registry, source, SOURCE_GAUGES, SOURCE_COUNTERS);
  if (cache) register(registry, cache, CACHE_GAUGES, CACHE_COUNTERS);
}

/** Registers `gauges` and `counters`, each read from its key of `stats()` when scraped. */
function register<S extends { [K in keyof S]: number }>(
  registry: Registry,
  stats: () => S,
  gauges: Array<[keyof S, string, string]>,
  counters: Array<[keyof S, string, string]>,
): void {
  for (const [key, name, help] of gauges) {
    scrapedGauge(registry, { name, help, read: () => stats()[key] });
  }
  for (const [key, name, help] of counters) {
    scrapedCounter(registry, { name, help, read: () => stats()[key] });
  }
}
