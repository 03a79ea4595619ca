/**
 * `troupe up`'s synthetic feed: the market, with the demo's crashes (demo.ts), or the service
 * metrics, from the event time it is given (troupe up gives now, so that times look live), a
 * channel's samples batched so that the rate asked makes about twenty messages a second per
 * channel. The wall clock stays with the caller, so a seed and a start make one feed.
 */
import { createMarketFeed, createMetricsFeed, type Feed } from "./feeds/mod.ts";
import { DEMO_CRASH_RATE } from "./demo.ts";

/** What up's feed is made of. */
export interface UpFeedSettings {
  feedKind: "market" | "metrics";
  channels: number;
  /** Samples a second, over every channel. */
  rate: number;
  seed: number;
  /** The market's step per channel (the metrics feed keeps its minute). */
  intervalUs: number;
  /** The first sample's event time (now, for live-looking times), in µs since the epoch. */
  startUs: number;
}

/**
 * The synthetic feed from `startUs` on, one step per channel-share of the rate, `batch` samples
 * of a channel to a message.
 */
export function createUpFeed(o: UpFeedSettings): { feed: Feed; batch: number } {
  const batch = Math.max(1, Math.round(o.rate / o.channels / 20));
  const { startUs } = o;
  // The metrics feed keeps its minute between samples: a day of event time passes in
  // 1440 * channels / rate seconds, so its daily cycle shows.
  const feed: Feed = o.feedKind === "metrics"
    ? createMetricsFeed({ series: o.channels, seed: o.seed, batch, startUs })
    : createMarketFeed({
      symbols: o.channels,
      seed: o.seed,
      batch,
      volume: false,
      startUs,
      intervalUs: o.intervalUs,
      crashRate: DEMO_CRASH_RATE,
    });
  return { feed, batch };
}
