/**
 * The detectors' figures by kind of channel (`bench detect`): false anomaly events per 1,000
 * samples, and the anomaly score's tail (bench/_score_tails.ts), each per kind.
 */
import { defaultAnomalyConfig, parseAnomalyConfig } from "../actors/anomaly/mod.ts";
import type { Feed } from "../sim/mod.ts";
import type { DetectionScore } from "./_detect_score.ts";
import type { KindConfigs, ScoreSeries } from "./detect.ts";
import { probationLength } from "./_nab_scorer.ts";
import { addTail, channelTail, emptyTail, type ScoreTail } from "./_score_tails.ts";

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

/**
 * `DetectReport.anomalyTails` (bench/detect.ts) of both feeds' scores, under the anomaly
 * configuration of `over`.
 */
export function tailsOf(
  [market, metrics]: readonly [ReturnType<Feed["truth"]>, ReturnType<Feed["truth"]>],
  scores: { market: Map<string, ScoreSeries>; metrics: Map<string, ScoreSeries> },
  over: KindConfigs,
): { byKind: Record<string, ScoreTail>; fullScoreBits: number } {
  const config = parseAnomalyConfig(over.anomaly ?? {}, defaultAnomalyConfig, "anomaly");
  return {
    byKind: {
      ...tailsByKind(market, scores.market, true),
      ...tailsByKind(metrics, scores.metrics, false),
    },
    fullScoreBits: config.full_score_bits,
  };
}

/**
 * The score's tail per kind of channel of one feed, after the probation
 * (bench/_score_tails.ts).
 */
function tailsByKind(
  truth: ReturnType<Feed["truth"]>,
  scores: Map<string, ScoreSeries>,
  market: boolean,
): Record<string, ScoreTail> {
  const interval = Number(truth.options.intervalUs);
  const scoredFrom = (truth.startUs ?? 0) + probationLength(truth.samples) * interval;
  const out: Record<string, ScoreTail> = {};
  for (const c of truth.channels) {
    const series = scores.get(c);
    if (!series) continue;
    const windows = truth.anomalies.filter((a) => a.channel === c);
    addTail(
      out[channelKind(c, market)] ??= emptyTail(),
      channelTail(series, { windows, scoredFrom }),
    );
  }
  return out;
}
