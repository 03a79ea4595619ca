/**
 * Synthetic and file feeds: the public surface of `sim/feeds/`. `createFeed("market" | "metrics" |
 * "csv:PATH", options)` opens a feed by the name a user types (`troupe inject --feed ...`); each
 * feed pulls one frame per channel per `next()` and labels its data with `truth()`. `inject`
 * publishes a feed to a Bus at a paced rate.
 */
import { statSync } from "node:fs";
export { patientBus, type PatientBusOptions } from "./patient_bus.ts";
export {
  ACK_GRACE_MS,
  type FeedPublisherOptions,
  feedStream,
  openFeedPublisher,
} from "./feed_publisher.ts";
import { ConfigError, describeValue } from "../../protocol/mod.ts";
import { createCsvFeed } from "./csv.ts";
export {
  CSV_LINE_BYTES_MAX,
  CSV_STDIN,
  type CsvStreamOptions,
  openCsvStream,
} from "./csv_stream.ts";
import { CSV_STDIN, openCsvStream } from "./csv_stream.ts";
import type { Feed } from "./feed.ts";
import { createMarketFeed } from "./market.ts";
import { createMetricsFeed } from "./metrics.ts";

export type * from "./feed.ts";
export { createMarketFeed, type MarketOptions, marketSymbols } from "./market.ts";
export {
  createMetricsFeed,
  METRIC_ANOMALY_KINDS,
  type MetricAnomalyKind,
  metricChannels,
  type MetricsOptions,
} from "./metrics.ts";
export {
  createCsvFeed,
  type CsvFeed,
  CsvFormatError,
  type CsvOptions,
  type CsvResult,
  type CsvRowError,
  parseCsv,
  parseTimestamp,
  readCsv,
} from "./csv.ts";
export {
  type FramePublisher,
  inject,
  type InjectOptions,
  type InjectResult,
  runId,
} from "./inject.ts";
export { type InjectDelivery, injectReport } from "./inject_report.ts";
export {
  piecewise,
  type PiecewiseChangeKind,
  type PiecewiseNoise,
  type PiecewiseOptions,
  type PiecewiseSegment,
  type PiecewiseSeries,
} from "./piecewise.ts";

/** The feed names `createFeed` knows, as a user writes them. */
export const FEED_NAMES = ["market", "metrics", "csv:PATH"] as const;

/** A parsed feed name. */
export type FeedSpec = { kind: "market" } | { kind: "metrics" } | { kind: "csv"; path: string };

/**
 * Parses a feed name: `market`, `metrics` or `csv:PATH`. Throws a ConfigError (field `feed`) that
 * names the value and lists the known feeds.
 */
export function parseFeedSpec(spec: string): FeedSpec {
  if (typeof spec !== "string") {
    throw new ConfigError("feed", `Feed must be a string, got ${describeValue(spec)}`, {
      value: spec,
    });
  }
  if (spec === "market" || spec === "metrics") return { kind: spec };
  if (spec === "csv" || spec.startsWith("csv:")) {
    const path = spec.slice(4);
    if (path === "") {
      throw new ConfigError(
        "feed",
        `Feed "${spec}" needs a file: csv:PATH, e.g. csv:data/cpu.csv`,
        {
          value: spec,
        },
      );
    }
    return { kind: "csv", path };
  }
  throw new ConfigError(
    "feed",
    `Unknown feed ${describeValue(spec)}; known feeds: ${FEED_NAMES.join(", ")}`,
    { value: spec },
  );
}

/**
 * Options of `createFeed`: the feed's own options (see MarketOptions, MetricsOptions, CsvOptions),
 * plus `channels`, the number of channels a user asks for with `--channels`: the number of symbols
 * of `market` (each symbol also has a volume channel unless `volume: false`), the number of series
 * of `metrics`. A file has its own channels, and no seed: `channels` is refused for `csv` and
 * `seed` is ignored.
 */
export type CreateFeedOptions = Record<string, unknown> & { channels?: number };

/** Opens a feed by name (see `parseFeedSpec`). Throws a ConfigError naming a bad name or option. */
export function createFeed(spec: string | FeedSpec, options: CreateFeedOptions = {}): Feed {
  const parsed = typeof spec === "string" ? parseFeedSpec(spec) : spec;
  const { channels, ...rest } = options;
  switch (parsed.kind) {
    case "market":
      return createMarketFeed(channels === undefined ? rest : { ...rest, symbols: channels });
    case "metrics":
      return createMetricsFeed(channels === undefined ? rest : { ...rest, series: channels });
    case "csv": {
      refuseChannels(channels);
      const { seed: _seed, ...csvOptions } = rest;
      return createCsvFeed(parsed.path, csvOptions);
    }
  }
}

/**
 * Opens a feed by name as `createFeed` does, and a CSV that is not a regular file (`csv:-`, the
 * standard input; a pipe or a FIFO) as a stream read as it arrives (csv_stream.ts).
 */
export async function openFeed(
  spec: string | FeedSpec,
  options: CreateFeedOptions = {},
): Promise<Feed> {
  const parsed = typeof spec === "string" ? parseFeedSpec(spec) : spec;
  if (parsed.kind !== "csv" || !isStream(parsed.path)) return createFeed(parsed, options);
  const { channels, seed: _seed, ...csvOptions } = options;
  refuseChannels(channels);
  return await openCsvStream(parsed.path, csvOptions);
}

/** A csv feed's channels come from its rows: `--channels` is refused, saying so. */
function refuseChannels(channels: number | undefined): void {
  if (channels === undefined) return;
  throw new ConfigError(
    "channels",
    `A csv feed takes its channels from the file; "channels" (${
      describeValue(channels)
    }) does not apply`,
    { value: channels },
  );
}

/** Whether a CSV path is read as a stream: `-`, or anything that is not a regular file. */
function isStream(path: string): boolean {
  if (path === CSV_STDIN) return true;
  try {
    return !statSync(path).isFile();
  } catch {
    return false; // createFeed names what is wrong with it
  }
}
