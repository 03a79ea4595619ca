/**
 * `/history`'s Prometheus metrics (`troupe_history_*`), served on the collab server's `/metrics`
 * beside the stream gateway's: the answers given, and, for a source that keeps history in memory
 * within a bound (bus_feed_history.ts, the server without NATS), what it holds against its bound
 * and what the bound made it drop. Each is read from the owners' own plain counters when scraped,
 * so a frame kept on the bus counts with `++`, as the stream gateway's metrics are.
 */
import type { Registry } from "prom-client";
import { scrapedCounter, scrapedGauge } from "../actors/runtime/http/mod.ts";

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

type Key = keyof HistorySourceStats;

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

/**
 * Registers on `registry` the answers given (`answered()`) and, with `source`, what the source
 * holds and has dropped; each read when scraped.
 */
export function registerHistoryMetrics(
  registry: Registry,
  options: { answered(): number; source?: (() => HistorySourceStats) | undefined },
): void {
  scrapedCounter(registry, {
    name: "troupe_history_queries_total",
    help: "History requests answered (GET /history and the stream socket's history op)",
    read: options.answered,
  });
  const source = options.source;
  if (source === undefined) return;
  for (const [key, name, help] of SOURCE_GAUGES) {
    scrapedGauge(registry, { name, help, read: () => source()[key] });
  }
  for (const [key, name, help] of SOURCE_COUNTERS) {
    scrapedCounter(registry, { name, help, read: () => source()[key] });
  }
}
