/**
 * The detectors' figures by kind of channel (`bench detect`): false anomaly events per 1,000
 * samples, and the anomaly score's tail (bench/_score_tails.ts), each per kind.
 */
import { defaultAnomalyConfig, parseAnomalyConfig } from "../actors/anomaly/mod.ts";
import type { Feed } from "../sim/mod.ts";
import type { DetectionScore } from "./_detect_score.ts";
import { probationLength } from "./_nab_scorer.ts";
import { addTail, channelTail, emptyTail, type ScoreTail } from "./_score_tails.ts";

/** The kinds `bench detect` runs. */
export const KINDS = ["anomaly", "collapse", "coherence"] as const;

/** Configurations per kind, over each kind's defaults. */
export type KindConfigs = Partial<Record<(typeof KINDS)[number], unknown>>;

/** A channel's published anomaly scores and their times, kept for `--tails`. */
export interface ScoreSeries {
  t: number[];
  score: number[];
}

/**
 * The kind of a channel: `price` on the market feed, the metric (after the last "-") on metrics.
 */
function channelKind(channel: string, market: boolean): string {
  return market ? "price" : channel.slice(channel.lastIndexOf("-") + 1);
}

/** "kind rate, ..." of per-kind false anomaly events per 1,000 samples, and their max over min. */
export function describeKinds(byKind: Record<string, number>): string {
  const rates = Object.values(byKind);
  const min = Math.min(...rates), max = Math.max(...rates);
  return `${Object.entries(byKind).map(([k, r]) => `${k} ${r.toFixed(4)}`).join(", ")}; max / min ${
    min > 0 ? (max / min).toFixed(1) : "inf"
  }`;
}

/**
 * False anomaly events per 1,000 samples scored after the probation, per kind of channel of a
 * feed.
 */
export function falsePerKiloByKind(
  score: DetectionScore,
  truth: ReturnType<Feed["truth"]>,
  market: boolean,
): Record<string, number> {
  const kilo = (truth.samples - probationLength(truth.samples)) / 1000;
  const n: Record<string, number> = {}, fp: Record<string, number> = {};
  for (const c of truth.channels) {
    const kind = channelKind(c, market);
    n[kind] = (n[kind] ?? 0) + 1;
    fp[kind] = (fp[kind] ?? 0) + (score.falseByChannel?.[c] ?? 0);
  }
  const out: Record<string, number> = {};
  for (const kind of Object.keys(n)) out[kind] = fp[kind]! / (n[kind]! * kilo);
  return out;
}

/** `DetectReport.anomalyTails`: the score's tail per kind of channel, whole and at equal age. */
export interface KindTails {
  /** Per kind, over every sample scored after the probation. */
  byKind: Record<string, ScoreTail>;
  /**
   * When the feeds' channels differ in length: per kind, over each channel's first
   * `equalAgeSamples` samples only (the shorter feed's length), so every kind is measured at the
   * same age: a novelty's false rises come mostly early in a channel's life, and a per-1,000 rate
   * over longer channels is lower for that alone.
   */
  byKindEqualAge?: Record<string, ScoreTail>;
  /** The samples per channel `byKindEqualAge` counts. */
  equalAgeSamples?: number;
  /** The bits of a full score, by which a threshold promises its rate. */
  fullScoreBits: number;
}

/**
 * `DetectReport.anomalyTails` (bench/detect.ts) of both feeds' scores, under the anomaly
 * configuration of `over`.
 */
export function tailsOf(
  [market, metrics]: readonly [ReturnType<Feed["truth"]>, ReturnType<Feed["truth"]>],
  scores: { market: Map<string, ScoreSeries>; metrics: Map<string, ScoreSeries> },
  over: KindConfigs,
): KindTails {
  const config = parseAnomalyConfig(over.anomaly ?? {}, defaultAnomalyConfig, "anomaly");
  const out: KindTails = {
    byKind: {
      ...tailsByKind(market, scores.market, { market: true }),
      ...tailsByKind(metrics, scores.metrics, { market: false }),
    },
    fullScoreBits: config.full_score_bits,
  };
  if (market.samples !== metrics.samples) {
    const firstSamples = Math.min(market.samples, metrics.samples);
    out.byKindEqualAge = {
      ...tailsByKind(market, scores.market, { market: true, firstSamples }),
      ...tailsByKind(metrics, scores.metrics, { market: false, firstSamples }),
    };
    out.equalAgeSamples = firstSamples;
  }
  return out;
}

/**
 * The score's tail per kind of channel of one feed, after the probation (bench/_score_tails.ts),
 * over each channel's first `firstSamples` samples when given.
 */
function tailsByKind(
  truth: ReturnType<Feed["truth"]>,
  scores: Map<string, ScoreSeries>,
  options: { market: boolean; firstSamples?: number },
): Record<string, ScoreTail> {
  const interval = Number(truth.options.intervalUs);
  const start = truth.startUs ?? 0;
  const scoredFrom = start + probationLength(truth.samples) * interval;
  const scoredTo = options.firstSamples === undefined
    ? Infinity
    : start + options.firstSamples * interval;
  const out: Record<string, ScoreTail> = {};
  for (const c of truth.channels) {
    const series = scores.get(c);
    if (!series) continue;
    const windows = truth.anomalies.filter((a) => a.channel === c);
    addTail(
      out[channelKind(c, options.market)] ??= emptyTail(),
      channelTail(series, { windows, scoredFrom, scoredTo }),
    );
  }
  return out;
}
